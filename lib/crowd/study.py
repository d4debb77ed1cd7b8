"""The deployment study of notebook 05: one counter, several ways to run it, scored and timed on the same images.

A *variant* is a way to count a large image: which predictor (``lib.quant.quantize``: eager FP32, BF16, an INT8
backend calibrated some way) and how the image reaches it (``lib.crowd.inference``):

| variant | what runs |
|---|---|
| ``fp32-naive-tiles`` | eager FP32, the 2×2 tiles one call each: the reference every speed-up is taken against |
| ``fp32-whole`` | eager FP32 on the whole image, one call |
| ``fp32-resized`` | eager FP32 on the image resized to the tile size, one call |
| ``fp32-batched-tiles`` | eager FP32, the tiles of an image as one batch |
| ``bf16-batched-tiles`` | BF16 autocast, batched tiles; only where the CPU computes bf16 natively |
| ``<int8 backend>-batched-tiles`` | an INT8 predictor built for the tile size, batched tiles |
| ``<int8 backend>-whole`` | an INT8 predictor built for the whole image, one call |

Every variant counts one image per call (a batch of ``rows·cols`` tiles), so compiled INT8 graphs see one
batch size. Tiles are planned with ``multiple=32``: the static-size predictors of ``lib.quant`` need it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lib.bench.timing import interleaved_rounds, summarize
from lib.crowd.correction import CountCorrection, fit_count_correction
from lib.crowd.inference import count_resized, count_tiles_batched, count_tiles_naive, count_whole
from lib.crowd.metrics import competition_score, counting_metrics
from lib.crowd.tiling import TileGrid, pad_to_multiple, padded_size, plan_tiles, tile_images
from lib.data.crowd import CrowdDensityDataset, CrowdItem, generate_crowd_dataset
from lib.data.crowd.generate import SUMMARY, split_sizes
from lib.io import read_json
from lib.stats import Interval, ratio_spread

TILE_MULTIPLE = 32
"""Tile sides are multiples of 32 (``lib.quant`` builds static-size predictors only for such sizes)."""
REFERENCE = "fp32-naive-tiles"
FP32_VARIANTS = ("fp32-naive-tiles", "fp32-whole", "fp32-resized", "fp32-batched-tiles")

Counter = Callable[[Sequence[torch.Tensor]], np.ndarray]


@dataclass
class Variant:
    """One way to count: ``count(images)`` gives one count per ``3×H×W`` image; ``skipped`` says why it cannot run."""

    variant: str
    model: str
    calibration: str
    count: Counter | None
    quantize_seconds: float = 0.0
    notes: str = ""
    skipped: str = ""

    @property
    def key(self) -> str:
        return self.variant if self.calibration == "none" else f"{self.variant} [{self.calibration}]"


def ensure_dataset(root: Path, *, images: int, height: int, width: int, seed: int, test_fraction: float) -> dict:
    """The synthetic set's summary, generated unless ``root`` already holds exactly this set, complete."""
    wanted = {"images": images, "height": height, "width": width, "seed": seed,
              "counts": split_sizes(images, 0.0, test_fraction), "complete": True}
    if (root / SUMMARY).is_file():
        summary = read_json(root / SUMMARY)
        if all(summary.get(key) == value for key, value in wanted.items()):
            return summary
    return generate_crowd_dataset(root, images, height=height, width=width, seed=seed, val_fraction=0.0,
                                  test_fraction=test_fraction)


def load_images(items: Sequence[CrowdItem], max_side: int | None = None) -> tuple[torch.Tensor, np.ndarray]:
    """Whole images, normalised (``N×3×H×W``, all one size), longer side scaled down to ``max_side`` when it is
    longer (the counters' working resolution), and their true head counts."""
    dataset = CrowdDensityDataset(items, max_side=max_side)
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    return images, np.array([item.count for item in items], dtype=np.float64)


def tile_plan(height: int, width: int, grid: tuple[int, int], overlap: int) -> TileGrid:
    """The tiles every variant uses for ``height×width`` images (``plan.tile`` is the predictors' input size)."""
    return plan_tiles(height, width, tuple(grid), overlap, multiple=TILE_MULTIPLE)


def calibration_batches(images: torch.Tensor, indices: Sequence[int], plan: TileGrid) -> list[torch.Tensor]:
    """The tiles of each chosen image, one batch per image: what the INT8 predictor will see at run time."""
    return [tile_images(images[i], plan) for i in indices]


def whole_calibration_batches(images: torch.Tensor, indices: Sequence[int]) -> list[torch.Tensor]:
    """Each chosen image whole, padded like ``count_whole`` pads it: what a whole-image predictor sees."""
    return [pad_to_multiple(images[i : i + 1], TILE_MULTIPLE)[0] for i in indices]


def fp32_variants(predict: Callable, model: str, plan: TileGrid) -> list[Variant]:
    """The four FP32 ways to count with one eager predictor."""
    grid, overlap = plan.grid, plan.overlap[0]
    tiles = {"grid": grid, "overlap": overlap, "multiple": TILE_MULTIPLE}
    return [
        Variant("fp32-naive-tiles", model, "none", partial(count_tiles_naive, predict, **tiles)),
        Variant("fp32-whole", model, "none", partial(count_whole, predict, multiple=TILE_MULTIPLE)),
        Variant("fp32-resized", model, "none", partial(count_resized, predict, size=plan.tile, multiple=TILE_MULTIPLE)),
        Variant("fp32-batched-tiles", model, "none", partial(count_tiles_batched, predict, **tiles)),
    ]


def deployed_variant(model: nn.Module, name: str, backend: str, plan: TileGrid, calibration: str,
                     calib: list[torch.Tensor] | None, whole: bool = False,
                     options: Mapping[str, object] | None = None) -> Variant:
    """``backend``'s predictor of ``model``: built for the tile size and run on batched tiles or, with ``whole``,
    built for the whole image (padded to a multiple of 32) and run on it in one call (``calib``: whole images).
    ``options`` go to ``lib.quant.quantize`` (the backend's own settings)."""
    from lib.quant import quantize

    options = dict(options or {})
    if whole:
        predictor = quantize(model, backend, calib, input_size=padded_size(*plan.image_size, TILE_MULTIPLE), batch=1,
                             **options)
        count = partial(count_whole, predictor, multiple=TILE_MULTIPLE)
    else:
        predictor = quantize(model, backend, calib, input_size=plan.tile, batch=plan.count, **options)
        count = partial(count_tiles_batched, predictor, grid=plan.grid, overlap=plan.overlap[0], multiple=TILE_MULTIPLE)
    layout = "whole" if whole else "batched-tiles"
    return Variant(f"{backend}-{layout}", name, calibration, count, predictor.quantize_seconds, predictor.notes)


def training_correction(predict: Callable, images: torch.Tensor, counts: np.ndarray) -> CountCorrection:
    """The count correction of ``predict`` fitted on its whole-image FP32 counts of training ``images``
    (never scored) against their true ``counts``."""
    return fit_count_correction(count_whole(predict, list(images), multiple=TILE_MULTIPLE), counts)


def count_all(variants: Sequence[Variant], images: torch.Tensor, progress: bool = False,
              correction: CountCorrection | None = None) -> dict[str, np.ndarray]:
    """Counts of every runnable variant on every image (one image per call), mapped through ``correction`` (the
    counter's, fitted once on its FP32 counts: a deployment path runs the same counter; ``None``: none)."""
    from tqdm.auto import tqdm

    correction = correction or CountCorrection()
    runnable = [v for v in variants if v.count is not None]
    return {v.key: correction(v.count(list(images)))
            for v in tqdm(runnable, desc="variants", disable=not progress, leave=False)}


def time_all(variants: Sequence[Variant], images: torch.Tensor, rounds: int, warmup: int) -> dict[str, list[float]]:
    """Milliseconds per round of each runnable variant counting ``images``, interleaved (A B C, B C A, …)."""
    batch = list(images)
    return interleaved_rounds({v.key: partial(v.count, batch) for v in variants if v.count is not None},
                              rounds=rounds, warmup=warmup)


def study_records(variants: Sequence[Variant], counts: Mapping[str, np.ndarray], gt: np.ndarray,
                  samples: Mapping[str, list[float]], timing_images: int, level_edges: Sequence[float]) -> list[dict]:
    """One record per variant: accuracy on every scored image, seconds per image and the speed-up over the reference."""
    reference = samples[REFERENCE]
    records = []
    for v in variants:
        record = {"model": v.model, "variant": v.variant, "calibration": v.calibration, "skipped": v.skipped,
                  "notes": v.notes, "quantize_seconds": round(v.quantize_seconds, 2)}
        if v.count is None:
            records.append(record | dict.fromkeys(("seconds_per_image", "mae", "rmse", "nae", "score",
                                                   "speedup_vs_naive_fp32"), None))
            continue
        timing = summarize([ms / timing_images for ms in samples[v.key]])
        metrics = counting_metrics(counts[v.key], gt, level_edges=level_edges)
        speedup = ratio_spread(reference, samples[v.key])
        seconds = timing.median_ms / 1e3
        record |= {
            "seconds_per_image": seconds, "seconds_per_image_min": timing.min_ms / 1e3,
            "seconds_per_image_p90": timing.p90_ms / 1e3, "timing_rounds": timing.repeats,
            "mae": metrics["mae"], "rmse": metrics["rmse"], "nae": metrics["nae"], "n_images": metrics["n"],
            "level_mae": metrics["level_mae"],
            "score": competition_score(metrics["mae"], metrics["rmse"], metrics["nae"], seconds),
            "speedup_vs_naive_fp32": speedup.median, "speedup_q25": speedup.q25, "speedup_q75": speedup.q75,
        }
        records.append(record)
    return records


def pareto_front(seconds: Sequence[float], error: Sequence[float]) -> np.ndarray:
    """Boolean mask of the points no other point beats on both time and error (lower is better for both)."""
    seconds, error = np.asarray(seconds, dtype=np.float64), np.asarray(error, dtype=np.float64)
    mask = np.ones(len(seconds), dtype=bool)
    for i in range(len(seconds)):
        better_or_equal = (seconds <= seconds[i]) & (error <= error[i])
        strictly = (seconds < seconds[i]) | (error < error[i])
        mask[i] = not np.any(better_or_equal & strictly)
    return mask


def mae_sentence(difference: Interval, a: str, b: str) -> str:
    """``MAE(a) − MAE(b)`` in words: who is more accurate, by how much with its interval, or "within noise"."""
    text = (f"MAE({a}) − MAE({b}) = {difference.estimate:+.2f} heads (95% CI {difference.low:+.2f} to "
            f"{difference.high:+.2f}, n={difference.n} images)")
    if math.isnan(difference.low) or not difference.excludes_zero:
        return f"{text}: within noise"
    return f"{text}: {a if difference.estimate < 0 else b} is more accurate"


def speed_sentence(slow_ms: Sequence[float], fast_ms: Sequence[float], slow: str, fast: str) -> str:
    """``fast`` is N× faster than ``slow`` (median of per-round ratios, interquartile range, rounds)."""
    ratio = ratio_spread(slow_ms, fast_ms)
    verb = "faster" if ratio.median >= 1 else "slower"
    factor = ratio.median if ratio.median >= 1 else 1 / ratio.median
    return (f"{fast} is {factor:.2f}× {verb} than {slow} (per-round ratio {ratio.median:.2f}, "
            f"IQR {ratio.q25:.2f}–{ratio.q75:.2f}, {ratio.rounds} rounds)")
