"""De-duplication of re-entries: per-track entry candidates with three crops, a gallery with time-to-live, and
the similarity threshold chosen from a precision–recall curve.

Per track (:class:`CandidateCollector`): while the person is in the door area on the street side, the last
``door_queue`` observations are queued and the one overlapping other people least gives the first crop;
the frame at which the box first reaches into the store gives the second; the ``post_frames``-th
observation after that gives the third. A finished candidate is rejected when any crop shows the back or
none shows the front (:func:`orientation_ok`); otherwise its features (mean of the crops' unit vectors) are
compared with the :class:`Gallery`: a similarity at or above the threshold makes it a repeat of that visitor,
else a new visitor; either way it is added. The system's default descriptor fuses the learned embedding with the
colour/texture histogram (:func:`fused_feature`). Nothing uses faces: both descriptors see the central 24 px of
a 64 px top-down crop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from lib.footfall.crops import crop_at
from lib.footfall.geometry import Door


@dataclass(frozen=True)
class DedupConfig:
    """``door_area_px``: how far outside the door line the door area reaches (and ``span_margin_px`` past its
    ends); ``door_queue``: observations kept there; ``post_frames``: observations after the entry crop before
    the third; ``ttl_frames``: how long a gallery entry lives; ``threshold``: cosine similarity of a repeat."""

    door_area_px: float = 100.0
    span_margin_px: float = 30.0
    door_queue: int = 8
    post_frames: int = 5
    ttl_frames: int = 1200
    threshold: float = 0.8


@dataclass
class Candidate:
    """One entry attempt of one track: its three crops (RGB uint8) and the frames they were taken at."""

    track_id: int
    crops: list[np.ndarray] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    queue: deque = field(default_factory=lambda: deque(maxlen=8))
    post: int = 0

    @property
    def entry_frame(self) -> int:
        """Frame of the second crop, when the box first reached into the store."""
        return self.frames[1]


def overlaps(xyxy: np.ndarray) -> np.ndarray:
    """For each box, the largest share of its area covered by another box of the same frame."""
    b = np.asarray(xyxy, np.float64).reshape(-1, 4)
    lo, hi = np.maximum(b[:, None, :2], b[None, :, :2]), np.minimum(b[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    np.fill_diagonal(inter, 0)
    area = np.maximum(np.prod(b[:, 2:] - b[:, :2], 1), 1e-6)
    return (inter / area[:, None]).max(1) if len(b) > 1 else np.zeros(len(b))


class CandidateCollector:
    """Streaming crop selection for entry candidates; call :meth:`update` once per frame with the tracked boxes."""

    def __init__(self, door: Door, config: DedupConfig) -> None:
        self.door, self.config = door, config
        self.open: dict[int, Candidate] = {}
        self.armed: dict[int, bool] = {}

    def _in_door_area(self, centres: np.ndarray) -> np.ndarray:
        d, a = self.door.signed_distance(centres), self.door.along(centres)
        level = (a >= -self.config.span_margin_px) & (a <= self.door.length + self.config.span_margin_px)
        return level & (d <= 0) & (d >= -self.config.door_area_px)

    def hand_over(self, lost: int, new: int) -> None:
        """Continue track ``lost``'s state and open candidate under track ``new``: the tracker lost a person
        and restarted them as ``new`` (``lib.footfall.counter``'s relinking), often in the middle of an entry.

        Only a track that was collecting hands over. An unarmed one (it had entered, or came from the store)
        would disarm ``new`` until it next left the door area: when the relink, nearest first, picks the wrong
        predecessor, a person walking in from the street got no candidate, and their entry a fresh visitor id.
        ``new`` then arms from where it is, as any new track does."""
        if self.armed.get(lost) and new not in self.armed:
            self.armed[new] = self.armed.pop(lost)
            if lost in self.open:
                self.open[new] = replace(self.open.pop(lost), track_id=new)

    def update(self, frame_index: int, frame: np.ndarray, track_ids: np.ndarray, xyxy: np.ndarray) -> list[Candidate]:
        """Observe one frame; return the candidates finished at it (three crops each)."""
        xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
        centres = (xyxy[:, :2] + xyxy[:, 2:]) / 2
        door_area = self._in_door_area(centres)
        # the box reaches into the store: its store-side edge is past the line
        corners = np.concatenate([xyxy[:, [0, 1]], xyxy[:, [2, 1]], xyxy[:, [0, 3]], xyxy[:, [2, 3]]], 1).reshape(-1, 4, 2)
        reach = self.door.signed_distance(corners.reshape(-1, 2)).reshape(-1, 4).max(1) > 0
        distance = self.door.signed_distance(centres)
        away = (distance < 0) & ~door_area  # on the street side, beyond the door area or past its ends
        over = overlaps(xyxy)
        done = []
        for k, tid in enumerate(np.asarray(track_ids).tolist()):
            if tid not in self.armed or away[k]:  # a new candidate needs the street side first
                self.armed[tid] = bool(distance[k] < 0)
                if away[k] and tid in self.open and not self.open[tid].crops:
                    self.open[tid].queue.clear()  # the queue holds positions in the door area only
            if not self.armed[tid]:
                continue
            cand = self.open.setdefault(tid, Candidate(tid, queue=deque(maxlen=self.config.door_queue)))
            if not cand.crops:
                if door_area[k] and not reach[k]:
                    cand.queue.append((over[k], frame_index, crop_at(frame, xyxy[k])))
                elif reach[k] and cand.queue:
                    best = min(cand.queue, key=lambda q: q[0])
                    cand.crops += [best[2], crop_at(frame, xyxy[k])]
                    cand.frames += [best[1], frame_index]
                continue
            cand.post += 1
            if cand.post >= self.config.post_frames:
                cand.crops.append(crop_at(frame, xyxy[k]))
                cand.frames.append(frame_index)
                done.append(self.open.pop(tid))
                self.armed[tid] = False
        return done


def orientation_ok(front_prob: Sequence[float], threshold: float = 0.5) -> bool:
    """Accept a candidate unless a crop shows the back, and only if at least one shows the front. The classifier
    gives one front probability per crop, so a crop under ``threshold`` shows the back: a candidate is accepted
    when it has crops and every one of them shows the front."""
    p = np.asarray(front_prob, np.float64)
    return bool(len(p) and (p >= threshold).all())


def candidate_feature(features: np.ndarray) -> np.ndarray:
    """One unit vector per candidate: the normalised mean of its crops' unit vectors."""
    f = np.asarray(features, np.float64)
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-9)
    m = f.mean(0)
    return m / max(float(np.linalg.norm(m)), 1e-9)


FUSED_EMBEDDING_WEIGHT = 0.3
"""The learned embedding's share of the fused descriptor's similarity (the histogram has the rest). Repeat-visitor
AP on held-out sequences (busy / occluded 3000-3003, 90 s), over the entry candidates the FP32 system takes there,
for the systems of three ``cpu`` training runs (seeds 0 / 1 / 2; 2026-12-07, AVX-512 EPYC): the histogram alone
0.913 / 0.880, 0.943 / 0.879, 0.944 / 0.795; weight 0.3 0.932 / 0.907, 0.954 / 0.926, 0.938 / 0.899 (best F1 at or
above the histogram's in all six); 0.5 0.937 / 0.893, 0.946 / 0.924, 0.920 / 0.915; 0.7 lower again; the
embedding alone 0.872 / 0.740, 0.835 / 0.793, 0.836 / 0.709."""


def fused_feature(embedding: np.ndarray, colour: np.ndarray, weight: float = FUSED_EMBEDDING_WEIGHT) -> np.ndarray:
    """The two unit vectors joined, ``√weight · embedding`` then ``√(1 − weight) · colour``: a unit vector whose
    dot product with another is ``weight`` times the embeddings' similarity plus ``1 − weight`` times the
    histograms'."""
    if not 0 <= weight <= 1:
        raise ValueError(f"the embedding's weight in the fused descriptor is a share, 0 to 1: got {weight}")
    return np.concatenate([np.sqrt(weight) * np.asarray(embedding, np.float64),
                           np.sqrt(1 - weight) * np.asarray(colour, np.float64)])


@dataclass
class Gallery:
    """Visitors seen within the last ``ttl_frames`` frames: one feature per accepted candidate."""

    ttl_frames: int
    features: list[np.ndarray] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    visitors: list[int] = field(default_factory=list)
    next_visitor: int = 1

    def expire(self, frame_index: int) -> None:
        """Drop entries older than the time-to-live."""
        keep = [i for i, f in enumerate(self.frames) if frame_index - f <= self.ttl_frames]
        self.features = [self.features[i] for i in keep]
        self.frames = [self.frames[i] for i in keep]
        self.visitors = [self.visitors[i] for i in keep]

    def best(self, feature: np.ndarray) -> tuple[float, int | None]:
        """Highest cosine similarity to a live entry and that entry's visitor (``-1, None`` when empty)."""
        if not self.features:
            return -1.0, None
        sims = np.stack(self.features) @ feature
        k = int(np.argmax(sims))
        return float(sims[k]), self.visitors[k]

    def match(self, feature: np.ndarray, frame_index: int, threshold: float) -> tuple[int, bool, float]:
        """``(visitor id, is_repeat, similarity)`` for a new candidate, which is then added to the gallery."""
        self.expire(frame_index)
        sim, visitor = self.best(feature)
        repeat = visitor is not None and sim >= threshold
        if not repeat:
            visitor, self.next_visitor = self.next_visitor, self.next_visitor + 1
        self.features.append(feature)
        self.frames.append(frame_index)
        self.visitors.append(visitor)
        return visitor, repeat, sim


def repeat_scores(features: np.ndarray, frames: Sequence[int], identities: Sequence[int],
                  ttl_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """For candidates in time order: the best similarity to earlier live ones, and whether an earlier live one
    is the same person (the decision the threshold makes, and its truth)."""
    f, fr, ids = np.asarray(features), np.asarray(frames), np.asarray(identities)
    scores, labels = np.full(len(f), -1.0), np.zeros(len(f), bool)
    for i in range(len(f)):
        live = (fr < fr[i]) & (fr[i] - fr <= ttl_frames) | ((fr == fr[i]) & (np.arange(len(f)) < i))
        if live.any():
            scores[i] = float((f[live] @ f[i]).max())
            labels[i] = bool((ids[live] == ids[i]).any())
    return scores, labels


def pr_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and the thresholds at which they hold (a score ``>= threshold`` is a repeat)."""
    s, y = np.asarray(scores, np.float64), np.asarray(labels, bool)
    thresholds = np.unique(s)[::-1]
    tp = np.array([(y & (s >= t)).sum() for t in thresholds], np.float64)
    predicted = np.array([(s >= t).sum() for t in thresholds], np.float64)
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 1.0)
    recall = tp / max(int(y.sum()), 1)
    return precision, recall, thresholds


def choose_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold of the best F1 on the PR curve (midway to the next lower score, for margin) and that F1.

    With no positive pair the highest score plus a margin is returned: everything is a new visitor.
    """
    s = np.asarray(scores, np.float64)
    precision, recall, thresholds = pr_curve(s, labels)
    if not np.asarray(labels).any() or not len(thresholds):
        return float(s.max() + 0.05) if len(s) else 1.0, float("nan")
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    k = int(np.argmax(f1))
    lower = thresholds[k + 1] if k + 1 < len(thresholds) else thresholds[k] - 0.05
    return float((thresholds[k] + lower) / 2), float(f1[k])
