"""A PyTorch dataset of ``(image, density)`` pairs for training and evaluating density-map counters.

Augmentations move the *points*, never the density map: the map is rendered after scaling, cropping and
flipping, so it always sums to the number of heads inside the crop (no interpolation of densities, no
count drift). The density target is sum-pooled to the counters' output stride (8).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from lib.data.cityscapes import to_tensor
from lib.data.crowd.density import downsample_density, head_sigmas, render_density
from lib.data.crowd.formats import CrowdDataError, CrowdItem
from lib.data.transforms import photometric_jitter

STRIDE = 8
"""Output stride of the density counters (three 2×2 poolings)."""


def read_crowd_image(item: CrowdItem) -> np.ndarray:
    """The item's image as ``H×W×3`` uint8 RGB, EXIF orientation ignored (the annotations ignore it too)."""
    if not item.image.is_file():
        raise CrowdDataError(f"{item.image}: image file is missing")
    image = cv2.imread(str(item.image), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise CrowdDataError(f"{item.image}: cannot decode the image (corrupt or truncated); re-extract it")
    if image.shape[:2] != (item.height, item.width):
        raise CrowdDataError(f"{item.image}: decoded size {image.shape[1]}x{image.shape[0]} differs from the header's "
                             f"{item.width}x{item.height}; the file is damaged, re-extract it")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Zero-pad an ``H×W×3`` image at the bottom/right to at least ``height×width``."""
    pad_h, pad_w = max(0, height - image.shape[0]), max(0, width - image.shape[1])
    if pad_h or pad_w:
        image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return image


class CrowdDensityDataset(Dataset):
    """``(image, density)``: float32 ``3×H×W`` normalised like the segmentation data, float32 ``1×H/8×W/8``.

    ``train=True``: random scale in ``scale`` (image resized, points scaled), random ``crop`` (zero padding
    when the image is smaller), horizontal flip and photometric jitter, seeded by ``(seed, epoch, index)``
    (call ``set_epoch``). ``train=False``: the whole image, zero-padded at the bottom/right to a multiple of
    ``stride``. ``max_side``: images with a longer side are first scaled down to it, points with them
    (UCF-QNRF and NWPU-Crowd hold images several thousand pixels wide). The target uses ``method`` kernels (``fixed``
    σ stays ``sigma`` pixels whatever the scale; ``adaptive`` σ is computed once per image from all its heads
    and scaled with the image, so heads at a crop's edge keep the σ their real neighbours give them).
    """

    def __init__(
        self,
        items: Sequence[CrowdItem],
        train: bool = False,
        crop: tuple[int, int] = (256, 256),
        scale: tuple[float, float] = (0.8, 1.2),
        flip: bool = True,
        jitter: float = 0.2,
        stride: int = STRIDE,
        method: str = "adaptive",
        sigma: float = 4.0,
        k: int = 3,
        beta: float = 0.3,
        seed: int = 0,
        max_side: int | None = None,
    ) -> None:
        if not items:
            raise ValueError("no items: load a dataset first (lib.data.crowd.load_nwpu, ...)")
        if crop[0] % stride or crop[1] % stride or min(crop) <= 0:
            raise ValueError(f"crop sides must be positive multiples of the stride {stride}, got {crop}")
        if not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be a range 0 < low <= high, got {scale}")
        self.items, self.train, self.crop, self.scale, self.flip, self.jitter = list(items), train, crop, scale, flip, jitter
        self.stride, self.method, self.sigma, self.k, self.beta = stride, method, sigma, k, beta
        self.seed, self.epoch, self.max_side = seed, 0, max_side
        self._sigmas: dict[int, np.ndarray] = {}
        head_sigmas(np.zeros((0, 2)), method, sigma, k, beta)  # validates the kernel settings now

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return (f"CrowdDensityDataset(images={len(self)}, train={self.train}, crop={self.crop}, "
                f"method={self.method!r}, stride={self.stride})")

    def set_epoch(self, epoch: int) -> None:
        """Draw other augmentations in another epoch (the same ones when an epoch is replayed)."""
        self.epoch = epoch

    def sigmas(self, index: int) -> np.ndarray:
        """Kernel σ of every head of item ``index`` at its original size (cached)."""
        if index not in self._sigmas:
            self._sigmas[index] = head_sigmas(self.items[index].points, self.method, self.sigma, self.k, self.beta)
        return self._sigmas[index]

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``(image uint8 H×W×3, points N×2, sigmas N)`` that ``__getitem__`` renders, after augmentation."""
        item = self.items[index]
        image, points, sigmas = read_crowd_image(item), item.points.astype(np.float64), self.sigmas(index).copy()
        factor = min(1.0, self.max_side / max(item.height, item.width)) if self.max_side else 1.0
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, index]))
        if self.train:
            factor *= rng.uniform(*self.scale)
        if factor != 1.0:
            image, points, sigmas = self._rescale(image, points, sigmas, factor)
        if not self.train:
            step = self.stride
            return pad_to(image, -(-image.shape[0] // step) * step, -(-image.shape[1] // step) * step), points, sigmas
        crop_h, crop_w = self.crop
        image = pad_to(image, crop_h, crop_w)
        top = int(rng.integers(0, image.shape[0] - crop_h + 1))
        left = int(rng.integers(0, image.shape[1] - crop_w + 1))
        image = image[top : top + crop_h, left : left + crop_w]
        points = points - [left, top]
        keep = (points[:, 0] >= 0) & (points[:, 0] <= crop_w) & (points[:, 1] >= 0) & (points[:, 1] <= crop_h)
        points, sigmas = points[keep], sigmas[keep]
        if self.flip and rng.random() < 0.5:
            image, points = image[:, ::-1], np.stack([crop_w - points[:, 0], points[:, 1]], 1)
        if self.jitter > 0:
            image = photometric_jitter(image, rng, self.jitter, self.jitter, self.jitter)
        return np.ascontiguousarray(image), points.reshape(-1, 2), sigmas

    def _rescale(self, image: np.ndarray, points: np.ndarray, sigmas: np.ndarray,
                 factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Resize the image by ``factor`` (rounded to whole pixels) and move the points and kernel widths with it."""
        height, width = max(1, round(image.shape[0] * factor)), max(1, round(image.shape[1] * factor))
        sx, sy = width / image.shape[1], height / image.shape[0]
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
        if self.method == "adaptive":
            sigmas = sigmas * np.sqrt(sx * sy)
        return image, points * [sx, sy], sigmas

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, points, sigmas = self.sample(index)
        dmap = render_density(points, sigmas, image.shape[0], image.shape[1])
        target = downsample_density(dmap, self.stride)
        return to_tensor(image), torch.from_numpy(target)[None]
