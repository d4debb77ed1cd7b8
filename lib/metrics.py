"""Semantic segmentation metrics: pure functions of a dataset-wide confusion matrix.

Scores are pure functions of the confusion matrix (rows = ground truth, columns = prediction), so they
can be recomputed from a saved matrix. Conventions follow the official Cityscapes evaluator
(``cityscapesscripts``): pixels whose target is ``ignore_index`` are skipped; a class's IoU is NaN when
it is neither in the ground truth nor predicted; means skip NaN. On ``CITYSCAPES19`` our per-class IoU
and mIoU equal the official ones; for smaller class sets they differ because the official evaluator
still scores the 19 classes (the classes outside the set count as ground truth there). Writing predictions in
the official format and running the official evaluator live in :mod:`lib.official`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from lib.data.labels import IGNORE_INDEX

# --------------------------------------------------------------------------- scores of a matrix


def _as_float(matrix: torch.Tensor | np.ndarray) -> torch.Tensor:
    m = torch.as_tensor(matrix, dtype=torch.float64)
    if m.dim() != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"expected a square confusion matrix, got shape {tuple(m.shape)}")
    return m


def iou_from_matrix(matrix: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Per-class IoU = TP / (TP + FP + FN), float64; NaN where the class is neither in GT nor predicted."""
    m = _as_float(matrix)
    tp = m.diagonal()
    denom = m.sum(0) + m.sum(1) - tp
    return torch.where(denom > 0, tp / denom.clamp(min=1), torch.full_like(tp, float("nan")))


def miou_from_matrix(matrix: torch.Tensor | np.ndarray) -> float:
    """Mean IoU over the classes whose IoU is defined (NaN-skipping mean, as the official evaluator)."""
    return float(torch.nanmean(iou_from_matrix(matrix)))


def pixel_accuracy_from_matrix(matrix: torch.Tensor | np.ndarray) -> float:
    """Fraction of evaluated (non-ignored) pixels predicted correctly; NaN for an empty matrix."""
    m = _as_float(matrix)
    total = m.sum()
    return float(m.trace() / total) if total > 0 else float("nan")


def class_accuracy_from_matrix(matrix: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Per-class recall TP / (TP + FN); NaN for classes absent from the ground truth."""
    m = _as_float(matrix)
    gt = m.sum(1)
    return torch.where(gt > 0, m.diagonal() / gt.clamp(min=1), torch.full_like(gt, float("nan")))


def mean_class_accuracy_from_matrix(matrix: torch.Tensor | np.ndarray) -> float:
    """Mean per-class accuracy over the classes present in the ground truth."""
    return float(torch.nanmean(class_accuracy_from_matrix(matrix)))


def fw_iou_from_matrix(matrix: torch.Tensor | np.ndarray) -> float:
    """Frequency-weighted IoU: per-class IoU weighted by the class's share of ground-truth pixels."""
    m = _as_float(matrix)
    total = m.sum()
    if total == 0:
        return float("nan")
    freq = m.sum(1) / total
    present = freq > 0  # classes in the GT always have a defined IoU
    return float((freq[present] * iou_from_matrix(m)[present]).sum())


def scores_from_matrix(matrix: torch.Tensor | np.ndarray, class_names: Sequence[str] | None = None) -> dict[str, Any]:
    """All scores as plain Python floats (NaN kept): miou, pixel_accuracy, mean_class_accuracy, fw_iou, iou."""
    iou = iou_from_matrix(matrix).tolist()
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(iou))]
    if len(names) != len(iou):
        raise ValueError(f"{len(names)} class names for a {len(iou)}-class matrix")
    return {
        "miou": miou_from_matrix(matrix),
        "pixel_accuracy": pixel_accuracy_from_matrix(matrix),
        "mean_class_accuracy": mean_class_accuracy_from_matrix(matrix),
        "fw_iou": fw_iou_from_matrix(matrix),
        "iou": dict(zip(names, iou, strict=True)),
    }


def majority_class_baseline(matrix: torch.Tensor | np.ndarray) -> dict[str, Any]:
    """Scores of always predicting the most frequent ground-truth class of ``matrix``.

    A trained model that does not beat this has learnt nothing beyond class frequencies.
    Returns ``class_index`` and the keys of :func:`scores_from_matrix` (without per-class IoU).
    """
    m = _as_float(matrix)
    gt = m.sum(1)
    k = int(gt.argmax())
    baseline = torch.zeros_like(m)
    baseline[:, k] = gt  # every pixel of every class is predicted as k
    scores = scores_from_matrix(baseline)
    del scores["iou"]
    return {"class_index": k, **scores}


# --------------------------------------------------------------------------- accumulation


class ConfusionMatrix:
    """Dataset-wide confusion matrix (rows = ground truth, columns = prediction), accumulated with bincount."""

    def __init__(self, num_classes: int, ignore_index: int = IGNORE_INDEX) -> None:
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)

    def reset(self) -> None:
        """Forget everything accumulated so far."""
        self.matrix.zero_()

    @torch.no_grad()
    def update(self, pred: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray) -> ConfusionMatrix:
        """Add a batch: ``pred`` class indices shaped like ``target``, or float logits ``(N×)C×H×W``.

        Logits are reduced with argmax over the class axis (dim -3). Target pixels equal to
        ``ignore_index`` are skipped; any other target outside ``[0, num_classes)`` is an error.
        """
        pred, target = torch.as_tensor(pred), torch.as_tensor(target)
        if pred.is_floating_point():
            if pred.dim() != target.dim() + 1 or pred.dim() < 3 or pred.shape[-3] != self.num_classes:
                raise ValueError(
                    f"logits of shape {tuple(pred.shape)} do not fit target {tuple(target.shape)} with "
                    f"{self.num_classes} classes; expected (N×){self.num_classes}×H×W"
                )
            pred = pred.argmax(dim=-3)
        if pred.shape != target.shape:
            raise ValueError(f"prediction shape {tuple(pred.shape)} != target shape {tuple(target.shape)}")
        if target.is_floating_point():
            raise ValueError(f"target must hold integer class indices, got dtype {target.dtype}")
        pred, target = pred.reshape(-1).long(), target.to(pred.device).reshape(-1).long()
        keep = target != self.ignore_index
        pred, target = pred[keep], target[keep]
        bad_target = (target < 0) | (target >= self.num_classes)
        if bad_target.any():
            raise ValueError(
                f"target holds value {int(target[bad_target][0])}, outside 0..{self.num_classes - 1} "
                f"and not ignore_index={self.ignore_index}"
            )
        bad_pred = (pred < 0) | (pred >= self.num_classes)
        if bad_pred.any():
            raise ValueError(f"prediction holds value {int(pred[bad_pred][0])}, outside 0..{self.num_classes - 1}")
        counts = torch.bincount(target * self.num_classes + pred, minlength=self.num_classes**2)
        self.matrix += counts.reshape(self.num_classes, self.num_classes).cpu()
        return self

    def merge(self, other: ConfusionMatrix) -> ConfusionMatrix:
        """Add ``other``'s counts to this matrix in place (e.g. from another worker); returns self."""
        if (other.num_classes, other.ignore_index) != (self.num_classes, self.ignore_index):
            raise ValueError(
                f"cannot merge a {other.num_classes}-class matrix (ignore {other.ignore_index}) into a "
                f"{self.num_classes}-class one (ignore {self.ignore_index})"
            )
        self.matrix += other.matrix
        return self

    def __add__(self, other: ConfusionMatrix) -> ConfusionMatrix:
        result = ConfusionMatrix(self.num_classes, self.ignore_index)
        result.matrix = self.matrix.clone()
        return result.merge(other)

    def iou(self) -> torch.Tensor:
        """Per-class IoU (float64), NaN for classes neither in the ground truth nor predicted."""
        return iou_from_matrix(self.matrix)

    def miou(self) -> float:
        """Mean IoU over classes with a defined IoU."""
        return miou_from_matrix(self.matrix)

    def pixel_accuracy(self) -> float:
        """Fraction of non-ignored pixels predicted correctly."""
        return pixel_accuracy_from_matrix(self.matrix)

    def mean_class_accuracy(self) -> float:
        """Mean recall over classes present in the ground truth."""
        return mean_class_accuracy_from_matrix(self.matrix)

    def fw_iou(self) -> float:
        """Frequency-weighted IoU."""
        return fw_iou_from_matrix(self.matrix)

    def as_dict(self, class_names: Sequence[str] | None = None) -> dict[str, Any]:
        """JSON-ready scores (see :func:`scores_from_matrix`) plus the raw ``matrix`` as nested lists."""
        return {**scores_from_matrix(self.matrix, class_names), "matrix": self.matrix.tolist()}

    def __repr__(self) -> str:
        return (
            f"ConfusionMatrix(num_classes={self.num_classes}, pixels={int(self.matrix.sum())}, miou={self.miou():.4f})"
        )
