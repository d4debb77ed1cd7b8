"""Uncertainty of the comparisons the notebooks draw: bootstrap intervals over images, spreads of speed ratios.

mIoU is not an average of per-image scores: it is computed from a confusion matrix summed over the images.
A bootstrap resample therefore draws images with replacement and sums *their* confusion matrices; a paired
difference (model A vs B, INT8 vs FP32 on the same images) resamples the same images for both sides, so the
interval reflects how the two differ on the images, not how hard the images are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from lib.metrics import miou_from_matrix


@dataclass(frozen=True)
class Interval:
    """An estimate with its bootstrap percentile interval, over ``n`` images."""

    estimate: float
    low: float
    high: float
    n: int
    level: float = 0.95

    @property
    def excludes_zero(self) -> bool:
        """The interval lies entirely above or below zero (a difference outside the noise)."""
        return self.low > 0 or self.high < 0

    def margin_verdict(self, margin: float) -> str:
        """Where the interval of a difference lies against an equivalence margin ``±margin``: ``"within"`` (all
        of it inside: the difference is shown to be smaller than the margin), ``"beyond"`` (all of it outside, on
        one side: shown to be larger) or ``"undecided"`` (it straddles a bound: too few units to tell)."""
        if math.isnan(self.low) or math.isnan(self.high):
            return "undecided"
        if -margin <= self.low and self.high <= margin:
            return "within"
        return "beyond" if self.low > margin or self.high < -margin else "undecided"

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def format(self, scale: float = 1.0, digits: int = 3) -> str:
        """``0.312 [0.290, 0.335], n=24`` (``scale=100`` prints points)."""
        values = (self.estimate * scale, self.low * scale, self.high * scale)
        return f"{values[0]:.{digits}f} [{values[1]:.{digits}f}, {values[2]:.{digits}f}], n={self.n}"


def _check_confusions(confusions: np.ndarray, name: str = "confusions") -> np.ndarray:
    array = np.asarray(confusions, dtype=np.float64)
    if array.ndim != 3 or array.shape[1] != array.shape[2] or array.shape[0] < 1:
        raise ValueError(f"{name} must be per-image confusion matrices shaped N×C×C, got {array.shape}")
    return array


def _resample_counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """How often each of ``n`` images is drawn in each of ``resamples`` bootstrap samples (R×N)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)


def _miou_rows(summed: np.ndarray, classes: int) -> np.ndarray:
    """mIoU of each row of R summed (flattened C×C) confusion matrices; NaN-classes skipped as in lib.metrics."""
    matrices = summed.reshape(-1, classes, classes)
    tp = np.diagonal(matrices, axis1=1, axis2=2)
    union = matrices.sum(axis=2) + matrices.sum(axis=1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
        return np.nanmean(iou, axis=1)


def _interval(estimate: float, samples: np.ndarray, n: int, level: float) -> Interval:
    samples = samples[~np.isnan(samples)]
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail]) if samples.size else (math.nan, math.nan)
    return Interval(float(estimate), float(low), float(high), n, level)


def bootstrap_miou(confusions: np.ndarray, resamples: int = 2000, level: float = 0.95, seed: int = 0) -> Interval:
    """mIoU of the summed per-image ``confusions`` (N×C×C) with a bootstrap interval over the N images."""
    array = _check_confusions(confusions)
    n, classes = array.shape[0], array.shape[1]
    summed = _resample_counts(n, resamples, seed) @ array.reshape(n, -1)
    return _interval(miou_from_matrix(array.sum(axis=0)), _miou_rows(summed, classes), n, level)


def bootstrap_miou_difference(confusions_a: np.ndarray, confusions_b: np.ndarray, resamples: int = 2000,
                              level: float = 0.95, seed: int = 0) -> Interval:
    """mIoU(A) − mIoU(B) on the same N images, with a paired bootstrap interval (same resampled images)."""
    a, b = _check_confusions(confusions_a, "confusions_a"), _check_confusions(confusions_b, "confusions_b")
    if a.shape != b.shape:
        raise ValueError(f"paired comparison needs the same images and classes: {a.shape} vs {b.shape}")
    n, classes = a.shape[0], a.shape[1]
    counts = _resample_counts(n, resamples, seed)
    samples = _miou_rows(counts @ a.reshape(n, -1), classes) - _miou_rows(counts @ b.reshape(n, -1), classes)
    estimate = miou_from_matrix(a.sum(axis=0)) - miou_from_matrix(b.sum(axis=0))
    return _interval(estimate, samples, n, level)


def bootstrap_paired_difference(stats_a: np.ndarray, stats_b: np.ndarray,
                                metric: Callable[[np.ndarray], np.ndarray], resamples: int = 2000,
                                level: float = 0.95, seed: int = 0) -> Interval:
    """metric(Σ A) − metric(Σ B) over N paired units with a paired bootstrap interval.

    ``stats_a`` and ``stats_b`` are N×K additive statistics of the same N units (per time block of a video:
    true positives, false positives, ... of each system); ``metric`` maps R×K summed rows to R values (an F1
    from summed counts, say). Each resample draws the same units for both sides, as for mIoU above.
    """
    a, b = np.asarray(stats_a, dtype=np.float64), np.asarray(stats_b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape or a.shape[0] < 1:
        raise ValueError(f"paired statistics must be two N×K arrays of the same shape, N >= 1; got {a.shape} and {b.shape}")
    counts = _resample_counts(a.shape[0], resamples, seed)
    estimate = metric(a.sum(axis=0, keepdims=True))[0] - metric(b.sum(axis=0, keepdims=True))[0]
    return _interval(float(estimate), metric(counts @ a) - metric(counts @ b), a.shape[0], level)


def verdict(difference: Interval, better: str, worse: str, scale: float = 100.0, unit: str = "pts") -> str:
    """A sentence for a difference ``better − worse``: who is ahead, by how much, or "within noise"."""
    text = f"{difference.estimate * scale:+.2f} {unit} (95% CI {difference.low * scale:+.2f} to " \
           f"{difference.high * scale:+.2f}, n={difference.n} images)"
    if math.isnan(difference.low):
        return f"{better} vs {worse}: {text}, interval undefined"
    if not difference.excludes_zero:
        return f"{better} vs {worse}: {text}: within noise"
    leader = better if difference.estimate > 0 else worse
    return f"{better} vs {worse}: {text}: {leader} is ahead"


@dataclass(frozen=True)
class RatioSpread:
    """A speed ratio from interleaved rounds: the median of per-round ratios and its spread."""

    median: float
    q25: float
    q75: float
    low: float
    high: float
    rounds: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def ratio_spread(numerator_ms: Sequence[float], denominator_ms: Sequence[float]) -> RatioSpread:
    """Per-round ratios ``numerator / denominator`` (e.g. FP32 ms / INT8 ms = speed-up) from paired rounds.

    Pairing by round cancels the drift of a shared machine: both timings of a round were taken moments apart.
    """
    if len(numerator_ms) != len(denominator_ms) or not numerator_ms:
        raise ValueError(f"need the same, non-zero number of rounds, got {len(numerator_ms)} and {len(denominator_ms)}")
    ratios = np.asarray(numerator_ms, dtype=np.float64) / np.asarray(denominator_ms, dtype=np.float64)
    q25, median, q75 = np.percentile(ratios, [25, 50, 75])
    return RatioSpread(float(median), float(q25), float(q75), float(ratios.min()), float(ratios.max()), len(ratios))
