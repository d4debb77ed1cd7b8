"""Pictures of a door scene: the count line, the store region, tracks with ids, live counts; GIFs; timelines."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from lib.footfall.geometry import Door
from lib.footfall.tracks import CrossingEvent

_COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
            (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]


def draw_scene(frame: np.ndarray, door: Door, ids: Sequence[int] = (), xyxy: np.ndarray | None = None,
               counts: tuple[int, int] | None = None, trails: dict[int, list] | None = None) -> np.ndarray:
    """A copy of ``frame`` with the store region tinted, the door line, boxes with ids, trails and counts."""
    img = frame.copy()
    shade = img.copy()
    cv2.fillPoly(shade, [np.asarray(door.inside, np.int32)], (40, 120, 255))
    img = cv2.addWeighted(img, 0.82, shade, 0.18, 0)
    cv2.line(img, tuple(int(v) for v in door.a), tuple(int(v) for v in door.b), (255, 40, 40), 3)
    for tid, trail in (trails or {}).items():
        if len(trail) > 1:
            cv2.polylines(img, [np.asarray(trail, np.int32)], False, _COLOURS[tid % len(_COLOURS)], 1)
    for tid, box in zip(ids, np.zeros((0, 4)) if xyxy is None else xyxy, strict=True):
        colour = _COLOURS[int(tid) % len(_COLOURS)]
        x0, y0, x1, y1 = (int(v) for v in box)
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, 2)
        cv2.putText(img, str(int(tid)), (x0, max(y0 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    if counts is not None:
        cv2.rectangle(img, (0, 0), (170, 28), (0, 0, 0), -1)
        cv2.putText(img, f"in {counts[0]}  out {counts[1]}", (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return img


def write_gif(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float, scale: float = 0.5) -> Path:
    """An animated GIF of RGB frames, downscaled by ``scale``."""
    images = [Image.fromarray(cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)) for f in frames]
    if not images:
        raise ValueError("no frames to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0, optimize=True)
    return path


def count_timeline(events: Sequence[CrossingEvent], n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative ins and outs at each frame ``1..n_frames``."""
    ins, outs = np.zeros(n_frames + 1, int), np.zeros(n_frames + 1, int)
    for e in events:
        if 1 <= e.frame <= n_frames:
            (ins if e.direction == "in" else outs)[e.frame] += 1
    return np.cumsum(ins)[1:], np.cumsum(outs)[1:]


def live_counts(events: Sequence[CrossingEvent], frame: int) -> tuple[int, int]:
    """Ins and outs counted up to ``frame``."""
    return sum(e.direction == "in" and e.frame <= frame for e in events), sum(e.direction == "out" and e.frame <= frame
                                                                              for e in events)
