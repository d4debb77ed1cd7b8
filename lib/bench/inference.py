"""Inference latency and throughput of any predictor (model, compiled or quantized) on random input."""

from __future__ import annotations

from collections.abc import Callable

import torch

from lib.bench.timing import measure


@torch.inference_mode()
def benchmark_predictor(
    predictor: Callable[[torch.Tensor], object],
    size: tuple[int, int],
    batch: int = 1,
    repeats: int = 10,
    warmup: int = 3,
    device: str | torch.device = "cpu",
    channels_last: bool = False,
) -> dict:
    """Latency statistics (ms) of one call on a ``batch×3×H×W`` input, and images per second."""
    device = torch.device(device)
    images = torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(0)).to(device)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    timing = measure(lambda: predictor(images), repeats=repeats, warmup=warmup, device=device)
    return {"size": list(size), "batch": batch, **timing.as_dict(),
            "images_per_s": batch / (timing.median_ms * 1e-3)}
