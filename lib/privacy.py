"""No data leaves the machine: library telemetry is switched off before any library can start it.

OpenVINO's model conversion and NNCF report usage through ``openvino_telemetry``, which sends events when no
consent file exists yet (``~/intel/openvino_telemetry``) — 13 to 18 connection attempts per quantization were
seen. Its own opt-out command sends an "opted out" event, so instead the consent check is answered "declined"
in this process, before OpenVINO or NNCF create their telemetry objects. ``import lib`` does this, so every
notebook, CLI and test of the project runs with telemetry off. Hugging Face Hub (a dependency of timm) is
kept offline: models are never downloaded.
"""

from __future__ import annotations

import importlib.util
import os

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}
"""Environment switches honoured by libraries in this environment (set unless the user set them)."""


def disable_telemetry() -> bool:
    """Answer OpenVINO's telemetry consent check with "declined" in this process; True if it was installed.

    Must run before ``openvino`` or ``nncf`` is imported: both create their telemetry object at import.
    """
    for key, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    if importlib.util.find_spec("openvino_telemetry") is None:
        return False
    from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker

    def declined(self: OptInChecker, enable_opt_in_dialog: bool = False, disable_in_ci: bool = False):
        return ConsentCheckResult.DECLINED

    OptInChecker.check = declined
    return True
