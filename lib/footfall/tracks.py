"""Tracks as columns (frame, id, box), crossing events, and the two files that hold them.

Boxes are MOTChallenge's ``x, y, w, h``: top-left corner, width and height, in pixels; frames count
from 1. A track given as points (a head, a foot position) is a box of zero size at the point.

Events file (``events.json``, written by the simulator and read by ``python -m lib.footfall.evaluate``)::

    {"events": [{"frame": 42, "track_id": 7, "direction": "in"},
                {"frame": 97, "track_id": 7, "direction": "out", "visitor_id": 3, "staff": false}]}

``frame`` is the frame at which the person crossed the door line, ``direction`` is ``"in"`` (into the
store) or ``"out"``; ``visitor_id`` (who this is, after de-duplication) and ``staff`` are optional.
Other top-level keys (the simulator adds ``visits``) are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from lib.io import atomic_write_bytes, atomic_write_json, read_json

Direction = Literal["in", "out"]
DIRECTIONS: tuple[str, ...] = ("in", "out")


@dataclass(frozen=True)
class Tracks:
    """``N`` observations: ``frame`` and ``track_id`` (int), ``xywh`` ``(N, 4)``, ``score`` and
    ``visibility`` in [0, 1]. Build with :meth:`from_arrays` or :meth:`from_points`."""

    frame: np.ndarray
    track_id: np.ndarray
    xywh: np.ndarray
    score: np.ndarray
    visibility: np.ndarray

    @classmethod
    def from_arrays(cls, frame: Sequence[int] | np.ndarray, track_id: Sequence[int] | np.ndarray,
                    xywh: Sequence[Sequence[float]] | np.ndarray, score: np.ndarray | None = None,
                    visibility: np.ndarray | None = None) -> Tracks:
        """Validate shapes and copy into typed arrays (missing scores and visibilities are 1)."""
        frame = np.asarray(frame, np.int64).reshape(-1)
        n = len(frame)
        xywh = np.asarray(xywh, np.float64).reshape(n, 4)
        ones = np.ones(n)
        out = cls(frame, np.asarray(track_id, np.int64).reshape(-1), xywh,
                  ones if score is None else np.asarray(score, np.float64).reshape(-1),
                  ones if visibility is None else np.asarray(visibility, np.float64).reshape(-1))
        if not len(out.track_id) == len(out.score) == len(out.visibility) == n:
            raise ValueError(f"tracks: {n} frames but {len(out.track_id)} ids, {len(out.score)} scores, "
                             f"{len(out.visibility)} visibilities")
        return out

    @classmethod
    def from_points(cls, frame: Sequence[int] | np.ndarray, track_id: Sequence[int] | np.ndarray,
                    points: Sequence[Sequence[float]] | np.ndarray) -> Tracks:
        """Tracks of anchor points: zero-size boxes whose centre is the point."""
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        return cls.from_arrays(frame, track_id, np.concatenate([pts, np.zeros_like(pts)], 1))

    @classmethod
    def empty(cls) -> Tracks:
        """No observations."""
        return cls.from_arrays([], [], np.zeros((0, 4)))

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def xyxy(self) -> np.ndarray:
        """Boxes as corners ``x0, y0, x1, y1``."""
        return np.concatenate([self.xywh[:, :2], self.xywh[:, :2] + self.xywh[:, 2:]], 1)

    def centers(self) -> np.ndarray:
        """``(N, 2)`` box centres, the anchor the counters use."""
        return self.xywh[:, :2] + self.xywh[:, 2:] / 2

    def select(self, mask: np.ndarray) -> Tracks:
        """The observations where ``mask`` (boolean or indices) selects."""
        return Tracks(self.frame[mask], self.track_id[mask], self.xywh[mask], self.score[mask], self.visibility[mask])

    def by_frame(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(frame, indices)`` for each frame that has observations, in frame order."""
        if len(self.frame) == 0:
            return
        order = np.argsort(self.frame, kind="stable")
        frames = self.frame[order]
        starts = np.flatnonzero(np.r_[True, frames[1:] != frames[:-1]])
        for start, stop in zip(starts, np.r_[starts[1:], len(order)], strict=True):
            yield int(frames[start]), order[start:stop]


@dataclass(frozen=True)
class CrossingEvent:
    """One crossing of the door line; ``visitor_id`` and ``staff`` are filled by later stages, if any."""

    frame: int
    track_id: int
    direction: Direction
    visitor_id: int | None = None
    staff: bool | None = None

    def to_dict(self) -> dict:
        d = {"frame": self.frame, "track_id": self.track_id, "direction": self.direction}
        if self.visitor_id is not None:
            d["visitor_id"] = self.visitor_id
        if self.staff is not None:
            d["staff"] = self.staff
        return d


def write_events(path: str | os.PathLike, events: Sequence[CrossingEvent], **extra: object) -> Path:
    """Write an events file (format in this module's docstring); ``extra`` adds top-level keys."""
    return atomic_write_json(path, {"events": [e.to_dict() for e in events], **extra})


def read_events(path: str | os.PathLike) -> list[CrossingEvent]:
    """Read an events file, naming the file and the event when an entry is malformed."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ValueError(f'{path}: expected {{"events": [...]}} (see lib.footfall.tracks for the format)')
    events = []
    for i, e in enumerate(data["events"]):
        try:
            direction = e["direction"]
            if direction not in DIRECTIONS:
                raise ValueError(f"direction {direction!r} is not 'in' or 'out'")
            events.append(CrossingEvent(int(e["frame"]), int(e["track_id"]), direction,
                                        None if e.get("visitor_id") is None else int(e["visitor_id"]),
                                        None if e.get("staff") is None else bool(e["staff"])))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: event {i} ({e!r}) is malformed: {err}; "
                             "each event needs frame, track_id and direction ('in' or 'out')") from err
    return events


def write_mot(path: str | os.PathLike, tracks: Tracks, class_id: int = 1) -> Path:
    """Write MOTChallenge rows ``frame,id,x,y,w,h,conf,class,visibility`` sorted by frame then id."""
    order = np.lexsort((tracks.track_id, tracks.frame))
    lines = [f"{tracks.frame[i]},{tracks.track_id[i]},{tracks.xywh[i, 0]:.2f},{tracks.xywh[i, 1]:.2f},"
             f"{tracks.xywh[i, 2]:.2f},{tracks.xywh[i, 3]:.2f},{tracks.score[i]:.3g},{class_id},"
             f"{tracks.visibility[i]:.3f}" for i in order]
    return atomic_write_bytes(path, ("\n".join(lines) + "\n" if lines else "").encode())


def read_mot(path: str | os.PathLike) -> Tracks:
    """Read a MOTChallenge ``gt.txt`` or results file (6 to 10 comma-separated columns).

    Missing ``conf`` or ``visibility`` columns read as 1. Errors name the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: a sequence keeps its boxes in gt/gt.txt")
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(",")
        try:
            if not 6 <= len(fields) <= 10:
                raise ValueError(f"{len(fields)} columns, expected frame,id,x,y,w,h[,conf,class,visibility]")
            values = [float(v) for v in fields]
        except ValueError as err:
            raise ValueError(f"{path}, line {number}: {line!r} is not a MOTChallenge row ({err}); "
                             "fix or delete the line, or regenerate the sequence") from err
        conf = values[6] if len(values) > 6 else 1.0
        visibility = values[8] if len(values) > 8 else 1.0
        rows.append(values[:6] + [conf, visibility])
    table = np.asarray(rows, np.float64).reshape(-1, 8)
    return Tracks.from_arrays(table[:, 0], table[:, 1], table[:, 2:6], table[:, 6], table[:, 7])


def count_directions(events: Sequence[CrossingEvent]) -> tuple[int, int]:
    """``(ins, outs)``: how many events go into the store and how many out."""
    ins = sum(e.direction == "in" for e in events)
    return ins, len(events) - ins
