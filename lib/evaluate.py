"""Inference and evaluation of a segmentation model over a dataset (single- and multi-scale, flip).

Predictions are always compared with the ground truth at the ground truth's own resolution:
the model sees a resized image, its logits are resized back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm.auto import tqdm

from lib.data.labels import IGNORE_INDEX
from lib.metrics import ConfusionMatrix

STRIDE = 32
"""Both model families need input sides divisible by 32."""

Predictor = Callable[[torch.Tensor], torch.Tensor]
"""Anything that maps a normalised N×3×H×W batch to N×C×H×W logits (a model, a compiled or quantized one)."""


def snap_to_stride(size: int, stride: int = STRIDE) -> int:
    """Nearest multiple of ``stride`` (at least one stride)."""
    return max(stride, int(round(size / stride)) * stride)


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """``scale`` × (height, width), each side snapped to a multiple of 32."""
    return snap_to_stride(height * scale), snap_to_stride(width * scale)


@torch.inference_mode()
def predict_logits(
    predictor: Predictor,
    images: torch.Tensor,
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    base_size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Class probabilities averaged over ``scales`` (× horizontal flip), at the input's resolution.

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
    batch_size: int = 1,
    device: torch.device | str = "cpu",
    progress: bool = True,
    desc: str = "eval",
) -> ConfusionMatrix:
    """Confusion matrix of ``predictor`` over ``dataset`` (or its first ``max_images``), accumulated over all pixels."""
    if isinstance(predictor, nn.Module):
        predictor.eval()
    if max_images is not None and max_images < len(dataset):
        dataset = Subset(dataset, range(max_images))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    matrix = ConfusionMatrix(num_classes, ignore_index=IGNORE_INDEX)
    for images, labels in tqdm(loader, desc=desc, disable=not progress, leave=False):
        probabilities = predict_logits(predictor, images.to(device), scales, flip, base_size)
        matrix.update(probabilities.argmax(dim=1).cpu(), labels)
    return matrix


def segmentation_scorer(
    dataset: Dataset, num_classes: int, size: tuple[int, int] | None = None, max_images: int | None = None
) -> Callable[[Predictor], dict]:
    """A function scoring any predictor on ``dataset``: mIoU, pixel accuracy and per-class IoU.

    ``size``: images are resized to it before inference (static-shape predictors need their own size);
    scores are always at the ground truth's resolution.
    """
    def score(predictor: Predictor) -> dict:
        matrix = evaluate(predictor, dataset, num_classes, base_size=size, max_images=max_images, progress=False)
        return {"miou": matrix.miou(), "pixel_accuracy": matrix.pixel_accuracy(), "per_class_iou": matrix.iou().tolist()}

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
    from lib.metrics import evaluate_with_cityscapesscripts, write_official_prediction

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.png"):
        stale.unlink()  # the official script refuses two predictions for one image
    matrix = ConfusionMatrix(dataset.class_set.num_classes, ignore_index=IGNORE_INDEX)
    predictions, ground_truths = [], []
    for index in range(min(max_images, len(dataset))):
        image, label = dataset[index]
        prediction = predict_logits(predictor, image.unsqueeze(0).to(device)).argmax(dim=1)[0].cpu()
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
