"""Edge Vision Notebooks: shared code for data, models, metrics and benchmarks."""

from lib.privacy import disable_telemetry

__version__ = "0.1.0"

# Before any submodule can import OpenVINO or NNCF: no usage data leaves the machine (lib/privacy.py).
disable_telemetry()
