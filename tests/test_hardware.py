"""Preflight: each missing piece (kernel, device, bf16, IPEX) is named with how to get it; availability is faked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from lib import hardware
from lib.hardware import KernelInfo, preflight
from lib.profiles import load_profile

CPU_TORCH = {"torch": "2.14.1", "torch_cuda": None, "cuda_devices": 0, "cuda_names": [], "cuda_bf16": False,
             "xpu_built": True, "xpu_devices": 0}


def fake(monkeypatch: pytest.MonkeyPatch, kernels: dict[str, str | None], seen: dict[str, Any],
         bf16: bool = False) -> list[tuple[str, bool]]:
    probes: list[tuple[str, bool]] = []

    def find_kernel(name: str) -> KernelInfo:
        return KernelInfo(name, kernels.get(name, sys.executable if not name else None), "looked in /k")

    def probe(python: str, want_ipex: bool = False, timeout: float = 0) -> dict[str, Any]:
        probes.append((python, want_ipex))
        return dict(seen)

    monkeypatch.setattr(hardware, "find_kernel", find_kernel)
    monkeypatch.setattr(hardware, "probe", probe)
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: bf16)
    return probes


def test_cpu_profiles_pass_on_a_plain_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, {}, CPU_TORCH)
    assert preflight(load_profile("smoke")) == []
    assert preflight(load_profile("cpu-fp32")) == []


def test_cuda_without_a_gpu_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, {}, CPU_TORCH)
    [problem] = preflight(load_profile("cuda"))
    assert "sees no CUDA device" in problem and "a CPU-only build" in problem and "NVIDIA GPU" in problem


def test_cuda_with_a_gpu_passes_and_checks_index_and_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    gpu = CPU_TORCH | {"torch_cuda": "12.8", "cuda_devices": 1, "cuda_names": ["Tesla T4"], "cuda_bf16": True}
    fake(monkeypatch, {}, gpu)
    assert preflight(load_profile("cuda")) == []
    assert "sees 1 CUDA device(s)" in preflight(load_profile("cuda", {"device": "cuda:1"}))[0]
    fake(monkeypatch, {}, gpu | {"cuda_bf16": False})
    assert "Tesla T4 has no bf16" in preflight(load_profile("cuda"))[0]


def test_xpu_missing_support_or_device(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, {}, CPU_TORCH | {"xpu_built": False})
    assert "has no XPU support" in preflight(load_profile("xpu"))[0]
    fake(monkeypatch, {}, CPU_TORCH)
    assert "sees no Intel GPU" in preflight(load_profile("xpu"))[0]
    fake(monkeypatch, {}, CPU_TORCH | {"xpu_devices": 1})
    assert preflight(load_profile("xpu")) == []


def test_missing_ipex_kernel_says_make_env_ipex(monkeypatch: pytest.MonkeyPatch) -> None:
    probes = fake(monkeypatch, {}, CPU_TORCH)
    [problem] = preflight(load_profile("ipex"))
    assert "'edge-vision-ipex', which is not installed" in problem and "run `make env-ipex`" in problem
    assert probes == []  # nothing to probe without a kernel


def test_ipex_kernel_present_is_probed_for_ipex(monkeypatch: pytest.MonkeyPatch) -> None:
    probes = fake(monkeypatch, {"edge-vision-ipex": "/venv-ipex/bin/python"}, CPU_TORCH | {"ipex": "2.8.0"})
    assert preflight(load_profile("ipex")) == []
    assert probes == [("/venv-ipex/bin/python", True)]
    fake(monkeypatch, {"edge-vision-ipex": "/venv-ipex/bin/python"}, CPU_TORCH | {"ipex_error": "ERROR! torch 2.14"})
    [problem] = preflight(load_profile("ipex"))
    assert "does not import" in problem and "ERROR! torch 2.14" in problem and "make env-ipex" in problem


def test_kernel_that_does_not_start_or_lacks_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, {"edge-vision-ipex": "/gone/python"}, {"probe_error": "FileNotFoundError"})
    assert "does not run: FileNotFoundError" in preflight(load_profile("ipex"))[0]
    fake(monkeypatch, {}, {"torch_error": "ModuleNotFoundError: torch"})
    assert "torch does not import" in preflight(load_profile("smoke"))[0]


def test_bf16_training_on_a_cpu_without_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, {}, CPU_TORCH, bf16=False)
    assert "no native bf16" in preflight(load_profile("smoke", {"train": {"precision": "bf16"}}))[0]
    fake(monkeypatch, {}, CPU_TORCH, bf16=True)
    assert preflight(load_profile("smoke", {"train": {"precision": "bf16"}})) == []
    assert "is for CUDA" in preflight(load_profile("smoke", {"train": {"precision": "amp"}}))[0]


def test_kernel_argument_overrides_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    probes = fake(monkeypatch, {"other": "/other/python"}, CPU_TORCH)
    assert preflight(load_profile("smoke"), kernel="other") == []
    assert probes == [("/other/python", False)]


def test_probe_of_this_interpreter_and_of_a_missing_one() -> None:
    seen = hardware.probe(sys.executable)
    assert seen["torch"] and "cuda_devices" in seen
    assert "probe_error" in hardware.probe("/nonexistent/python")


def test_another_virtual_environment_is_not_this_interpreter(tmp_path: Path) -> None:
    """A second venv's python links to the same base interpreter; it is still another torch, to be asked."""
    other = tmp_path / "other-venv" / "bin"
    other.mkdir(parents=True)
    (other / "python").symlink_to(Path(sys.executable).resolve())
    assert hardware.is_this_interpreter(sys.executable)
    assert not hardware.is_this_interpreter(str(other / "python"))


def test_kernel_names_are_validated() -> None:
    assert load_profile("ipex").kernel == "edge-vision-ipex" and load_profile("cpu").kernel == ""
    with pytest.raises(ValueError, match="not a Jupyter kernel name"):
        load_profile("smoke", {"kernel": "bad name!"})
    with pytest.raises(ValueError, match="train.ipex needs device cpu or xpu"):
        load_profile("smoke", {"device": "cuda", "train": {"ipex": True}})


def test_hardware_profiles_compose_from_cpu() -> None:
    cpu, fp32, ipex = load_profile("cpu"), load_profile("cpu-fp32"), load_profile("ipex")
    assert fp32.train.precision == "fp32" and not any("bf16" in b for b in fp32.quant.all_backends())
    assert not any("bf16" in m for m in fp32.train_speed.modes)
    assert ipex.train.ipex and {"ipex-bf16", "ipex-int8", "fp32", "ort-int8"} <= set(ipex.quant.backends)
    assert fp32.train.models == cpu.train.models == ipex.train.models
    assert load_profile("cuda").device == "cuda" and load_profile("xpu").device == "xpu"
