"""A linear correction of a counter's per-image counts, fitted on images that are never scored.

A density counter trained for a few hundred steps from random weights gets the layout of a crowd roughly
right but its overall scale wrong, by a factor that changes from run to run (BatchNorm statistics and the
last steps move the sum of the map): over a dozen such runs on the synthetic crowds the fitted slope ranged
from 0.57 (a counter overcounting 1.7×) to 1.42 (one undercounting). ``fit_count_correction`` fits
``true ≈ slope · predicted + intercept`` by least squares over the training images (or any images that are then
never scored) and the correction maps every later count through it. It changes no density map, only the sums;
the notebook reports the counts with and without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CountCorrection:
    """``count ↦ max(0, slope · count + intercept)``; the default is the identity."""

    slope: float = 1.0
    intercept: float = 0.0
    images: int = 0
    """How many images it was fitted on (0: not fitted)."""

    def __call__(self, counts: Sequence[float] | np.ndarray) -> np.ndarray:
        return np.maximum(0.0, self.slope * np.asarray(counts, dtype=np.float64) + self.intercept)


def fit_count_correction(predicted: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> CountCorrection:
    """Least-squares ``true ≈ slope · predicted + intercept`` over images that must never be the scored ones."""
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
    true = np.asarray(true, dtype=np.float64).reshape(-1)
    if predicted.shape != true.shape:
        raise ValueError(f"{len(predicted)} predicted counts for {len(true)} true counts")
    if not (np.isfinite(predicted).all() and np.isfinite(true).all()):
        raise ValueError("counts contain NaN or infinite values")
    if len(predicted) < 2 or np.ptp(predicted) == 0:
        raise ValueError(f"a line needs at least two images with different predicted counts; got {len(predicted)} "
                         f"image(s), predicted counts spanning {np.ptp(predicted) if len(predicted) else 0:.3g}")
    slope, intercept = np.polyfit(predicted, true, 1)
    return CountCorrection(float(slope), float(intercept), len(predicted))
