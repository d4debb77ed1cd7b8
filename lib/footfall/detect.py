"""People detection with ``centernet_tiny``: frame preprocessing, training targets, and decoding peaks to boxes.

The detector sees the frame downscaled by ``scale`` (0.5: 640×480 → 320×240) and padded at the bottom and
right to multiples of 32. Its output (``lib.models.footfall_nets``) is ``N×5×h×w`` at stride 4 or 2: a centre
heatmap logit, ``log`` box width and height in output cells, and the centre's offset within its cell.
Decoding keeps the local maxima of the sigmoid heatmap (``peak_kernel`` max-pool, 3×3 by default) above
``score_threshold`` and maps them back to boxes in the original frame's pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from lib.footfall.tracking import FrameDetections
from lib.models.footfall_nets import DETECTOR_STRIDE

MEAN, STD = 0.45, 0.25
"""Pixel normalisation of every footfall network: ``(rgb / 255 - MEAN) / STD``."""


def normalise(images: np.ndarray) -> torch.Tensor:
    """``(N, H, W, 3)`` (or one ``(H, W, 3)``) uint8 RGB → normalised float ``N×3×H×W``."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    t = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float()
    return (t / 255.0 - MEAN) / STD


def padded_size(height: int, width: int, scale: float, multiple: int = 32) -> tuple[int, int]:
    """Detector input ``(H, W)``: the scaled frame's sides rounded up to ``multiple``."""
    h, w = int(round(height * scale)), int(round(width * scale))
    return -(-h // multiple) * multiple, -(-w // multiple) * multiple


def prepare_frame(frame: np.ndarray, scale: float, size: tuple[int, int]) -> np.ndarray:
    """Downscale an RGB frame by ``scale`` and pad it (edge colour) to ``size`` = ``(H, W)``."""
    h, w = int(round(frame.shape[0] * scale)), int(round(frame.shape[1] * scale))
    small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA) if scale != 1 else frame
    return cv2.copyMakeBorder(small, 0, size[0] - h, 0, size[1] - w, cv2.BORDER_REPLICATE)


def gaussian_radius(w: float, h: float) -> float:
    """Standard deviation (output cells) of a centre's target peak: a third of the smaller half side, at least 0.8."""
    return max(0.8, min(w, h) / 6)


def encode_targets(xyxy: np.ndarray, out_hw: tuple[int, int], scale: float,
                   stride: int = DETECTOR_STRIDE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training targets for boxes ``xyxy`` (original-frame pixels): heatmap ``(h, w)``, regression
    ``(4, h, w)`` (log width, log height, offset x, offset y) and its mask ``(h, w)`` (1 at the centres)."""
    h, w = out_hw
    heat = np.zeros((h, w), np.float32)
    reg = np.zeros((4, h, w), np.float32)
    mask = np.zeros((h, w), np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for x0, y0, x1, y1 in np.asarray(xyxy, np.float64).reshape(-1, 4) * scale / stride:
        cx, cy, bw, bh = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
        ix, iy = int(cx), int(cy)
        if not (0 <= ix < w and 0 <= iy < h):
            continue
        sigma = gaussian_radius(bw, bh)
        heat = np.maximum(heat, np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2)))
        heat[iy, ix] = 1.0
        reg[:, iy, ix] = (np.log(bw), np.log(bh), cx - ix, cy - iy)
        mask[iy, ix] = 1.0
    return heat, reg, mask


def focal_loss(logits: torch.Tensor, heat: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """CenterNet's penalty-reduced pixel-wise focal loss, normalised by the number of centres."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = heat.eq(1).float()
    pos_loss = -(torch.log(p) * (1 - p) ** alpha * pos).sum()
    neg_loss = -(torch.log(1 - p) * p**alpha * (1 - heat) ** beta * (1 - pos)).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1.0)


def detector_loss(out: torch.Tensor, heat: torch.Tensor, reg: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Focal loss on the heatmap plus L1 on size and offset at the centres."""
    m = mask.unsqueeze(1)
    l1 = (F.l1_loss(out[:, 1:], reg, reduction="none") * m).sum() / m.sum().clamp(min=1.0)
    return focal_loss(out[:, 0], heat) + l1


@dataclass(frozen=True)
class DecodeConfig:
    """``score_threshold``: minimum peak probability; ``max_detections`` per frame; ``scale``: detector input
    scale relative to the original frame; ``frame_hw``: original frame size (boxes are clipped to it);
    ``peak_kernel``: side, in output cells, of the max-pool window that keeps one peak per person (odd).

    0.25 (was 0.15), with the tracker settings of :class:`lib.footfall.pipeline.SystemConfig`, by event F1 on
    the threshold sequences once the detector found more people."""

    score_threshold: float = 0.25
    max_detections: int = 64
    scale: float = 0.5
    frame_hw: tuple[int, int] = (480, 640)
    peak_kernel: int = 3

    def __post_init__(self) -> None:
        if self.peak_kernel < 1 or self.peak_kernel % 2 == 0:
            raise ValueError(f"DecodeConfig.peak_kernel = {self.peak_kernel}: "
                             "the peak window must be an odd number of cells")


def output_stride(output_height: int, config: DecodeConfig) -> int:
    """Input pixels per output cell, from the output's height and the detector input's (any predictor of any
    ``centernet_tiny`` stride, FP32 or INT8, decodes without being told)."""
    input_height = padded_size(*config.frame_hw, config.scale)[0]
    if output_height < 1 or input_height % output_height:
        raise ValueError(f"a detector output {output_height} cells high does not divide the {input_height}-pixel "
                         f"input of frames {config.frame_hw} at scale {config.scale}: wrong DecodeConfig?")
    return input_height // output_height


def decode(output: torch.Tensor, config: DecodeConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per image of an ``N×5×h×w`` detector output: ``(xyxy (K, 4), scores (K,))`` in original-frame pixels."""
    out = torch.as_tensor(output).float()
    stride = output_stride(out.shape[-2], config)
    heat = torch.sigmoid(out[:, 0:1])
    window = F.max_pool2d(heat, config.peak_kernel, stride=1, padding=config.peak_kernel // 2)
    peaks = (heat == window) & (heat >= config.score_threshold)
    results = []
    for n in range(out.shape[0]):
        iy, ix = torch.nonzero(peaks[n, 0], as_tuple=True)
        scores = heat[n, 0, iy, ix]
        order = torch.argsort(scores, descending=True)[: config.max_detections]
        iy, ix, scores = iy[order], ix[order], scores[order]
        reg = out[n, 1:, iy, ix]
        cx, cy = (ix.float() + reg[2]) * stride, (iy.float() + reg[3]) * stride
        bw, bh = torch.exp(reg[0].clamp(max=6)) * stride, torch.exp(reg[1].clamp(max=6)) * stride
        boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1).numpy() / config.scale
        h, w = config.frame_hw
        boxes = np.clip(boxes, 0, [w, h, w, h])
        results.append((boxes.astype(np.float64), scores.numpy().astype(np.float64)))
    return results


class Detector:
    """Frames in, :class:`FrameDetections` out, through any predictor of ``centernet_tiny`` (FP32 or INT8)."""

    def __init__(self, predictor: Callable[[torch.Tensor], torch.Tensor], config: DecodeConfig | None = None) -> None:
        self.predictor = predictor
        self.config = config or DecodeConfig()
        self.size = padded_size(*self.config.frame_hw, self.config.scale)

    def __call__(self, frame_index: int, frame: np.ndarray) -> FrameDetections:
        x = normalise(prepare_frame(frame, self.config.scale, self.size))
        boxes, scores = decode(self.predictor(x), self.config)[0]
        return FrameDetections(frame_index, boxes, scores)
