"""Counts per image from any density predictor, four ways: whole image, resized, tiles one at a time, tiles batched.

A predictor is any callable ``predict(batch) -> density``: normalised ``N×3×H×W`` floats in, ``N×1×h×w``
density out (a ``lib.models`` counter, or a ``lib.quant`` predictor of one). The count of an image is the sum
of its density map. Timing is the caller's business (``lib.bench.timing.measure`` wraps any of these).

* ``count_whole``: the image zero-padded to a multiple of ``multiple``, one call.
* ``count_resized``: the image resized to ``size`` first. The count is the sum of the density of the resized
  image, **not** rescaled by the area ratio: a density map integrates to the number of heads at whatever
  resolution the model ran, because each head is one unit of mass, not a number of pixels. An area factor
  would be right only for a *map* that was resampled by interpolation (values per pixel kept), which never
  happens here. What resizing costs is accuracy, not scale: shrunk heads may fall below what the model
  resolves (typically under-counting far, small heads), enlarged ones beyond what it was trained on.
* ``count_tiles_naive``: overlapping tiles (``lib.crowd.tiling``), one predictor call per tile.
* ``count_tiles_batched``: the same tiles in batches of ``batch_size`` (all at once by default): the same
  numbers as the naive loop (up to float rounding), fewer calls.

Each function takes a batch tensor (``N×3×H×W`` or one ``3×H×W`` image) or a sequence of ``3×H×W`` images of
different sizes, and returns float64 counts, one per image.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from lib.crowd.tiling import merge_tiles, pad_to_multiple, split_tiles

Predict = Callable[[torch.Tensor], torch.Tensor]
Images = torch.Tensor | Sequence[torch.Tensor]


def _batches(images: Images) -> Iterator[torch.Tensor]:
    """A batch tensor as itself; a sequence of images one by one (they may differ in size)."""
    if isinstance(images, torch.Tensor):
        if images.dim() not in (3, 4):
            raise ValueError(f"expected N×3×H×W or 3×H×W images, got shape {tuple(images.shape)}")
        yield images.unsqueeze(0) if images.dim() == 3 else images
        return
    for image in images:
        yield from _batches(image)


def _density(predict: Predict, batch: torch.Tensor) -> torch.Tensor:
    out = predict(batch)
    out = out if isinstance(out, torch.Tensor) else torch.as_tensor(np.asarray(out))
    if out.dim() != 4 or out.shape[0] != batch.shape[0]:
        raise ValueError(f"predict returned shape {tuple(out.shape)} for a batch of {tuple(batch.shape)}; "
                         "expected N×1×h×w density maps")
    return out


def _sums(density: torch.Tensor) -> np.ndarray:
    return density.detach().to(torch.float64).sum(dim=(1, 2, 3)).cpu().numpy()


def _collect(per_batch: Iterator[np.ndarray]) -> np.ndarray:
    counts = list(per_batch)
    return np.concatenate(counts) if counts else np.zeros(0)


@torch.inference_mode()
def count_whole(predict: Predict, images: Images, multiple: int = 8) -> np.ndarray:
    """Counts of whole images, each batch zero-padded at the bottom/right to a multiple of ``multiple``."""
    return _collect(_sums(_density(predict, pad_to_multiple(batch, multiple)[0])) for batch in _batches(images))


@torch.inference_mode()
def count_resized(predict: Predict, images: Images, size: tuple[int, int], multiple: int = 8) -> np.ndarray:
    """Counts of images resized (bilinear, antialiased when shrinking) to ``size``; see the module docstring."""
    if size[0] % multiple or size[1] % multiple or min(size) <= 0:
        raise ValueError(f"size {size} must have positive sides that are multiples of {multiple}")

    def resized(batch: torch.Tensor) -> torch.Tensor:
        shrink = size[0] < batch.shape[-2] or size[1] < batch.shape[-1]
        return F.interpolate(batch, size=tuple(size), mode="bilinear", align_corners=False, antialias=shrink)

    return _collect(_sums(_density(predict, resized(batch))) for batch in _batches(images))


@torch.inference_mode()
def tiled_density(
    predict: Predict,
    images: torch.Tensor,
    grid: tuple[int, int] = (2, 2),
    overlap: int = 32,
    multiple: int = 8,
    batch_size: int | None = None,
    merge: str = "core",
) -> torch.Tensor:
    """Merged ``N×1×ceil(H/8)×ceil(W/8)`` density of same-size images predicted tile by tile.

    Tiles go to ``predict`` in batches of ``batch_size`` (``None``: all tiles of all images in one call).
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    tiles, plan = split_tiles(images, grid, overlap, multiple)
    step = batch_size or len(tiles)
    outputs = [_density(predict, tiles[start : start + step]) for start in range(0, len(tiles), step)]
    return merge_tiles(torch.cat(outputs), plan, merge)


def count_tiles_naive(predict: Predict, images: Images, grid: tuple[int, int] = (2, 2), overlap: int = 32,
                      multiple: int = 8, merge: str = "core") -> np.ndarray:
    """Counts from overlapping tiles, one predictor call per tile."""
    return count_tiles_batched(predict, images, grid, overlap, multiple, batch_size=1, merge=merge)


def count_tiles_batched(predict: Predict, images: Images, grid: tuple[int, int] = (2, 2), overlap: int = 32,
                        multiple: int = 8, batch_size: int | None = None, merge: str = "core") -> np.ndarray:
    """Counts from overlapping tiles sent ``batch_size`` at a time (``None``: every tile of a batch at once)."""
    return _collect(_sums(tiled_density(predict, batch, grid, overlap, multiple, batch_size, merge))
                    for batch in _batches(images))
