"""Which training images calibrate an INT8 counter: a random set, a set spread over densities, or the densest one.

Chooses from head counts alone (the annotations), never from a model. Calibration data must never be scored:
choose among the training images and check the choice with ``check_disjoint`` against the scored ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

CALIBRATION_METHODS = ("random", "diverse", "densest")
"""``random``: ``count`` images drawn uniformly; ``diverse``: ``count`` images at evenly spaced ranks of the
head count (sparse to dense); ``densest``: the single image with the most heads (the contest entry's choice)."""


def select_calibration(counts: Sequence[int] | np.ndarray, method: str, count: int, seed: int = 0) -> list[int]:
    """Indices (into ``counts``, one head count per candidate image) of the calibration images, sorted."""
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"unknown calibration method {method!r}; choose one of {CALIBRATION_METHODS}")
    counts = np.asarray(counts, dtype=np.float64).reshape(-1)
    if len(counts) == 0:
        raise ValueError("no candidate images to calibrate on")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    count = min(count, len(counts))
    if method == "densest":
        return [int(np.argmax(counts))]
    if method == "random":
        return sorted(np.random.default_rng(seed).choice(len(counts), size=count, replace=False).tolist())
    order = np.argsort(counts, kind="stable")
    ranks = np.unique(np.round(np.linspace(0, len(counts) - 1, count)).astype(int))
    return sorted(int(order[r]) for r in ranks)


def check_disjoint(calibration: Iterable[str], scored: Iterable[str]) -> None:
    """Raise ``ValueError`` naming the images that are both calibration and scored images."""
    shared = sorted(set(calibration) & set(scored))
    if shared:
        raise ValueError(f"calibration images are also scored: {shared[:5]}{' …' if len(shared) > 5 else ''}; "
                         "calibrate on the training split")
