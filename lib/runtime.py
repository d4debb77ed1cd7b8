"""Per-run setup shared by every notebook: threads, seeds and the torch device; work spread over processes."""

from __future__ import annotations

import multiprocessing
import os
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch

if TYPE_CHECKING:
    from lib.profiles import Profile

T = TypeVar("T")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a rerun gives the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def set_threads(threads: int) -> int:
    """Fix torch's intra-op threads (0 = one per available core) and return the number used."""
    if threads <= 0:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return threads


_POOLS: dict[tuple[int, int], ProcessPoolExecutor] = {}


def process_map(fn: Callable[..., T], jobs: Sequence[tuple], workers: int = 1, threads: int = 1) -> list[T]:
    """``[fn(*job) for job in jobs]``, spread over ``workers`` processes when more than one; results in job order.

    For Python-heavy work that threads cannot share out under the GIL (simulating, painting and tracking door
    sequences). Workers are spawned, not forked (a fork would copy this process's thread pools in a broken
    state), each with ``threads`` intra-op threads (side by side they would otherwise each take every core), and
    kept for the next call: starting one means importing torch again, seconds each time. ``fn`` must be
    importable (defined at module level in ``lib``); arguments and results travel by pickle."""
    if workers <= 1 or len(jobs) <= 1:
        return [fn(*job) for job in jobs]
    key = (workers, threads)
    if key not in _POOLS:
        _POOLS[key] = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                          initializer=set_threads, initargs=(threads,))
    try:
        return list(_POOLS[key].map(fn, *zip(*jobs, strict=True)))
    except BrokenProcessPool:
        _POOLS.pop(key).shutdown(cancel_futures=True)  # a worker died: the next call starts new ones
        raise


def shutdown_workers() -> None:
    """Stop the processes :func:`process_map` keeps (they also stop when this process exits)."""
    while _POOLS:
        _POOLS.popitem()[1].shutdown(cancel_futures=True)


def resolve_device(name: str) -> torch.device:
    """Turn a profile's device string into a ``torch.device``, failing clearly when it is absent."""
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("profile asks for CUDA but torch.cuda.is_available() is False; use the 'cpu' profile")
    if device.type == "xpu" and not (hasattr(torch, "xpu") and torch.xpu.is_available()):
        raise RuntimeError("profile asks for an Intel XPU but torch.xpu.is_available() is False; use the 'cpu' profile")
    return device


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """A profile's ``precision`` for this machine: ``auto`` is ``bf16`` where the hardware computes bf16
    natively, else ``fp32``; other values pass through."""
    if precision != "auto":
        return precision
    from lib.sysinfo import native_bf16

    return "bf16" if native_bf16(device) else "fp32"


def setup(profile_name: str) -> tuple[Profile, torch.device]:
    """Load the profile, fix threads, seed everything; the first line of every notebook's setup cell."""
    from lib.profiles import load_profile

    profile = load_profile(profile_name)
    set_threads(profile.threads)
    seed_everything(profile.seed)
    return profile, resolve_device(profile.device)
