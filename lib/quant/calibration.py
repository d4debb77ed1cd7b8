"""Which images to calibrate on: random N, class-balanced N (rare classes covered), or one well-chosen image.

Works on any dataset of ``(image, label)`` pairs with ``255`` as ignore; it never looks at a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

METHODS = ("random", "class-balanced", "single")


def label_histograms(dataset: Dataset, num_classes: int, indices: Sequence[int] | None = None) -> np.ndarray:
    """``len(indices) × num_classes`` pixel counts per image (ignore pixels not counted)."""
    indices = range(len(dataset)) if indices is None else indices
    rows = []
    for index in indices:
        # A Cityscapes dataset can read the label alone; any other (image, label) dataset is indexed.
        label = dataset.load_label(index)[0] if hasattr(dataset, "load_label") else dataset[index][1]
        label = torch.as_tensor(label).long().flatten()
        label = label[label < num_classes]
        rows.append(torch.bincount(label, minlength=num_classes).numpy())
    return np.stack(rows).astype(np.int64)


def class_balanced_indices(histograms: np.ndarray, count: int) -> list[int]:
    """Greedy choice of ``count`` images that cover the classes, rarest first.

    Each class is weighted by the inverse of its dataset-wide pixel share; an image's gain is the weight
    of the classes it shows that the chosen images do not yet show (ties: more weighted pixels). Once all
    present classes are covered, coverage restarts so later picks add second examples of rare classes.
    """
    present = histograms > 0
    totals = histograms.sum(axis=0).astype(np.float64)
    weights = np.where(totals > 0, totals.sum() / np.maximum(totals, 1), 0.0)
    shares = histograms / np.maximum(histograms.sum(axis=1, keepdims=True), 1)
    chosen: list[int] = []
    covered = np.zeros(histograms.shape[1], dtype=bool)
    while len(chosen) < min(count, len(histograms)):
        if covered[totals > 0].all():
            covered[:] = False
        gain = (present & ~covered) @ weights + 1e-9 * (shares @ weights)
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        covered |= present[best]
    return chosen


def select_calibration(
    dataset: Dataset, method: str, count: int, num_classes: int, seed: int = 0, pool: int | None = None,
    histograms: np.ndarray | None = None,
) -> list[int]:
    """Indices of the calibration images for ``method`` (``random``, ``class-balanced``, ``single``).

    ``pool``: choose among the first ``pool`` images only (label histograms cost one read per image);
    ``histograms``: precomputed ``label_histograms`` of those images, to choose several times for one read.
    ``single`` is the class-balanced choice of one image: the one showing the most (rarity-weighted) classes.
    """
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r}; choose one of {METHODS}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    size = len(dataset) if pool is None else min(pool, len(dataset))
    if method == "random":
        return sorted(np.random.default_rng(seed).choice(size, size=min(count, size), replace=False).tolist())
    if histograms is None:
        histograms = label_histograms(dataset, num_classes, range(size))
    return class_balanced_indices(histograms, 1 if method == "single" else count)


def classes_covered(dataset: Dataset, indices: Sequence[int], num_classes: int) -> int:
    """How many classes appear in the labels of the chosen images."""
    return int((label_histograms(dataset, num_classes, indices).sum(axis=0) > 0).sum())


@dataclass(frozen=True)
class DeploymentImages:
    """Which images each role of a deployment study uses: calibration and tuning from the training split,
    scoring on validation images neither of them saw."""

    calibration: tuple[int, ...]
    """Training-split indices whose activations set the INT8 ranges."""
    tuning: tuple[int, ...]
    """Training-split indices the accuracy-aware backends score candidates on (none of the calibration images)."""
    scored: tuple[int, ...]
    """Validation-split indices every path is scored on."""

    def __post_init__(self) -> None:
        if set(self.calibration) & set(self.tuning):
            raise ValueError("calibration and tuning images overlap")

    def describe(self) -> str:
        return (f"calibration: {len(self.calibration)} training images; tuning: {len(self.tuning)} other training "
                f"images; scored: {len(self.scored)} validation images (never used to calibrate, tune or follow training)")


def deployment_images(calibration: Sequence[int], train_size: int, scored: Sequence[int],
                      tuning_images: int) -> DeploymentImages:
    """Tuning images: the first ``tuning_images`` training images not used for calibration; ``scored``: the
    validation images every path is scored on (:func:`lib.evaluate.held_out_indices`: none that training
    validated on)."""
    calibration = tuple(int(i) for i in calibration)
    rest = [i for i in range(train_size) if i not in set(calibration)]
    if tuning_images > len(rest):
        raise ValueError(f"{tuning_images} tuning images requested but only {len(rest)} training images are not "
                         "calibration images; lower tuning_images or calib_images")
    return DeploymentImages(calibration, tuple(rest[:tuning_images]), tuple(int(i) for i in scored))
