"""Practical peak GEMM rates of this machine: the roofline later notebooks compare against."""

from __future__ import annotations

import time

import torch

from lib.bench.timing import Timing, measure


def gemm_rate(
    dtype: torch.dtype, size: int, repeats: int = 10, device: str | torch.device = "cpu", budget_s: float = 20.0
) -> dict:
    """Measure square ``size``³ matrix multiplication in ``dtype`` and return ops per second.

    int8 uses ``torch._int_mm`` (int8 × int8 → int32), the kernel quantized convolutions and
    linears lower to; fp32/bf16 use ``torch.matmul``. One multiply-add counts as two ops.
    ``budget_s``: where one product is slow (bf16 emulated on a CPU without native bf16 takes seconds),
    fewer repeats (at least 3) keep the measurement within about this many seconds.
    """
    device = torch.device(device)
    generator = torch.Generator(device="cpu").manual_seed(0)
    if dtype == torch.int8:
        if size % 8 or size <= 16:
            raise ValueError(f"torch._int_mm needs a size > 16 that is a multiple of 8, got {size}")
        a = torch.randint(-128, 128, (size, size), dtype=torch.int8, generator=generator).to(device)
        b = torch.randint(-128, 128, (size, size), dtype=torch.int8, generator=generator).to(device)

        def run() -> torch.Tensor:
            return torch._int_mm(a, b)
    else:
        a = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
        b = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)

        def run() -> torch.Tensor:
            return torch.matmul(a, b)

    start = time.perf_counter()
    run()  # first warm-up call, also the estimate of one call's time
    one_call = time.perf_counter() - start
    repeats = max(3, min(repeats, int(budget_s / max(one_call, 1e-9))))
    timing: Timing = measure(run, repeats=repeats, warmup=1, device=device)
    ops = 2.0 * size**3
    return {
        "dtype": str(dtype).removeprefix("torch."),
        "size": size,
        "giga_ops_per_s": ops / (timing.median_ms * 1e-3) / 1e9,
        "giga_ops_per_s_best": ops / (timing.min_ms * 1e-3) / 1e9,
        "timing": timing.as_dict(),
    }


def peak_gemm_rates(size: int, repeats: int = 10, device: str | torch.device = "cpu") -> list[dict]:
    """fp32, bf16 and int8 GEMM rates at one size (fp16 is skipped on CPU: it has no fast kernel)."""
    dtypes = [torch.float32, torch.bfloat16, torch.int8]
    if torch.device(device).type != "cpu":
        dtypes.insert(2, torch.float16)
    return [gemm_rate(dtype, size, repeats, device) for dtype in dtypes]
