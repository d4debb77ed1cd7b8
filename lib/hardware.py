"""Preflight: does this machine have what a profile asks for, before the first notebook starts?

A profile names a device (``cpu``, ``cuda[:N]``, ``xpu[:N]``), a training precision and, optionally, the
Jupyter kernel (environment) its notebooks run under. ``preflight(profile)`` asks that kernel's Python —
not the driver's, which may be another torch — what it sees, and returns one sentence per problem, each
saying what is missing and how to get it. An empty list means the run can start.

    problems = preflight(load_profile("ipex"))
    # ["profile 'ipex' runs under the Jupyter kernel 'edge-vision-ipex', which is not installed: run `make env-ipex`"]
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lib.sysinfo import isa_support

if TYPE_CHECKING:
    from lib.profiles import Profile

KERNEL_RECIPES: dict[str, str] = {
    "edge-vision-ipex": "run `make env-ipex` (torch 2.8 + Intel Extension for PyTorch in .venv-ipex)",
    "edge-vision": "run `make venv`",
}
"""Kernel name → how this project builds it."""

PROBE = r"""
def probe_torch(want_ipex):
    import sys
    out = {"python": sys.executable}
    try:
        import torch
    except Exception as err:
        out["torch_error"] = f"{type(err).__name__}: {err}"
        return out
    out["torch"] = torch.__version__
    out["torch_cuda"] = torch.version.cuda
    cuda = torch.cuda.is_available()
    out["cuda_devices"] = torch.cuda.device_count() if cuda else 0
    out["cuda_names"] = [torch.cuda.get_device_name(i) for i in range(out["cuda_devices"])]
    out["cuda_bf16"] = bool(cuda and torch.cuda.is_bf16_supported())
    out["xpu_built"] = hasattr(torch, "xpu")
    xpu = out["xpu_built"] and torch.xpu.is_available()
    out["xpu_devices"] = torch.xpu.device_count() if xpu else 0
    if want_ipex:
        try:
            import intel_extension_for_pytorch as ipex
            out["ipex"] = ipex.__version__
        except BaseException as err:
            out["ipex_error"] = f"{type(err).__name__}: {err}".strip()
    return out
"""
"""What torch sees (devices, bf16, IPEX), run in the kernel's interpreter. Self-contained: no ``lib`` import."""


@dataclass
class KernelInfo:
    """A Jupyter kernel: its name, the Python it starts (None: not installed) and where it was looked up."""

    name: str
    python: str | None
    note: str = ""
    argv: list[str] = field(default_factory=list)


def find_kernel(name: str) -> KernelInfo:
    """The kernelspec ``name`` as the Jupyter in this environment sees it ("" = this interpreter)."""
    if not name:
        return KernelInfo("", sys.executable, "the notebooks' own kernel; this interpreter stands in for it")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        where = ", ".join(manager.kernel_dirs)
        return KernelInfo(name, None, f"looked in {where}")
    python = spec.argv[0] if spec.argv else None
    if python in ("python", "python3", "{python}"):  # ipykernel's native spec: this interpreter
        python = sys.executable
    return KernelInfo(name, python, spec.resource_dir, list(spec.argv))


def is_this_interpreter(python: str) -> bool:
    """Whether ``python`` is this process's interpreter in this environment.

    Compares environments, not executables: every virtual environment's ``bin/python`` links to the same base
    interpreter, so resolving the links would take another environment (another torch) for this one.
    """
    return Path(python).absolute().parent.parent.resolve() == Path(sys.prefix).resolve()


def probe(python: str, want_ipex: bool = False, timeout: float = 180.0) -> dict[str, Any]:
    """What torch in ``python`` sees; ``{"probe_error": ...}`` when the interpreter does not run or answer.

    This interpreter answers in-process (torch is imported already); another one, or any IPEX import (IPEX
    aborts the process on a torch it was not built for), in a subprocess.
    """
    if not want_ipex and is_this_interpreter(python):
        namespace: dict[str, Any] = {}
        exec(PROBE, namespace)  # noqa: S102 - our own constant
        return namespace["probe_torch"](False)
    code = PROBE + "\nimport json, sys\nprint(json.dumps(probe_torch('ipex' in sys.argv)))"
    try:
        done = subprocess.run([python, "-c", code, *(["ipex"] if want_ipex else [])], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return {"probe_error": f"{type(err).__name__}: {err}"}
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"probe_error": f"exit status {done.returncode}: {' | '.join(tail) or 'no output'}"}


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 on this machine's CPU (the same CPU whichever kernel runs)."""
    isa = isa_support()
    return isa["AVX-512 BF16"] or isa["AMX-BF16"]


def _device_index(device: str) -> int:
    return int(device.split(":", 1)[1]) if ":" in device else 0


def _recipe(kernel: str) -> str:
    return KERNEL_RECIPES.get(kernel, f"install it from the environment it should use: "
                                      f"`<env>/bin/python -m ipykernel install --prefix .venv --name {kernel}`")


def device_problems(profile: Profile, seen: dict[str, Any], kernel: str) -> list[str]:
    """Problems with the profile's device and training precision, given what the kernel's torch ``seen``."""
    where = f"torch {seen.get('torch', '?')} in kernel {kernel or '(default)'}"
    device, precision = profile.device, profile.train.precision
    problems: list[str] = []
    if device.startswith("cuda"):
        index, count = _device_index(device), seen.get("cuda_devices", 0)
        if count == 0:
            build = f"a CUDA {seen['torch_cuda']} build" if seen.get("torch_cuda") else "a CPU-only build"
            problems.append(f"profile {profile.name!r} runs on {device}, but {where} ({build}) sees no CUDA device: "
                            "run it on a machine with an NVIDIA GPU and its driver (`nvidia-smi` lists it), "
                            "or choose a CPU profile (cpu, cpu-fp32, ipex)")
        elif index >= count:
            problems.append(f"profile {profile.name!r} runs on {device}, but {where} sees {count} CUDA device(s): "
                            f"use cuda:0 … cuda:{count - 1}")
        elif precision == "bf16" and not seen.get("cuda_bf16"):
            problems.append(f"profile {profile.name!r} trains in bf16, but {seen['cuda_names'][index]} has no bf16 "
                            "(needs compute capability 8.0+): set train.precision to amp (float16) or fp32")
    elif device.startswith("xpu"):
        index, count = _device_index(device), seen.get("xpu_devices", 0)
        if not seen.get("xpu_built"):
            problems.append(f"profile {profile.name!r} runs on {device}, but {where} has no XPU support: install a "
                            "torch build with XPU support (PyTorch's XPU wheels) and Intel's GPU driver")
        elif count == 0:
            problems.append(f"profile {profile.name!r} runs on {device}, but {where} sees no Intel GPU "
                            "(torch.xpu.is_available() is False): install Intel's GPU driver and compute runtime "
                            "(`sycl-ls` lists the GPU), or choose a CPU profile")
        elif index >= count:
            problems.append(f"profile {profile.name!r} runs on {device}, but {where} sees {count} XPU device(s)")
    elif precision == "bf16" and not cpu_has_native_bf16():
        problems.append(f"profile {profile.name!r} trains in bf16, but this CPU has no native bf16 (AVX512-BF16 or "
                        "AMX): emulated bf16 is many times slower than fp32; use cpu-fp32 or train.precision: auto")
    if precision == "amp" and not device.startswith("cuda"):
        problems.append(f"profile {profile.name!r}: train.precision amp (float16 + grad scaler) is for CUDA; "
                        f"use bf16 or fp32 on {device}")
    return problems


def preflight(profile: Profile, kernel: str | None = None) -> list[str]:
    """Everything missing for ``profile`` on this machine, one sentence each (empty: ready to run).

    ``kernel`` overrides the profile's own (``lib.run --kernel``). Checked in order: the kernel is installed and
    its Python exists; torch imports there; the profile's device and training precision are available to that
    torch; IPEX imports there when the profile trains with it.
    """
    name = profile.kernel if kernel is None else kernel
    info = find_kernel(name)
    if info.python is None:
        return [f"profile {profile.name!r} runs under the Jupyter kernel {name!r}, which is not installed "
                f"({info.note}): {_recipe(name)}"]
    wants_ipex = profile.train.ipex or name == "edge-vision-ipex"
    seen = probe(info.python, want_ipex=wants_ipex)
    if "probe_error" in seen:
        return [f"the Python of kernel {name or '(default)'} ({info.python}) does not run: {seen['probe_error']}; "
                f"{_recipe(name) if name else 'repair the environment'}"]
    if "torch_error" in seen:
        return [f"torch does not import in kernel {name or '(default)'} ({info.python}): {seen['torch_error']}"]
    problems = device_problems(profile, seen, name)
    if wants_ipex and "ipex_error" in seen:
        problems.append(f"profile {profile.name!r} uses Intel Extension for PyTorch, but it does not import in kernel "
                        f"{name or '(default)'} (torch {seen['torch']}): {seen['ipex_error']}; "
                        f"{_recipe('edge-vision-ipex')} and run the profile with kernel: edge-vision-ipex")
    return problems
