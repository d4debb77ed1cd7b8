"""Multi-object tracking of per-frame detections with ByteTrack (package ``trackers``).

``supervision`` 0.31 no longer ships ``sv.ByteTrack``; ``trackers.ByteTrackTracker`` takes its place.
It reports ``tracker_id == -1`` for tracks it has not confirmed yet (``minimum_consecutive_frames``):
those rows are dropped here, so every returned observation belongs to a confirmed track.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from lib.footfall.tracks import Tracks


@dataclass(frozen=True)
class FrameDetections:
    """Detections of one frame: ``xyxy`` ``(N, 4)`` pixel corners and ``score`` ``(N,)`` in [0, 1]."""

    frame: int
    xyxy: np.ndarray
    score: np.ndarray


@dataclass(frozen=True)
class TrackerConfig:
    """``ByteTrackTracker`` arguments. ``lost_track_buffer`` counts 30-fps frames (the tracker rescales it
    by ``frame_rate``); ``frame_rate`` must be the sequence's."""

    frame_rate: float = 10.0
    lost_track_buffer: int = 30
    track_activation_threshold: float = 0.5
    minimum_consecutive_frames: int = 2
    minimum_iou_threshold: float = 0.1
    high_conf_det_threshold: float = 0.6


class OnlineTracker:
    """ByteTrack one frame at a time: :meth:`update` returns the confirmed tracks' ids, boxes and scores."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.tracker = ByteTrackTracker(**asdict(config or TrackerConfig()))

    def update(self, det: FrameDetections) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ids (K,), xyxy (K, 4), scores (K,))`` of the confirmed tracks in this frame."""
        result = self.tracker.update(sv.Detections(xyxy=np.asarray(det.xyxy, np.float32).reshape(-1, 4),
                                                   confidence=np.asarray(det.score, np.float32).reshape(-1)))
        keep = result.tracker_id >= 0
        scores = result.confidence[keep] if result.confidence is not None else np.ones(int(keep.sum()))
        return result.tracker_id[keep].astype(np.int64), result.xyxy[keep].astype(np.float64), scores.astype(np.float64)


def tracks_from_rows(frames: list[np.ndarray], ids: list[np.ndarray], boxes: list[np.ndarray],
                     scores: list[np.ndarray]) -> Tracks:
    """:class:`Tracks` from per-frame arrays (frame numbers, ids, ``xyxy`` boxes, scores)."""
    if not frames:
        return Tracks.empty()
    xyxy = np.concatenate(boxes).reshape(-1, 4)
    return Tracks.from_arrays(np.concatenate(frames), np.concatenate(ids),
                              np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], 1), np.concatenate(scores))


def track_detections(detections: Iterable[FrameDetections], config: TrackerConfig | None = None) -> Tracks:
    """Track detections frame by frame; include frames without detections so lost tracks age.

    Returns the confirmed tracks: the detection boxes with the tracker's ids and the detection scores.
    """
    tracker = OnlineTracker(config)
    frames, ids, boxes, scores = [], [], [], []
    for det in detections:
        tid, xyxy, score = tracker.update(det)
        frames.append(np.full(len(tid), det.frame))
        ids.append(tid)
        boxes.append(xyxy)
        scores.append(score)
    return tracks_from_rows(frames, ids, boxes, scores)


def detections_from_tracks(tracks: Tracks, n_frames: int) -> list[FrameDetections]:
    """Per-frame detections ``1..n_frames`` from the boxes of ``tracks`` (ids dropped), empty frames included."""
    xyxy = tracks.xyxy
    groups = dict(tracks.by_frame())
    empty = np.zeros(0, np.int64)
    return [FrameDetections(f, xyxy[groups.get(f, empty)], tracks.score[groups.get(f, empty)])
            for f in range(1, n_frames + 1)]
