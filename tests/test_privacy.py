"""No data leaves the machine: OpenVINO and NNCF paths run with sockets blocked and attempt no connection.

Each case runs in a fresh interpreter without pytest imported (NNCF silences its telemetry when it sees
pytest, which would hide the problem) and with an empty home folder (no consent file from earlier use).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GUARD = r"""
import json, os, socket, sys, threading
def _blocked(name):
    def refuse(*args, **kwargs):
        # appended to a file: telemetry sends from forked processes, whose memory the parent never sees
        with open(os.environ["ATTEMPTS_FILE"], "a") as log:
            log.write(json.dumps([name, repr(args[1:] if name.startswith("socket.") else args)[:120]]) + "\n")
        raise OSError(f"network blocked by the test: {name}")
    return refuse
socket.socket.connect = _blocked("socket.connect")
socket.socket.connect_ex = _blocked("socket.connect_ex")
socket.getaddrinfo = _blocked("getaddrinfo")
socket.create_connection = _blocked("create_connection")
def report():
    for thread in threading.enumerate():  # telemetry sends from background threads
        if thread is not threading.main_thread():
            thread.join(timeout=5)
    import multiprocessing
    for child in multiprocessing.active_children():
        child.join(timeout=5)
"""

QUANTIZE_WITH_LIB = """
import torch
from torch import nn
import lib
from lib.quant import quantize
model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1)).eval()
calib = [torch.randn(1, 3, 32, 32) for _ in range(2)]
for backend in ("ov-fp32", "ov-int8"):
    quantize(model, backend, calib, input_size=(32, 32))(torch.randn(1, 3, 32, 32))
report()
"""

QUANTIZE_WITHOUT_LIB = """
import torch, nncf, openvino as ov
from torch import nn
model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()).eval()
ir = ov.convert_model(model, example_input=torch.randn(1, 3, 32, 32))
nncf.quantize(ir, nncf.Dataset([torch.randn(1, 3, 32, 32).numpy() for _ in range(2)]), subset_size=2)
report()
"""


def _attempts(script: str, home: Path) -> list[list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NNCF_CI", "NNCF_DEV")}
    log = home / "attempts.jsonl"
    env.update(HOME=str(home), OMP_NUM_THREADS="1", ATTEMPTS_FILE=str(log))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(GUARD) + script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


@pytest.mark.skipif(sys.platform != "linux", reason="the socket guard is written for Linux")
def test_openvino_and_nncf_paths_make_no_network_call(tmp_path: Path) -> None:
    assert _attempts(QUANTIZE_WITH_LIB, tmp_path) == []
    assert not (tmp_path / "intel").exists() or not any((tmp_path / "intel").rglob("*cid*"))


@pytest.mark.skipif(sys.platform != "linux", reason="the socket guard is written for Linux")
def test_the_guard_sees_telemetry_when_it_is_left_on(tmp_path: Path) -> None:
    # Without lib's opt-out the same libraries do try to reach their telemetry endpoint: the test above can fail.
    assert _attempts(QUANTIZE_WITHOUT_LIB, tmp_path) != []


SETTINGS = Path(__file__).resolve().parents[1] / "notebooks" / "lab-settings"


def test_shipped_jupyterlab_settings_turn_news_and_update_checks_off() -> None:
    overrides = json.loads((SETTINGS / "overrides.json").read_text())["@jupyterlab/apputils-extension:notification"]
    assert overrides == {"checkForUpdates": False, "fetchNews": "false"}


def test_jupyterlab_started_with_the_project_config_fetches_no_news(tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = os.urandom(8).hex()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--config={SETTINGS / 'jupyter_lab_config.json'}",
         f"--notebook-dir={tmp_path}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=os.environ | {"JUPYTER_RUNTIME_DIR": str(tmp_path)})
    try:
        page = ""
        for _ in range(60):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert '"news": {"disabled": true}' in page
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[1]
    assert "Extension Manager is 'readonly'" in log
