"""Inference and evaluation of a segmentation model over a dataset (single- and multi-scale, flip).

Predictions are always compared with the ground truth at the ground truth's own resolution:
the model sees a resized image, its logits are resized back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from lib.data.labels import IGNORE_INDEX
from lib.metrics import ConfusionMatrix
from lib.sizes import nearest_valid_size
from lib.stats import Interval, bootstrap_miou, bootstrap_miou_difference

Predictor = Callable[[torch.Tensor], torch.Tensor]
"""Anything that maps a normalised N×3×H×W batch to N×C×H×W logits (a model, a compiled or quantized one)."""


@dataclass
class ImageScores:
    """Per-image confusion matrices of one predictor on a list of dataset images (and, optionally, its predictions)."""

    confusions: np.ndarray
    """``N×C×C`` int64: rows ground truth, columns prediction, one matrix per image."""
    indices: list[int]
    """Which dataset images, in order."""
    predictions: list[np.ndarray] | None = None
    """Predicted classes per image (uint8 H×W) when kept."""

    def matrix(self) -> ConfusionMatrix:
        """The dataset-level confusion matrix: the sum over images."""
        total = ConfusionMatrix(self.confusions.shape[1])
        total.matrix = torch.from_numpy(self.confusions.sum(axis=0))
        return total

    def miou(self) -> float:
        return self.matrix().miou()

    def interval(self, resamples: int = 2000, seed: int = 0) -> Interval:
        """mIoU with its 95 % bootstrap interval over these images."""
        return bootstrap_miou(self.confusions, resamples=resamples, seed=seed)

    def difference(self, other: ImageScores, resamples: int = 2000, seed: int = 0) -> Interval:
        """mIoU(self) − mIoU(other) on the same images, with a paired bootstrap interval."""
        if self.indices != other.indices:
            raise ValueError("a paired difference needs scores on the same images")
        return bootstrap_miou_difference(self.confusions, other.confusions, resamples=resamples, seed=seed)

    def agreement(self, other: ImageScores) -> float:
        """Fraction of pixels where both predictors chose the same class (both must keep predictions)."""
        if self.predictions is None or other.predictions is None or self.indices != other.indices:
            raise ValueError("pixel agreement needs kept predictions on the same images")
        same = sum(int((a == b).sum()) for a, b in zip(self.predictions, other.predictions, strict=True))
        return same / sum(a.size for a in self.predictions)


def held_out_indices(val_size: int, validated: int, limit: int = 0) -> tuple[int, ...]:
    """The validation images a result may be scored on: those after the first ``validated``, at most ``limit``
    (0 = all of them).

    Training (notebook 02, ``train.val_max_images``) validates on the first ``validated`` images: its curves,
    its ``best.pt`` and the choice of the recipe come from them, so scoring them would score on the data that
    tuned the model. ``validated = 0`` means it validated on all of them, which leaves nothing to score.
    """
    if not 0 < validated < val_size:
        seen = "every one" if validated <= 0 or validated >= val_size else str(validated)
        raise ValueError(f"training validates on {seen} of the {val_size} validation images, which leaves none "
                         "to score on: set the profile's train.val_max_images below the split's size (or generate "
                         "more validation images: data.synthetic_val)")
    held_out = range(validated, val_size)
    return tuple(held_out[:limit] if limit > 0 else held_out)


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """``scale`` × (height, width), each side snapped to a multiple of 32."""
    return nearest_valid_size(height * scale), nearest_valid_size(width * scale)


@torch.inference_mode()
def predict_probabilities(
    predictor: Predictor,
    images: torch.Tensor,
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    base_size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Class probabilities (softmax, not logits) averaged over ``scales`` (× horizontal flip), at the input's resolution.

    ``base_size`` is the (height, width) that scale 1.0 means; by default the input's own size.
    Averaging softmax probabilities (not logits) is the usual multi-scale test recipe.
    """
    height, width = images.shape[-2:]
    base_h, base_w = base_size or (height, width)
    total: torch.Tensor | None = None
    for scale in scales:
        size = scaled_size(base_h, base_w, scale)
        resized = images if size == (height, width) else F.interpolate(images, size, mode="bilinear", align_corners=False)
        batches = [resized, resized.flip(-1)] if flip else [resized]
        for index, batch in enumerate(batches):
            logits = predictor(batch).float()
            if index == 1:
                logits = logits.flip(-1)
            if logits.shape[-2:] != (height, width):
                logits = F.interpolate(logits, (height, width), mode="bilinear", align_corners=False)
            probabilities = logits.softmax(dim=1)
            total = probabilities if total is None else total + probabilities
    assert total is not None
    return total / (len(scales) * (2 if flip else 1))


def evaluate(
    predictor: Predictor,
    dataset: Dataset,
    num_classes: int,
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    base_size: tuple[int, int] | None = None,
    max_images: int | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
    desc: str = "eval",
) -> ConfusionMatrix:
    """Confusion matrix of ``predictor`` over ``dataset`` (or its first ``max_images``), accumulated over all pixels."""
    indices = range(min(max_images or len(dataset), len(dataset)))
    return evaluate_per_image(predictor, dataset, num_classes, scales=scales, flip=flip, base_size=base_size,
                              indices=indices, device=device, progress=progress, desc=desc).matrix()


def evaluate_per_image(
    predictor: Predictor,
    dataset: Dataset,
    num_classes: int,
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    base_size: tuple[int, int] | None = None,
    indices: Sequence[int] | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
    desc: str = "eval",
    keep_predictions: bool = False,
) -> ImageScores:
    """One confusion matrix per image of ``dataset`` (or of ``indices``): what bootstrap intervals resample.

    ``keep_predictions`` also keeps each image's predicted classes (uint8), to compare two predictors pixel
    by pixel (e.g. how often an INT8 path agrees with FP32).
    """
    if isinstance(predictor, nn.Module):
        predictor.eval()
    chosen = list(range(len(dataset))) if indices is None else [int(i) for i in indices]
    confusions = np.zeros((len(chosen), num_classes, num_classes), dtype=np.int64)
    predictions: list[np.ndarray] = []
    for row, index in enumerate(tqdm(chosen, desc=desc, disable=not progress, leave=False)):
        image, label = dataset[index]
        classes = predict_probabilities(predictor, image.unsqueeze(0).to(device), scales, flip, base_size).argmax(dim=1)[0].cpu()
        confusions[row] = ConfusionMatrix(num_classes, ignore_index=IGNORE_INDEX).update(classes, label).matrix.numpy()
        if keep_predictions:
            predictions.append(classes.numpy().astype(np.uint8))
    return ImageScores(confusions, chosen, predictions if keep_predictions else None)


def segmentation_scorer(
    dataset: Dataset,
    num_classes: int,
    size: tuple[int, int] | None = None,
    max_images: int | None = None,
    indices: Sequence[int] | None = None,
    keep_predictions: bool = False,
) -> Callable[[Predictor], dict]:
    """A function scoring any predictor on ``dataset`` (its ``indices``, else its first ``max_images``): mIoU,
    pixel accuracy, per-class IoU, and ``image_scores`` (per-image confusions, for intervals and paired tests).

    ``size``: images are resized to it before inference (static-shape predictors need their own size);
    scores are always at the ground truth's resolution.
    """
    if indices is None:
        indices = range(min(max_images or len(dataset), len(dataset)))
    chosen = list(indices)

    def score(predictor: Predictor) -> dict:
        scores = evaluate_per_image(predictor, dataset, num_classes, base_size=size, indices=chosen, progress=False,
                                    keep_predictions=keep_predictions)
        matrix = scores.matrix()
        return {"miou": matrix.miou(), "pixel_accuracy": matrix.pixel_accuracy(), "per_class_iou": matrix.iou().tolist(),
                "image_scores": scores}

    return score


def official_agreement(
    predictor: Predictor,
    dataset,
    out_dir: str | Path,
    max_images: int = 4,
    device: torch.device | str = "cpu",
) -> dict:
    """Score the first ``max_images`` of a ``CityscapesSegmentation`` with our metrics *and* cityscapesscripts.

    Predictions are written in the official results format (label ids, full resolution, one PNG per
    image) to ``out_dir`` and scored by ``evalPixelLevelSemanticLabeling`` against the dataset's own
    ``_gtFine_labelIds.png``. Returns both mIoUs and per-class IoUs and their largest difference.
    """
    from lib.official import evaluate_with_cityscapesscripts, write_official_prediction

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.png"):
        stale.unlink()  # the official script refuses two predictions for one image
    matrix = ConfusionMatrix(dataset.class_set.num_classes, ignore_index=IGNORE_INDEX)
    predictions, ground_truths = [], []
    for index in range(min(max_images, len(dataset))):
        image, label = dataset[index]
        prediction = predict_probabilities(predictor, image.unsqueeze(0).to(device)).argmax(dim=1)[0].cpu()
        matrix.update(prediction, label)
        sample = dataset.samples[index]
        stem = sample.image.name.removesuffix("_leftImg8bit.png")
        predictions.append(write_official_prediction(prediction.numpy(), dataset.class_set, out_dir / f"{stem}_pred.png",
                                                     expected_size=tuple(label.shape)))
        ground_truths.append(sample.label_ids)
    official = evaluate_with_cityscapesscripts([str(p) for p in predictions], [str(g) for g in ground_truths])
    ours = dict(zip(dataset.class_set.class_names, matrix.iou().tolist(), strict=True))
    differences = [abs(ours[name] - value) for name, value in official["iou"].items()
                   if name in ours and not (math.isnan(ours[name]) and math.isnan(value))]
    return {"images": len(predictions), "ours_miou": matrix.miou(), "official_miou": official["miou"],
            "ours_iou": ours, "official_iou": official["iou"], "max_abs_difference": max(differences, default=0.0)}
