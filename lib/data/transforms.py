"""Joint image/label transforms on NumPy arrays; images resize bilinearly, labels by nearest.

Every transform takes and returns ``(image HxWx3 uint8 RGB, label HxW uint8 train ids)`` so
geometric changes keep the two aligned.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lib.data.labels import IGNORE_INDEX


def resize_pair(image: np.ndarray, label: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Resize image (bilinear) and label (nearest, so no new class ids appear) to ``height×width``.

    Labels use ``INTER_NEAREST_EXACT``: OpenCV's plain ``INTER_NEAREST`` samples at ``floor(x / s)``,
    not at pixel centres like ``INTER_LINEAR``, which shifts labels against the image by up to half
    a source pixel.
    """
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    label = cv2.resize(label, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
    return image, label


def pad_pair(image: np.ndarray, label: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad bottom/right to at least ``height×width``: image with 0, label with ``IGNORE_INDEX``."""
    pad_h, pad_w = max(0, height - image.shape[0]), max(0, width - image.shape[1])
    if pad_h or pad_w:
        image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        label = cv2.copyMakeBorder(label, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=IGNORE_INDEX)
    return image, label


def photometric_jitter(
    image: np.ndarray, rng: np.random.Generator, brightness: float, contrast: float, saturation: float
) -> np.ndarray:
    """Random brightness, contrast and saturation changes (labels are unaffected)."""
    out = image.astype(np.float32)
    out *= rng.uniform(1 - brightness, 1 + brightness)
    mean = out.mean()
    out = (out - mean) * rng.uniform(1 - contrast, 1 + contrast) + mean
    gray = out.mean(axis=2, keepdims=True)
    out = (out - gray) * rng.uniform(1 - saturation, 1 + saturation) + gray
    return np.clip(out, 0, 255).astype(np.uint8)


@dataclass
class TrainTransform:
    """Random scale, random crop (label padded with 255), horizontal flip and photometric jitter.

    The standard Cityscapes recipe: scale 0.5–2.0, crop, flip. ``seed`` makes the stream of
    augmentations reproducible per worker (reseeded by ``worker_init``).
    """

    crop: tuple[int, int] = (256, 512)
    scale: tuple[float, float] = (0.5, 2.0)
    flip: bool = True
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.25
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.crop[0] <= 0 or self.crop[1] <= 0:
            raise ValueError(f"crop must be positive, got {self.crop}")
        if not 0 < self.scale[0] <= self.scale[1]:
            raise ValueError(f"scale must be a range 0 < low <= high, got {self.scale}")
        self.rng = np.random.default_rng(self.seed)

    def reseed(self, seed: int) -> None:
        """Give each DataLoader worker its own augmentation stream."""
        self.rng = np.random.default_rng(seed)

    def __call__(self, image: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        factor = self.rng.uniform(*self.scale)
        height, width = max(1, round(image.shape[0] * factor)), max(1, round(image.shape[1] * factor))
        image, label = resize_pair(image, label, height, width)
        crop_h, crop_w = self.crop
        image, label = pad_pair(image, label, crop_h, crop_w)
        top = int(self.rng.integers(0, image.shape[0] - crop_h + 1))
        left = int(self.rng.integers(0, image.shape[1] - crop_w + 1))
        image = image[top : top + crop_h, left : left + crop_w]
        label = label[top : top + crop_h, left : left + crop_w]
        if self.flip and self.rng.random() < 0.5:
            image, label = image[:, ::-1], label[:, ::-1]
        image = photometric_jitter(image, self.rng, self.brightness, self.contrast, self.saturation)
        return np.ascontiguousarray(image), np.ascontiguousarray(label)


@dataclass
class Resize:
    """Deterministic resize of image and label to a fixed ``(height, width)`` (evaluation)."""

    size: tuple[int, int]

    def __call__(self, image: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return resize_pair(image, label, *self.size)


def worker_init(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: reseed a ``TrainTransform`` so workers do not repeat crops."""
    import torch.utils.data

    info = torch.utils.data.get_worker_info()
    transform = getattr(info.dataset, "transform", None) if info is not None else None
    if isinstance(transform, TrainTransform):
        transform.reseed(info.seed % 2**32)
