"""What this machine is: CPU, ISA extensions, torch build and which inference backends import."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
from pathlib import Path

import torch

# cpuinfo flag → what it buys a vision model. VNNI and AMX are what make INT8 fast; AVX512-BF16
# and AMX-BF16 make BF16 fast. Lists are "any of": Linux names the same feature differently on
# some kernels.
ISA_FLAGS: dict[str, tuple[str, ...]] = {
    "AVX2": ("avx2",),
    "AVX-512F": ("avx512f",),
    "AVX-512 VNNI": ("avx512_vnni", "avx512vnni"),
    "AVX-VNNI": ("avx_vnni",),
    "AVX-512 BF16": ("avx512_bf16",),
    "AVX-512 FP16": ("avx512_fp16",),
    "AMX-TILE": ("amx_tile",),
    "AMX-INT8": ("amx_int8",),
    "AMX-BF16": ("amx_bf16",),
}

RUNTIME_PACKAGES: dict[str, str] = {
    "neural_compressor": "neural-compressor",
    "intel_extension_for_pytorch": "intel-extension-for-pytorch",
    "torchao": "torchao",
    "onnxruntime": "onnxruntime",
    "openvino": "openvino",
    "nncf": "nncf",
}
"""Optional inference packages the deployment backends (``lib.quant.SPECS``) use: import name → distribution name."""


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what ``platform`` says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    """The CPU feature flags the kernel reports (empty off Linux)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return set()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def isa_support(flags: set[str] | None = None) -> dict[str, bool]:
    """Which of the ISA extensions in ``ISA_FLAGS`` this CPU has."""
    flags = cpu_flags() if flags is None else flags
    return {name: any(f in flags for f in aliases) for name, aliases in ISA_FLAGS.items()}


def native_bf16(device: str | torch.device = "cpu") -> bool:
    """Whether ``device`` computes bfloat16 in hardware.

    On a CPU without AVX512-BF16 or AMX-BF16 (e.g. AVX2 only), torch emulates bf16 matrix products:
    50× slower than fp32 was measured on such a CPU, so BF16 paths are skipped there.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "xpu":
        return True
    isa = isa_support()
    return isa["AVX-512 BF16"] or isa["AMX-BF16"]


def backend_status() -> dict[str, dict[str, str | bool | None]]:
    """For each package of ``RUNTIME_PACKAGES``: whether it imports, its version, and the error if it does not."""
    status: dict[str, dict[str, str | bool | None]] = {}
    for module, dist in RUNTIME_PACKAGES.items():
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            status[module] = {"available": False, "version": None, "reason": f"{dist} is not installed"}
            continue
        try:
            importlib.import_module(module)
            status[module] = {"available": True, "version": version, "reason": None}
        except Exception as err:  # noqa: BLE001 - any import failure means "not usable here"
            status[module] = {"available": False, "version": version, "reason": f"{type(err).__name__}: {err}"}
    return status


def accelerator_status() -> dict[str, dict[str, str | int | bool | None]]:
    """CUDA and Intel XPU devices visible to torch."""
    cuda = torch.cuda.is_available()
    xpu = hasattr(torch, "xpu") and torch.xpu.is_available()
    return {
        "cuda": {
            "available": cuda,
            "devices": torch.cuda.device_count() if cuda else 0,
            "name": torch.cuda.get_device_name(0) if cuda else None,
            "torch_cuda_version": torch.version.cuda,
        },
        "xpu": {
            "available": xpu,
            "devices": torch.xpu.device_count() if xpu else 0,
            "name": torch.xpu.get_device_name(0) if xpu else None,
        },
    }


def machine_report() -> dict:
    """A JSON-ready description of this machine and software, stored beside every benchmark."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "isa": isa_support(),
        "native_bf16": native_bf16("cpu"),
        "backends": backend_status(),
        "accelerators": accelerator_status(),
    }
