"""Practical peak GEMM rates of this machine: the roofline later notebooks compare against."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import torch

from lib.bench.timing import Timing, measure, synchronize

KERNELS = ("matmul", "int_mm", "qlinear")
"""``matmul``: ``torch.matmul`` in the given dtype. ``int_mm``: ``torch._int_mm`` (int8 × int8 → int32).
``qlinear``: the quantized linear of torch's x86 engine (uint8 activations × int8 weights, fbgemm/oneDNN),
the kind of kernel INT8 inference engines run; on CPUs without VNNI it is far faster than ``_int_mm``."""


PROBE_SIZE = 256


def _seconds(call: Callable[[], object], device: torch.device) -> float:
    start = time.perf_counter()
    call()
    synchronize(device)
    return time.perf_counter() - start


def _gemm_call(dtype: torch.dtype, size: int, device: torch.device, kernel: str) -> Callable[[], object]:
    generator = torch.Generator(device="cpu").manual_seed(0)
    if kernel == "int_mm":
        if size % 8 or size <= 16:
            raise ValueError(f"torch._int_mm needs a size > 16 that is a multiple of 8, got {size}")
        a = torch.randint(-128, 128, (size, size), dtype=torch.int8, generator=generator).to(device)
        b = torch.randint(-128, 128, (size, size), dtype=torch.int8, generator=generator).to(device)
        return lambda: torch._int_mm(a, b)
    if kernel == "qlinear":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # quantized tensors are deprecated in favour of torchao; the kernel is not
            torch.backends.quantized.engine = "x86" if "x86" in torch.backends.quantized.supported_engines else "fbgemm"
            x = torch.quantize_per_tensor(torch.randn(size, size, generator=generator), 0.05, 128, torch.quint8)
            w = torch.quantize_per_tensor(torch.randn(size, size, generator=generator), 0.05, 0, torch.qint8)
            packed = torch.ops.quantized.linear_prepack(w, None)
        return lambda: torch.ops.quantized.linear(x, packed, 0.1, 128)
    a = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
    b = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
    return lambda: torch.matmul(a, b)


def gemm_rate(
    dtype: torch.dtype,
    size: int,
    repeats: int = 10,
    device: str | torch.device = "cpu",
    budget_s: float = 10.0,
    kernel: str = "matmul",
) -> dict:
    """Measure square ``size``³ matrix multiplication and return ops per second (one multiply-add = two ops).

    ``kernel``: see ``KERNELS`` (int8 kernels ignore ``dtype``). ``budget_s`` keeps slow paths short: when one
    product takes more than a quarter of it (bf16 emulated on a CPU without native bf16, ``_int_mm`` without
    VNNI), the size is halved (down to ``PROBE_SIZE``) and repeats are reduced (to at least 3); the size used is
    reported.
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; choose one of {KERNELS}")
    device = torch.device(device)
    # A product at a small size predicts a large one (time grows as size³): choose the size without running the
    # slow large products (an emulated bf16 product at 2048² takes about 20 s on 2 AVX2 cores).
    probe_size = min(size, PROBE_SIZE)
    probe = _gemm_call(dtype, probe_size, device, kernel)
    _seconds(probe, device)  # warm-up: thread pool, allocator
    predicted = _seconds(probe, device) * (size / probe_size) ** 3
    while predicted * 4 > budget_s and size > PROBE_SIZE:
        size, predicted = size // 2, predicted / 8
    run = _gemm_call(dtype, size, device, kernel)
    one_call = _seconds(run, device)  # also the first warm-up call
    repeats = max(3, min(repeats, int(budget_s / max(one_call, 1e-9))))
    timing: Timing = measure(run, repeats=repeats, warmup=1, device=device)
    ops = 2.0 * size**3
    label = {"matmul": str(dtype).removeprefix("torch."), "int_mm": "int8", "qlinear": "int8"}[kernel]
    return {
        "dtype": label,
        "kernel": kernel,
        "name": label if kernel == "matmul" else f"int8 ({kernel})",
        "size": size,
        "giga_ops_per_s": ops / (timing.median_ms * 1e-3) / 1e9,
        "giga_ops_per_s_best": ops / (timing.min_ms * 1e-3) / 1e9,
        "timing": timing.as_dict(),
    }


def peak_gemm_rates(size: int, repeats: int = 10, device: str | torch.device = "cpu") -> list[dict]:
    """fp32 and bf16 ``matmul``, int8 ``_int_mm``, and on CPU the int8 quantized linear (fp16 only off-CPU)."""
    device = torch.device(device)
    runs: list[tuple[torch.dtype, str]] = [(torch.float32, "matmul"), (torch.bfloat16, "matmul"), (torch.int8, "int_mm")]
    if device.type == "cpu":
        runs.append((torch.int8, "qlinear"))
    else:
        runs.insert(2, (torch.float16, "matmul"))
    return [gemm_rate(dtype, size, repeats, device, kernel=kernel) for dtype, kernel in runs]


def saved_peak(profile: str, dtype: str = "int8") -> float | None:
    """The fastest ``dtype`` GEMM rate (GOP/s) notebook 00 measured for this profile, or ``None`` if not run yet."""
    from lib import paths
    from lib.io import read_json

    path = paths.ENV_REPORTS / f"{profile}.json"
    if not path.is_file():
        return None
    values = [rate["giga_ops_per_s"] for rate in read_json(path).get("gemm", []) if rate["dtype"] == dtype]
    return max(values) if values else None
