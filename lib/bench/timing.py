"""Wall-clock timing with warm-up and robust statistics (median, p90, spread)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import torch
from tqdm.auto import tqdm


@dataclass(frozen=True)
class Timing:
    """Statistics of repeated runs, in milliseconds."""

    median_ms: float
    p90_ms: float
    min_ms: float
    max_ms: float
    stdev_ms: float
    repeats: int
    warmup: int
    threads: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def synchronize(device: torch.device | None) -> None:
    """Wait for the work queued on a CUDA/XPU device (nothing to wait for on CPU)."""
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device is not None and device.type == "xpu":
        torch.xpu.synchronize(device)


def measure(
    fn: Callable[[], object],
    repeats: int = 10,
    warmup: int = 3,
    device: torch.device | None = None,
    min_seconds: float = 0.0,
) -> Timing:
    """Time ``fn()`` after ``warmup`` untimed calls; at least ``repeats`` runs and ``min_seconds`` total.

    Device work is synchronised around each run so asynchronous CUDA/XPU launches are not
    mistaken for fast kernels.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    synchronize(device)
    samples: list[float] = []
    start_all = time.perf_counter()
    while len(samples) < repeats or time.perf_counter() - start_all < min_seconds:
        start = time.perf_counter()
        fn()
        synchronize(device)
        samples.append((time.perf_counter() - start) * 1e3)
    return summarize(samples, warmup)


def interleaved_rounds(
    fns: Mapping[str, Callable[[], object]],
    rounds: int = 10,
    warmup: int = 2,
    device: torch.device | None = None,
    progress: bool = False,
) -> dict[str, list[float]]:
    """Milliseconds of one call of each function per round, the functions run in turn (A B C, B C A, …).

    Timing A ten times and then B ten times lets a shared machine's drift (another process, a clock change)
    fall on one of them; in rounds, both see the same conditions, and a ratio per round (``lib.stats.ratio_spread``)
    cancels most of it. The order rotates each round, so no function always runs after the same neighbour.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    synchronize(device)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in tqdm(range(rounds), desc="timing rounds", disable=not progress, leave=False):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            fns[name]()
            synchronize(device)
            samples[name].append((time.perf_counter() - start) * 1e3)
    return samples


def summarize(samples: Sequence[float], warmup: int = 0) -> Timing:
    """``Timing`` statistics of samples taken elsewhere (e.g. one function's share of interleaved rounds)."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples to summarise")
    p90_index = min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))
    return Timing(median_ms=statistics.median(ordered), p90_ms=ordered[p90_index], min_ms=ordered[0],
                  max_ms=ordered[-1], stdev_ms=statistics.stdev(ordered) if len(ordered) > 1 else 0.0,
                  repeats=len(ordered), warmup=warmup, threads=torch.get_num_threads())
