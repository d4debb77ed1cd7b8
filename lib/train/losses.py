"""Segmentation losses: cross-entropy with ignore index, optional class weights, OHEM and a Dice term."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib.data.labels import IGNORE_INDEX


def inverse_sqrt_frequency_weights(pixel_counts: Sequence[int] | np.ndarray) -> tuple[float, ...]:
    """Class weights ∝ 1/√share, scaled so that the expected weight of a labelled pixel is 1.

    ``pixel_counts`` holds one count per class (ignored pixels excluded). A class with no pixels gets the
    weight of the rarest present class: it never occurs in training, so only its place in the tuple matters.
    """
    counts = np.asarray(pixel_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.sum() <= 0 or (counts < 0).any():
        raise ValueError(f"pixel counts must be a 1-D array of non-negative counts with a positive sum, got {counts}")
    share = counts / counts.sum()
    present = share > 0
    weights = np.where(present, 1.0 / np.sqrt(np.where(present, share, 1.0)), 0.0)
    weights[~present] = weights[present].max()
    weights /= (weights * share).sum()
    return tuple(float(w) for w in weights)


class SegmentationLoss(nn.Module):
    """Pixel-wise cross-entropy; with ``ohem``, online hard example mining as in HRNet/OCR.

    OHEM keeps the pixels whose ground-truth probability is below ``threshold`` and at least the
    ``min_kept`` fraction of labelled pixels with the lowest probability, then averages their loss.
    ``dice_weight`` > 0 adds that multiple of smp's multi-class soft Dice loss (ignored pixels masked).
    """

    def __init__(
        self,
        class_weights: Sequence[float] = (),
        ignore_index: int = IGNORE_INDEX,
        ohem: bool = False,
        threshold: float = 0.7,
        min_kept: float = 0.1,
        dice_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.dice_weight = dice_weight
        self.dice = None
        if dice_weight > 0:
            from segmentation_models_pytorch.losses import DiceLoss

            self.dice = DiceLoss("multiclass", ignore_index=ignore_index)
        self.ignore_index = ignore_index
        self.ohem, self.threshold, self.min_kept = ohem, threshold, min_kept
        weight = torch.tensor(class_weights, dtype=torch.float32) if len(class_weights) else None
        self.register_buffer("weight", weight, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.weight is not None and self.weight.numel() != logits.shape[1]:
            raise ValueError(f"{self.weight.numel()} class weights for {logits.shape[1]} classes")
        logits = logits.float()
        loss = self.cross_entropy(logits, target)
        if self.dice is not None:
            loss = loss + self.dice_weight * self.dice(logits, target)
        return loss

    def cross_entropy(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if not self.ohem:
            return F.cross_entropy(logits, target, weight=self.weight, ignore_index=self.ignore_index)
        pixel_loss = F.cross_entropy(logits, target, weight=self.weight, ignore_index=self.ignore_index, reduction="none")
        valid = target != self.ignore_index
        if not valid.any():
            return logits.sum() * 0.0
        with torch.no_grad():
            probability = logits.softmax(dim=1).gather(1, target.clamp(max=logits.shape[1] - 1).unsqueeze(1)).squeeze(1)
            probability = probability[valid]
            kept = max(1, int(self.min_kept * probability.numel()))
            kth = probability.kthvalue(min(kept, probability.numel())).values
            threshold = torch.maximum(kth, torch.tensor(self.threshold, device=kth.device))
        hard = probability <= threshold
        return pixel_loss[valid][hard].mean()
