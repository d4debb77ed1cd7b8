"""Counting metrics as the benchmarks score them: MAE, RMSE ("MSE" in the papers), NAE, per density level.

Pure functions of per-image counts; no model, no data loading. Conventions follow NWPU-Crowd's evaluation
code: RMSE is the square root of the mean squared error; NAE averages |p − g| / g over the images that have
at least one head (an image with g = 0 has no relative error and is left out, ``n_nae`` says how many
remain); the per-level figures are the MAE of the images of each level and their plain mean over levels.
``bootstrap_mae_difference`` puts a paired bootstrap interval over images on MAE(A) − MAE(B).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lib.stats import Interval


def _counts(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return array


def density_levels(gt_counts: Sequence[float] | np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Level of each image: how many of the increasing ``edges`` its count exceeds (NWPU: 0, 100, 500, 5000)."""
    edges = np.asarray(edges, dtype=np.float64)
    if np.any(np.diff(edges) <= 0):
        raise ValueError(f"level edges must increase strictly, got {edges.tolist()}")
    return np.searchsorted(edges, _counts(gt_counts, "ground-truth counts"), side="left")


def counting_metrics(
    pred_counts: Sequence[float] | np.ndarray,
    gt_counts: Sequence[float] | np.ndarray,
    levels: Sequence[int] | np.ndarray | None = None,
    level_edges: Sequence[float] | None = None,
) -> dict:
    """``mae``, ``rmse``, ``nae``, ``n``, ``n_nae`` of predicted against true counts, one pair per image.

    Per density level (``levels``: one integer per image, or ``level_edges`` to derive them from the true
    counts with ``density_levels``): ``level_mae`` and ``level_n`` (dicts keyed by level) and ``level_mae_mean``,
    the mean of the per-level MAEs over the levels present (NWPU's "average over scene levels").
    """
    pred, gt = _counts(pred_counts, "predicted counts"), _counts(gt_counts, "ground-truth counts")
    if len(pred) != len(gt) or len(gt) == 0:
        raise ValueError(f"need one prediction per image and at least one image, got {len(pred)} and {len(gt)}")
    if (gt < 0).any():
        raise ValueError("ground-truth counts must be non-negative")
    error = np.abs(pred - gt)
    has_heads = gt > 0
    result = {
        "mae": float(error.mean()),
        "rmse": float(math.sqrt(np.mean(error**2))),
        "nae": float(np.mean(error[has_heads] / gt[has_heads])) if has_heads.any() else math.nan,
        "n": len(gt),
        "n_nae": int(has_heads.sum()),
    }
    if levels is not None and level_edges is not None:
        raise ValueError("give levels or level_edges, not both")
    if level_edges is not None:
        levels = density_levels(gt, level_edges)
    if levels is not None:
        levels = np.asarray(levels).reshape(-1)
        if len(levels) != len(gt):
            raise ValueError(f"need one level per image: {len(levels)} levels for {len(gt)} images")
        present = sorted(int(v) for v in np.unique(levels))
        result["level_mae"] = {v: float(error[levels == v].mean()) for v in present}
        result["level_n"] = {v: int((levels == v).sum()) for v in present}
        result["level_mae_mean"] = float(np.mean(list(result["level_mae"].values())))
    return result


def competition_score(mae: float, rmse: float, nae: float, seconds_per_image: float) -> float:
    """One number trading accuracy against speed (higher is better):

    ``(250 − MAE)·0.2 + (500 − RMSE)·0.1 + (0.4 − NAE)·200 + (2 − seconds per image)·100``.
    """
    return (250 - mae) * 0.2 + (500 - rmse) * 0.1 + (0.4 - nae) * 200 + (2 - seconds_per_image) * 100


def bootstrap_mae_difference(
    pred_a: Sequence[float] | np.ndarray,
    pred_b: Sequence[float] | np.ndarray,
    gt_counts: Sequence[float] | np.ndarray,
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """MAE(A) − MAE(B) on the same images, with a paired bootstrap percentile interval over the images.

    Each resample draws images with replacement and takes *both* MAEs on the same draw, so the interval says
    how A and B differ on these images, not how hard the images are. Negative: A is more accurate.
    """
    a, b = _counts(pred_a, "predicted counts A"), _counts(pred_b, "predicted counts B")
    gt = _counts(gt_counts, "ground-truth counts")
    if not len(a) == len(b) == len(gt) or len(gt) == 0:
        raise ValueError(f"paired comparison needs one count per image on both sides, got {len(a)}, {len(b)}, {len(gt)}")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
    per_image = np.abs(a - gt) - np.abs(b - gt)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(gt), np.full(len(gt), 1.0 / len(gt)), size=resamples) / len(gt)
    samples = draws @ per_image
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(float(per_image.mean()), float(low), float(high), len(gt), level)
