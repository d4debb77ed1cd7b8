"""Training throughput (images/s) of a model under each execution mode: eager fp32, bf16 autocast,
channels_last, torch.compile. Used to choose a profile's default; a measurement, never a test."""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from lib.models import create_model
from lib.sysinfo import native_bf16
from lib.train.loop import autocast_context
from lib.train.losses import SegmentationLoss

MODES: dict[str, dict[str, object]] = {
    "fp32": {"precision": "fp32", "channels_last": False, "compile": False},
    "fp32-channels_last": {"precision": "fp32", "channels_last": True, "compile": False},
    "bf16": {"precision": "bf16", "channels_last": False, "compile": False},
    "bf16-channels_last": {"precision": "bf16", "channels_last": True, "compile": False},
    "bf16-compile": {"precision": "bf16", "channels_last": True, "compile": True},
}


def training_throughput(
    model_name: str, mode: str, crop: tuple[int, int] = (256, 512), batch_size: int = 8, steps: int = 5,
    warmup: int = 2, num_classes: int = 19, device: str = "cpu",
) -> dict:
    """Images per second of forward + backward + SGD step on random data (median step time)."""
    settings = MODES[mode]
    dev = torch.device(device)
    if settings["precision"] == "bf16" and not native_bf16(dev):
        return {"model": model_name, "mode": mode, "crop": list(crop), "batch_size": batch_size,
                "images_per_s": float("nan"), "threads": torch.get_num_threads(),
                "skipped": f"{dev.type} has no native bf16 (emulated bf16 is many times slower than fp32)"}
    torch.manual_seed(0)
    model = create_model(model_name, num_classes).to(dev).train()
    if settings["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    forward = torch.compile(model) if settings["compile"] else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    criterion = SegmentationLoss()
    images = torch.randn(batch_size, 3, *crop, device=dev)
    if settings["channels_last"]:
        images = images.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, num_classes, (batch_size, *crop), device=dev)
    times = []
    for index in range(warmup + steps):
        start = time.perf_counter()
        with autocast_context(dev, str(settings["precision"])):
            logits = forward(images)
        loss = criterion(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if index >= warmup:
            times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    return {"model": model_name, "mode": mode, "crop": list(crop), "batch_size": batch_size,
            "images_per_s": batch_size / median, "step_ms_median": median * 1e3, "step_ms_min": times[0] * 1e3,
            "threads": torch.get_num_threads(), "loss_finite": bool(torch.isfinite(loss)), "skipped": ""}


def compare_modes(model_names: Sequence[str], modes: Sequence[str] = tuple(MODES), **kw) -> list[dict]:
    return [training_throughput(name, mode, **kw) for name in model_names for mode in modes]
