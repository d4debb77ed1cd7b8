"""Split large images into overlapping tiles of one size, and merge the tiles' density maps back.

Geometry (``TileGrid``): the image (``H×W``) is zero-padded at the bottom/right to ``rows·core_h ×
cols·core_w``, where each *core* is a multiple of ``multiple`` pixels. The cores partition the padded
image. Each tile is its core grown by ``overlap`` pixels on every side, shifted inward at the image
border, so all tiles have the same size (one batch, one static input size for compiled or quantized
predictors) and each core lies inside its tile.

Merging (``merge_tiles``) resolves the overlaps so no head is counted twice:

* ``"core"`` (default): every output cell is taken from exactly one tile, the one whose core holds it,
  where the model saw the most context around it. Cores are aligned to the output grid (``multiple`` is a
  multiple of the output stride), so a head on a seam falls in exactly one core.
* ``"average"``: every tile's whole map is added and divided by how many tiles cover each cell. It also
  counts each head once (a weighted mean of estimates of the same density) and hides seams, but mixes in
  predictions from tile borders, where the model lacks context.

Padding is zero in the normalised input, i.e. the dataset's mean colour; the padded cells are cropped off
after merging (the map covers ``ceil(H / stride) × ceil(W / stride)`` cells).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

MERGE_MODES = ("core", "average")


@dataclass(frozen=True)
class TileGrid:
    """Where the tiles of one image lie, in input pixels; the same for every image of a batch."""

    image_size: tuple[int, int]
    """``(H, W)`` of the image before padding."""
    padded_size: tuple[int, int]
    grid: tuple[int, int]
    """``(rows, cols)``."""
    core: tuple[int, int]
    tile: tuple[int, int]
    """``(tile_h, tile_w)``: the input size every tile has."""
    overlap: tuple[int, int]
    """Overlap actually used on each side (the request rounded up to ``multiple``, capped by the image)."""
    origins: tuple[tuple[int, int], ...]
    """``(top, left)`` of each tile, row-major."""

    @property
    def count(self) -> int:
        return self.grid[0] * self.grid[1]

    @property
    def padding(self) -> tuple[int, int]:
        """Rows and columns of zeros added at the bottom and right."""
        return self.padded_size[0] - self.image_size[0], self.padded_size[1] - self.image_size[1]


def _axis(size: int, parts: int, overlap: int, multiple: int) -> tuple[int, int, int, int, list[int]]:
    """One axis: core length, padded length, tile length, overlap used, tile starts."""
    core = math.ceil(math.ceil(size / parts) / multiple) * multiple
    padded = core * parts
    overlap = math.ceil(overlap / multiple) * multiple
    tile = min(core + 2 * overlap, padded)
    starts = [min(max(i * core - overlap, 0), padded - tile) for i in range(parts)]
    return core, padded, tile, (tile - core) // 2 if parts > 1 else 0, starts


def plan_tiles(height: int, width: int, grid: tuple[int, int] = (2, 2), overlap: int = 32,
               multiple: int = 8) -> TileGrid:
    """The ``TileGrid`` of an ``height×width`` image cut in ``grid`` (rows, cols) with ``overlap`` pixels.

    Tile and core sides are multiples of ``multiple`` (8 for CSRNet; 32 for the static-size predictors of
    ``lib.quant``, whose sizes must be multiples of 32). Compute it first to quantize a predictor for
    ``plan.tile``.
    """
    rows, cols = grid
    if rows < 1 or cols < 1 or overlap < 0 or multiple < 1 or height < 1 or width < 1:
        raise ValueError(f"need a positive image size, grid and multiple and overlap >= 0; got {height}x{width}, "
                         f"grid={grid}, overlap={overlap}, multiple={multiple}")
    core_h, pad_h, tile_h, ov_h, tops = _axis(height, rows, overlap, multiple)
    core_w, pad_w, tile_w, ov_w, lefts = _axis(width, cols, overlap, multiple)
    return TileGrid((height, width), (pad_h, pad_w), (rows, cols), (core_h, core_w), (tile_h, tile_w),
                    (ov_h, ov_w), tuple((top, left) for top in tops for left in lefts))


def padded_size(height: int, width: int, multiple: int = 8) -> tuple[int, int]:
    """``(height, width)`` rounded up to multiples of ``multiple``: the size ``pad_to_multiple`` gives."""
    return height + -height % multiple, width + -width % multiple


def pad_to_multiple(images: torch.Tensor, multiple: int = 8) -> tuple[torch.Tensor, tuple[int, int]]:
    """Zero-pad ``N×C×H×W`` images at the bottom/right to multiples of ``multiple``; return them and the padding."""
    h, w = images.shape[-2:]
    padded_h, padded_w = padded_size(h, w, multiple)
    pad_h, pad_w = padded_h - h, padded_w - w
    if pad_h or pad_w:
        images = F.pad(images, (0, pad_w, 0, pad_h))
    return images, (pad_h, pad_w)


def tile_images(images: torch.Tensor, plan: TileGrid) -> torch.Tensor:
    """Cut ``N×C×H×W`` (or ``C×H×W``) images into their tiles: ``(N·T)×C×tile_h×tile_w``, image-major."""
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if tuple(images.shape[-2:]) != plan.image_size:
        raise ValueError(f"the plan is for {plan.image_size[0]}x{plan.image_size[1]} images, got "
                         f"{images.shape[-2]}x{images.shape[-1]}")
    pad_h, pad_w = plan.padding
    padded = F.pad(images, (0, pad_w, 0, pad_h))
    th, tw = plan.tile
    tiles = [padded[:, :, top : top + th, left : left + tw] for top, left in plan.origins]
    return torch.stack(tiles, dim=1).flatten(0, 1)


def split_tiles(images: torch.Tensor, grid: tuple[int, int] = (2, 2), overlap: int = 32,
                multiple: int = 8) -> tuple[torch.Tensor, TileGrid]:
    """``plan_tiles`` for these images, then ``tile_images``: the tiles as one batch and their layout."""
    plan = plan_tiles(int(images.shape[-2]), int(images.shape[-1]), grid, overlap, multiple)
    return tile_images(images, plan), plan


def merge_tiles(density_tiles: torch.Tensor, plan: TileGrid, mode: str = "core") -> torch.Tensor:
    """Merge ``(N·T)×C×h×w`` tile outputs into ``N×C×ceil(H/s)×ceil(W/s)`` maps (``s`` = tile side / ``h``).

    See the module docstring for the two ``mode``s. The stride ``s`` is read from the shapes, so identity
    "models" (``s = 1``) and counters (``s = 8``) merge alike; ``multiple`` must be a multiple of ``s``.
    """
    if mode not in MERGE_MODES:
        raise ValueError(f"unknown merge mode {mode!r}; choose one of {MERGE_MODES}")
    if density_tiles.dim() != 4 or density_tiles.shape[0] % plan.count:
        raise ValueError(f"expected (N·{plan.count})×C×h×w tile outputs, got shape {tuple(density_tiles.shape)}")
    th, tw = plan.tile
    h, w = int(density_tiles.shape[-2]), int(density_tiles.shape[-1])
    stride = th // h
    if stride * h != th or stride * w != tw or tw // w != stride:
        raise ValueError(f"tile outputs {h}x{w} are not the {th}x{tw} tiles at one integer stride")
    if plan.core[0] % stride or plan.core[1] % stride:
        raise ValueError(f"cores {plan.core} are not aligned to the output stride {stride}; plan the tiles with "
                         f"multiple={stride} or a multiple of it")
    n, c = density_tiles.shape[0] // plan.count, density_tiles.shape[1]
    tiles = density_tiles.reshape(n, plan.count, c, h, w)
    out = density_tiles.new_zeros(n, c, plan.padded_size[0] // stride, plan.padded_size[1] // stride)
    coverage = out.new_zeros(out.shape[-2:])
    ch, cw = plan.core[0] // stride, plan.core[1] // stride
    for index, (top, left) in enumerate(plan.origins):
        y, x = top // stride, left // stride
        if mode == "average":
            out[..., y : y + h, x : x + w] += tiles[:, index]
            coverage[y : y + h, x : x + w] += 1
            continue
        row, col = divmod(index, plan.grid[1])
        cy, cx = row * ch, col * cw  # the core, in output cells of the merged map
        out[..., cy : cy + ch, cx : cx + cw] = tiles[:, index, :, cy - y : cy - y + ch, cx - x : cx - x + cw]
    if mode == "average":
        out = out / coverage
    return out[..., : math.ceil(plan.image_size[0] / stride), : math.ceil(plan.image_size[1] / stride)]
