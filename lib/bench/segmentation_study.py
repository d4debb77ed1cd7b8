"""Notebook 04's study, as functions: which images play which role, the benchmark over models, the tables.

Calibration and tuning images come from the training split; every path is scored on validation images that
neither of them nor training's validation touched (``lib.quant.calibration.deployment_images``,
``lib.evaluate.held_out_indices``). Accuracy differences carry paired bootstrap
intervals over the scored images; speed ratios come from interleaved rounds with their quartiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from lib.bench.deployment import benchmark_backends
from lib.data.cityscapes import CityscapesSegmentation
from lib.evaluate import ImageScores, held_out_indices, segmentation_scorer
from lib.models import model_summary
from lib.quant import quantize
from lib.quant.calibration import DeploymentImages, classes_covered, deployment_images, label_histograms, select_calibration
from lib.stats import Interval, verdict


@dataclass
class DeploymentData:
    """The images of a deployment study and the functions that score predictors on them."""

    images: DeploymentImages
    calib: list[torch.Tensor]
    score: Any
    """Scores a predictor on the scored validation images (per-image confusions and predictions kept)."""
    tuning_score: Any
    """Scores a predictor on the tuning images (training split): what accuracy-aware backends optimise."""
    histograms: np.ndarray
    classes_covered: int


def prepare_deployment_data(train_set: CityscapesSegmentation, val: CityscapesSegmentation, cfg: Any,
                            size: tuple[int, int], validated: int, seed: int = 0) -> DeploymentData:
    """Calibration images by ``cfg.calib_method``, tuning images beside them, scored images from validation:
    the first ``cfg.eval_images`` after the ``validated`` ones training looked at (:func:`held_out_indices`)."""
    num_classes = train_set.class_set.num_classes
    histograms = label_histograms(train_set, num_classes)  # read once, used by every selection
    calibration = select_calibration(train_set, cfg.calib_method, cfg.calib_images, num_classes, seed,
                                     histograms=histograms)
    images = deployment_images(calibration, len(train_set), held_out_indices(len(val), validated, cfg.eval_images),
                               cfg.tuning_images)
    return DeploymentData(
        images=images, calib=[train_set[i][0].unsqueeze(0) for i in images.calibration],
        score=segmentation_scorer(val, num_classes, size, indices=images.scored, keep_predictions=True),
        tuning_score=segmentation_scorer(train_set, num_classes, size, indices=images.tuning),
        histograms=histograms, classes_covered=classes_covered(train_set, images.calibration, num_classes))


def run_deployment(models: Mapping[str, nn.Module], cfg: Any, size: tuple[int, int], data: DeploymentData,
                   int8_peak: float | None, out_dir: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every path of the profile on every model; returns all records and the first model's predictors (the
    others are freed: compiled graphs are large)."""
    records: list[dict[str, Any]] = []
    first: dict[str, Any] = {}
    for index, (name, model) in enumerate(models.items()):
        model_records, built = benchmark_backends(
            model, name, cfg.backends_for(index), size, data.calib, score_fn=data.score,
            tuning_score_fn=data.tuning_score, tolerable_loss=cfg.tolerable_loss,
            macs=model_summary(model, size)["macs"], int8_peak_gops=int8_peak, repeats=cfg.latency_repeats,
            warmup=cfg.latency_warmup, throughput_batch=cfg.throughput_batch,
            throughput_repeats=cfg.throughput_repeats, throughput_compiled=cfg.throughput_compiled, out_dir=out_dir)
        records += model_records
        first = built if index == 0 else first
    return records, first


RESULT_COLUMNS = ["model", "backend", "latency_ms_median", "speedup_vs_fp32_eager", "speedup_vs_fp32_eager_q25",
                  "speedup_vs_fp32_eager_q75", "speedup_vs_fastest_fp32", "miou", "delta_miou", "delta_miou_low",
                  "delta_miou_high", "pixel_agreement_vs_fp32", "images_per_s", "size_mb", "quantize_s",
                  "fraction_of_int8_peak"]


def results_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The paths that ran, fastest first per model, with the columns a reader compares."""
    ran = pd.DataFrame([r for r in records if r["status"] == "ok"])
    ran = ran.reindex(columns=list(dict.fromkeys([*RESULT_COLUMNS, *ran.columns])))
    return ran.sort_values(["model", "latency_ms_median"]).reset_index(drop=True)


def delta_sentences(records: list[dict[str, Any]]) -> list[str]:
    """One line per INT8 path: its mIoU change against FP32 eager with the interval, or "within noise"."""
    lines = []
    for r in records:
        if r["status"] == "ok" and r["int8"] and "delta_miou_low" in r:
            interval = Interval(r["delta_miou"], r["delta_miou_low"], r["delta_miou_high"], r["scored_images"])
            lines.append(f"{r['model']}: " + verdict(interval, r["backend"], "fp32"))
    return lines


def calibration_study(model: nn.Module, backend: str, methods: tuple[str, ...], train_set: CityscapesSegmentation,
                      data: DeploymentData, count: int, size: tuple[int, int], fp32: ImageScores,
                      seed: int = 0) -> pd.DataFrame:
    """The same backend calibrated on each method's images, scored on the scored images, each against FP32 eager
    and, paired on the same images, against the first method."""
    num_classes = train_set.class_set.num_classes
    rows, first = [], None
    for method in methods:
        indices = select_calibration(train_set, method, count, num_classes, seed, histograms=data.histograms)
        predictor = quantize(model, backend, [train_set[i][0].unsqueeze(0) for i in indices], input_size=size)
        scores: ImageScores = data.score(predictor)["image_scores"]
        difference = scores.difference(fp32)
        first = first or (method, scores)
        versus = scores.difference(first[1])
        rows.append({"method": method, "calibration images": len(indices),
                     "classes covered": classes_covered(train_set, indices, num_classes), "mIoU": scores.miou(),
                     "scored images": difference.n,
                     "ΔmIoU vs fp32 (pts)": 100 * difference.estimate, "CI low": 100 * difference.low,
                     "CI high": 100 * difference.high, "pixel agreement": scores.agreement(fp32),
                     "verdict": verdict(difference, method, "fp32").rsplit(": ", 1)[-1],
                     f"vs {first[0]}": "reference" if method == first[0]
                     else verdict(versus, method, first[0]).split(": ", 1)[1]})
    return pd.DataFrame(rows).set_index("method") if rows else pd.DataFrame()
