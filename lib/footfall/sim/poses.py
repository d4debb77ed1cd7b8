"""Per-frame poses: where each person is in pixels and which parts to draw, shared by truth and rendering.

Drawing order within a frame is by body size (taller people are nearer the camera and drawn later);
camera shake moves every person and occluder by the frame's offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from lib.footfall.sim.behaviours import Agent
from lib.footfall.sim.layout import Layout, Occluder
from lib.footfall.sim.people import Part, body_parts

SHIFT = 4  # cv2 drawing with 4 fractional bits: sub-pixel positions


@dataclass(frozen=True)
class Pose:
    """One person in one frame: index into the agent list, pixel centre, and parts in drawing order."""

    agent: int
    center: tuple[float, float]
    heading: float
    parts: list[Part]


def camera_shake(rng: np.random.Generator, n_frames: int, amplitude: float) -> np.ndarray:
    """``(n_frames, 2)`` integer pixel offsets: a smoothed random walk within ``±amplitude``."""
    if amplitude <= 0:
        return np.zeros((n_frames, 2), np.int64)
    raw = np.cumsum(rng.normal(0, amplitude / 2, (n_frames, 2)), 0)
    kernel = np.ones(3) / 3
    smooth = np.stack([np.convolve(raw[:, k], kernel, mode="same") for k in range(2)], 1)
    return np.clip(np.round(smooth - np.round(smooth.mean(0))), -amplitude, amplitude).astype(np.int64)


def gait_phase(xy: np.ndarray) -> np.ndarray:
    """Arm-swing phase from the distance walked (a full swing every 1.4 m)."""
    step = np.nan_to_num(np.hypot(*np.diff(xy, axis=0, prepend=xy[:1]).T))
    return 2 * np.pi * np.cumsum(step) / 1.4


def frame_poses(agents: list[Agent], layout: Layout, n_frames: int, shake: np.ndarray,
                frames: Iterable[int] | None = None) -> Iterator[list[Pose]]:
    """For frame indices ``0 .. n_frames - 1`` (or only ``frames``, in their order): the poses of everyone
    present, in drawing order."""
    order = sorted(range(len(agents)), key=lambda i: (agents[i].appearance.size, agents[i].id))
    phases = [gait_phase(a.xy) for a in agents]
    for f in range(n_frames) if frames is None else frames:
        poses = []
        for i in order:
            a = agents[i]
            k = f - a.start
            if not 0 <= k < len(a.xy) or np.isnan(a.xy[k, 0]):
                continue
            c = a.xy[k] * layout.ppm + shake[f]
            center = (float(c[0]), float(c[1]))
            poses.append(Pose(i, center, float(a.heading[k]), body_parts(a.appearance, center, float(a.heading[k]),
                                                                         layout.ppm, float(phases[i][k]))))
        yield poses


def occluder_part(o: Occluder, layout: Layout, offset: np.ndarray) -> Part:
    """An occluder as a drawable part, shifted by the frame's camera offset."""
    c = np.asarray(o.center) * layout.ppm + offset
    return Part(o.kind, (float(c[0]), float(c[1])), o.half_size[0] * layout.ppm, o.half_size[1] * layout.ppm,
                np.deg2rad(o.angle), rect=o.kind == "sign")


def fill_part(img: np.ndarray, part: Part, value: float | tuple, origin: tuple[int, int] = (0, 0),
              antialias: bool = False) -> None:
    """Fill ``part`` into ``img`` whose top-left pixel is ``origin`` in frame coordinates."""
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    cx, cy = part.center[0] - origin[0], part.center[1] - origin[1]
    if part.rect:
        pts = cv2.boxPoints(((cx, cy), (2 * part.half_len, 2 * part.half_wid), float(np.rad2deg(part.angle))))
        cv2.fillPoly(img, [np.round(pts * (1 << SHIFT)).astype(np.int32)], value, line, shift=SHIFT)
        return
    center = (int(round(cx * (1 << SHIFT))), int(round(cy * (1 << SHIFT))))
    axes = (max(1, int(round(part.half_len * (1 << SHIFT)))), max(1, int(round(part.half_wid * (1 << SHIFT)))))
    cv2.ellipse(img, center, axes, float(np.rad2deg(part.angle)), 0, 360, value, -1, line, SHIFT)
