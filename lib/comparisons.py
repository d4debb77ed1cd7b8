"""The comparisons notebooks 03 and 04 draw, each with its uncertainty: tables and sentences from per-image scores.

Every mIoU is printed with its 95 % bootstrap interval and the number of images; every difference (model vs
model, multi-scale vs single, INT8 vs FP32, calibration method vs method) with a paired interval and the words
"within noise" when that interval covers zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset

from lib import paths
from lib.evaluate import ImageScores, evaluate_per_image
from lib.metrics import majority_class_baseline
from lib.models import create_model
from lib.stats import Interval, verdict


def checkpoint_path(profile_name: str, model_name: str) -> Path:
    """Where notebook 02 leaves a model's final weights.

    Not ``best.pt``: that one is picked by the validation subset 02 watches, which lies among the images 03 and
    04 score, and picking a checkpoint by the scored images would flatter the score.
    """
    return paths.CHECKPOINTS / profile_name / model_name / "last.pt"


def load_trained_models(profile_name: str, model_names: Sequence[str], num_classes: int,
                        device: torch.device | str = "cpu") -> dict[str, nn.Module]:
    """The models notebook 02 trained for this profile, in eval mode; a missing checkpoint says what to run."""
    models = {}
    for name in model_names:
        path = checkpoint_path(profile_name, name)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: run notebook 02 (training) with PROFILE = "
                                    f"{profile_name!r} first, or python -m lib.run --profile {profile_name} --only 02")
        models[name] = create_model(name, num_classes, weights=path).to(device).eval()
    return models


def majority_scores(reference: ImageScores) -> ImageScores:
    """Per-image scores of always predicting the most frequent ground-truth class (of all scored images)."""
    klass = majority_class_baseline(reference.confusions.sum(axis=0))["class_index"]
    gt_pixels = reference.confusions.sum(axis=2)  # N×C ground-truth pixels per class
    confusions = np.zeros_like(reference.confusions)
    confusions[:, :, klass] = gt_pixels
    return ImageScores(confusions, list(reference.indices))


def interval_row(scores: ImageScores) -> dict[str, float | int]:
    """mIoU with its interval and the dataset-level pixel and class accuracy."""
    interval, matrix = scores.interval(), scores.matrix()
    return {"mIoU": interval.estimate, "CI low": interval.low, "CI high": interval.high, "images": interval.n,
            "pixel accuracy": matrix.pixel_accuracy(), "mean class accuracy": matrix.mean_class_accuracy()}


def accuracy_table(scores: Mapping[str, ImageScores]) -> pd.DataFrame:
    """One row per predictor: mIoU [95 % CI], n images, pixel and mean class accuracy."""
    return pd.DataFrame({name: interval_row(s) for name, s in scores.items()}).T.astype({"images": int})


def difference_table(scores: Mapping[str, ImageScores], pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Paired differences ``a − b`` in mIoU points with their intervals and a verdict per pair."""
    rows = []
    for a, b in pairs:
        interval: Interval = scores[a].difference(scores[b])
        rows.append({"comparison": f"{a} − {b}", "ΔmIoU (pts)": 100 * interval.estimate,
                     "CI low": 100 * interval.low, "CI high": 100 * interval.high, "images": interval.n,
                     "verdict": verdict(interval, a, b).rsplit(": ", 1)[-1]})
    return pd.DataFrame(rows).set_index("comparison")


def multiscale_study(models: Mapping[str, nn.Module], dataset: Dataset, num_classes: int,
                     sizes: Sequence[tuple[int, int]], flip: bool, indices: Sequence[int],
                     device: torch.device | str = "cpu") -> dict[str, ImageScores]:
    """Per-image scores of each model at each test size (with and without flip) and fused over all sizes.

    Keys are ``"<model> | <H>×<W>"``, ``"… flip"`` and ``"<model> | fused"``; the first size without flip is
    each model's single-scale reference.
    """
    out: dict[str, ImageScores] = {}
    for name, model in models.items():
        for size in sizes:
            for flipped in (False, True) if flip else (False,):
                key = f"{name} | {size[0]}×{size[1]}" + (" flip" if flipped else "")
                out[key] = evaluate_per_image(model, dataset, num_classes, base_size=tuple(size), flip=flipped,
                                              indices=indices, device=device, desc=key)
        scales = [s[0] / sizes[0][0] for s in sizes]
        out[f"{name} | fused"] = evaluate_per_image(model, dataset, num_classes, scales=scales, base_size=tuple(sizes[0]),
                                                    flip=flip, indices=indices, device=device, desc=f"{name} fused")
    return out


def multiscale_differences(study: Mapping[str, ImageScores], models: Sequence[str],
                           size: tuple[int, int]) -> pd.DataFrame:
    """Each test of the multi-scale study against the model's single-scale test at ``size``."""
    reference = f"{size[0]}×{size[1]}"
    pairs = [(key, f"{name} | {reference}") for name in models for key in study
             if key.startswith(f"{name} | ") and key != f"{name} | {reference}"]
    return difference_table(study, pairs)
