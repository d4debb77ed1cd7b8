"""The footfall system, one frame at a time: detector → ByteTrack → door counter → entry candidates →
attributes and embeddings → gallery. One :class:`FootfallPipeline` per deployment path.

Staff: every ``role_every``-th frame, each track near the door is cropped and classified; a crossing is staff's
when the mean staff probability of its track's crops within ``staff_window_s`` of it reaches ``staff_threshold``
(chosen on the threshold sequences, like the similarity thresholds: :func:`lib.footfall.study.threshold_study`).
Only the crops near the crossing: a tracker that swaps ids between people hands one track several people's
crops. A track that the counter relinked to one the tracker lost (``relink_s``) adds that track's crops to its
own and continues its entry candidate. Staff events carry
``staff=True`` and no visitor id (staff are not visitors); an entry candidate whose track looks like staff so
far is kept out of the gallery. Visitor ids go to entry events from the candidate of the same track nearest in
time, else from an unclaimed one of a track it continues through relinks (one entry per candidate); a rejected
candidate (back shown, or no front) leaves its entry without a visitor id, and an entry without any candidate
gets a new one. Three descriptors run side by side on the same candidates, each with its own gallery and
threshold: the learned embedding, the colour/texture histogram, and the two fused
(:func:`lib.footfall.dedup.fused_feature`); ``SystemConfig.descriptor`` says whose visitor ids the events carry
(the notebook keeps the fused one unless another's F1 on the threshold sequences is clearly better,
:func:`lib.footfall.study.choose_descriptor`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from lib.footfall.counter import CounterConfig, DoorCounter
from lib.footfall.crops import colour_texture_batch, crop_at
from lib.footfall.dedup import CandidateCollector, DedupConfig, Gallery, candidate_feature, fused_feature, orientation_ok
from lib.footfall.detect import DecodeConfig, Detector, normalise
from lib.footfall.geometry import Door
from lib.footfall.tracking import OnlineTracker, TrackerConfig, tracks_from_rows
from lib.footfall.tracks import CrossingEvent, Tracks

Net = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Networks:
    """The three deployed networks of one path (any callables from a normalised batch to outputs)."""

    name: str
    detector: Net
    reid: Net
    attributes: Net


@dataclass(frozen=True)
class SystemConfig:
    """Everything besides the networks; lengths in metres are scaled by the scene's pixels per metre."""

    decode: DecodeConfig = field(default_factory=DecodeConfig)
    track_activation: float = 0.5
    high_confidence: float = 0.25
    minimum_iou: float = 0.05
    """ByteTrack's thresholds. These, the counter's ``confirm_frames`` and band, relinking on or off (its reach
    ``relink_m`` was set at 1.5 m, not searched) and the detector's decoding threshold were chosen by event F1
    over a grid on the threshold sequences (busy, seeds 2000-2001, detections of the ``cpu`` detector cached
    once: :func:`lib.footfall.study.counting_grid` over :data:`lib.footfall.study.COUNTING_GRID`; README,
    *Footfall system*). With the first
    detector people were lost at the door far more often than phantoms appeared there, and the grid kept more
    tracks alive; once the detector found more people (recall 0.83 → 0.93 on held-out sequences) the same grid
    of 64 settings asked for two observations past the band and tracks started at 0.5 (was 1 and 0.35), with
    detections from 0.25 (was 0.15): event F1 there 0.927 → 0.954. Chosen again on the detectors of three
    training runs (one setting for all three, by mean event F1 on the same sequences): one observation past a
    0.3-m band (was two past 0.4 m), 0.944 → 0.951; on held-out sequences event F1 and count errors improved
    for all three detectors (README, *Footfall system*)."""
    threshold: float = 0.8
    baseline_threshold: float = 0.8
    fused_threshold: float = 0.8
    """Similarity thresholds of the embedding, the colour/texture histogram and the two fused."""
    descriptor: str = "fused"
    """Whose visitor ids the events carry: ``embedding`` (learned), ``colour`` (colour/texture) or ``fused``."""
    staff_threshold: float = 0.5
    """A crossing is staff's when the mean staff probability of its track's crops near it is at least this."""
    staff_window_s: float = 2.0
    """Crops of the track within this many seconds of the crossing decide it (all the track's crops when none
    is that near)."""
    ttl_seconds: float = 120.0
    role_every: int = 3
    band_m: float = 0.3
    confirm_frames: int = 1
    relink_s: float = 1.0
    relink_m: float = 1.5
    """A new track within this distance of where a track was lost this long ago continues it at the counter
    (:class:`~lib.footfall.counter.CounterConfig`); ``relink_s = 0``: never."""
    relink_near_m: float = 0.3
    relink_speed_mps: float = 2.0
    """...and within ``relink_near_m`` plus ``relink_speed_mps`` times the time since the lost track was seen. On
    the tracks of three ``cpu`` detectors (training seeds 0-2, detections cached), mean event F1 over the busy
    threshold sequences 2000-2001: without this gate 0.9664; 3 m/s + 0.5 m 0.9665, 2.5 + 0.4 0.9665, 2 + 0.5
    0.9659, 2 + 0.3 0.9678 (chosen), 1.5 + 0.5 0.9659, 1.5 + 0.3 0.9665. On held-out busy and occluded 3000-3003
    (90 s) the chosen gate moved event F1 0.9671 → 0.9711 and 0.9526 → 0.9534, and the summed absolute count
    errors over the three detectors 39 → 35 and 61 → 56 crossings. Without it, 18 of the 31 events there that
    matched no crossing (seed 0's detector) came from a relink, several after a jump of 1.1-1.3 m in one frame
    (AVX-512 EPYC)."""
    beside_m: float = 0.3
    """A track first seen this near an older track is not counted until it gets clear of it: the detector's
    second peak on a carried bag (:class:`~lib.footfall.counter.CounterConfig`, ``beside_px``; 0: off). On the
    FP32 detections of three ``cpu`` detectors (training seeds 0-2), 26 of the 74 counted events on held-out busy
    and occluded 3000-3003 (90 s) that matched no crossing were a second track on a counted person, 20 of them on
    someone carrying a shoulder bag (drawn 0.3 m beside the body). Chosen among 0.25, 0.3, 0.35 and 0.4 m by mean
    event F1 over busy and occluded 2000-2001 (120 s) on the cached tracks of the three detectors (0.9561
    without, then 0.9568, 0.9610, 0.9607, 0.9603; busy alone 0.9678 without, 0.9733 at 0.3, 0.9752 at 0.4;
    occluded alone 0.9444, 0.9487, 0.9455: a wider gate holds back people in groups). On the held-out sequences
    0.3 m moved event F1 (detectors 0 / 1 / 2) busy 0.970 / 0.971 / 0.973 → 0.976 / 0.976 / 0.975 and occluded
    0.949 / 0.950 / 0.961 → 0.956 / 0.953 / 0.970 (pooled over the three, +0.44 points, 95 % block-bootstrap
    interval +0.11 to +0.84, and +0.57, +0.14 to +1.05, over 40 ten-second blocks each), and the summed absolute
    count errors 91 → 83 crossings (AVX-512 EPYC)."""
    door_area_m: float = 1.5


DESCRIPTORS: tuple[str, ...] = ("embedding", "colour", "fused")


THRESHOLD_FIELDS: dict[str, str] = {"embedding": "threshold", "colour": "baseline_threshold", "fused": "fused_threshold"}
"""The :class:`SystemConfig` field that holds each descriptor's similarity threshold."""


def descriptor_thresholds(config: SystemConfig) -> dict[str, float]:
    """Each descriptor's similarity threshold."""
    return {name: getattr(config, field_name) for name, field_name in THRESHOLD_FIELDS.items()}


FRESH_VISITORS = 50_000
"""Entries without a candidate get visitor ids above this one: far above any gallery's (which count from 1),
and below the id offset between pooled sequences (:data:`lib.footfall.study.OFFSET`), so that no two visitors of
a sequence, or of two pooled sequences, share an id."""


@dataclass
class Decision:
    """What happened to one entry candidate; an accepted one keeps its feature per descriptor (unit vectors), the
    visitor each descriptor's gallery gave it, and its track's mean staff probability at the time (NaN without
    crops), for choosing thresholds on them."""

    track_id: int
    entry_frame: int
    accepted: bool
    staff: bool
    visitors: dict[str, int | None] = field(default_factory=dict)
    staff_share: float = float("nan")
    features: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    """A processed sequence: events (with staff flags and the configured descriptor's visitor ids), tracks,
    candidate decisions, and the events as each descriptor labels them."""

    events: list[CrossingEvent]
    tracks: Tracks
    decisions: list[Decision]
    by_descriptor: dict[str, list[CrossingEvent]]


def counter_config(config: SystemConfig, ppm: float, fps: float) -> CounterConfig:
    """The door counter's settings for a scene of ``ppm`` pixels per metre filmed at ``fps``."""
    return CounterConfig(band_px=config.band_m * ppm, confirm_frames=config.confirm_frames,
                         relink_frames=round(config.relink_s * fps), relink_px=config.relink_m * ppm,
                         relink_near_px=config.relink_near_m * ppm, relink_speed_px=config.relink_speed_mps * ppm / fps,
                         beside_px=config.beside_m * ppm)


def tracker_config(config: SystemConfig, fps: float) -> TrackerConfig:
    """ByteTrack's settings for a sequence filmed at ``fps``."""
    return TrackerConfig(frame_rate=fps, track_activation_threshold=config.track_activation,
                         high_conf_det_threshold=config.high_confidence, minimum_iou_threshold=config.minimum_iou)


def near_door(door: Door, xyxy: np.ndarray, reach: float) -> np.ndarray:
    """Which boxes have their centre within ``reach`` pixels of the door line (and of its span)."""
    c = (xyxy[:, :2] + xyxy[:, 2:]) / 2
    d, a = door.signed_distance(c), door.along(c)
    return (np.abs(d) <= reach) & (a >= -reach / 2) & (a <= door.length + reach / 2)


def staff_share(role_sum: np.ndarray) -> float:
    """Mean staff probability of a person from the sum of their crops' role probabilities."""
    return float(role_sum[1] / role_sum.sum())


RoleCrops = list[tuple[int, np.ndarray]]
"""One track's classified crops: ``(frame, role probabilities)``."""


def staff_share_near(crops: RoleCrops, frame: int, window: int) -> float | None:
    """Mean staff probability of the ``crops`` at most ``window`` frames from ``frame`` (of all of them when none
    is that near); ``None`` without crops."""
    if not crops:
        return None
    near = [p for f, p in crops if abs(f - frame) <= window] or [p for _, p in crops]
    return staff_share(np.sum(near, axis=0))


def attribute_probabilities(attributes: Net, crops: list[np.ndarray]) -> np.ndarray:
    """``(K, 4)``: role probabilities (customer, staff, courier) and the front probability of each crop."""
    out = attributes(normalise(np.stack(crops))).numpy()
    role = np.exp(out[:, :3] - out[:, :3].max(1, keepdims=True))
    return np.concatenate([role / role.sum(1, keepdims=True), 1 / (1 + np.exp(-out[:, 3:4]))], 1)


class FootfallPipeline:
    """Streaming system for one scene; :meth:`step` each frame in order, then :meth:`finish`."""

    def __init__(self, nets: Networks, door: Door, ppm: float, fps: float, config: SystemConfig) -> None:
        if config.descriptor not in DESCRIPTORS:
            raise ValueError(f"unknown descriptor {config.descriptor!r}; choose one of {', '.join(DESCRIPTORS)}")
        self.nets, self.door, self.config, self.fps = nets, door, config, fps
        self.detector = Detector(nets.detector, config.decode)
        self.tracker = OnlineTracker(tracker_config(config, fps))
        self.counter = DoorCounter(door, counter_config(config, ppm, fps))
        dedup = DedupConfig(door_area_px=config.door_area_m * ppm, span_margin_px=0.4 * ppm,
                            ttl_frames=int(config.ttl_seconds * fps), threshold=config.threshold)
        self.collector = CandidateCollector(door, dedup)
        self.galleries = {name: Gallery(dedup.ttl_frames) for name in DESCRIPTORS}
        self.thresholds = descriptor_thresholds(config)
        self.role_crops: dict[int, RoleCrops] = {}
        self.staff_window = round(config.staff_window_s * fps)
        self.decisions: list[Decision] = []
        self.rows: tuple[list, list, list, list] = ([], [], [], [])

    def _near_door(self, xyxy: np.ndarray) -> np.ndarray:
        return near_door(self.door, xyxy, self.collector.config.door_area_px)

    def _attributes(self, crops: list[np.ndarray]) -> np.ndarray:
        return attribute_probabilities(self.nets.attributes, crops)

    def _staff_share(self, track_id: int, frame: int) -> float:
        """The track's mean staff probability near ``frame`` (NaN without crops: not staff)."""
        share = staff_share_near(self.role_crops.get(track_id, []), frame, self.staff_window)
        return float("nan") if share is None else share

    def _is_staff(self, track_id: int, frame: int) -> bool:
        return self._staff_share(track_id, frame) >= self.config.staff_threshold

    def step(self, frame_index: int, frame: np.ndarray) -> None:
        """Process one RGB frame (1-based index)."""
        ids, xyxy, scores = self.tracker.update(self.detector(frame_index, frame))
        for rows, value in zip(self.rows, (np.full(len(ids), frame_index), ids, xyxy, scores), strict=True):
            rows.append(value)
        made = len(self.counter.relinks)
        self.counter.update(frame_index, ids, (xyxy[:, :2] + xyxy[:, 2:]) / 2)
        for track_id, lost in self.counter.relinks[made:]:  # one person: one entry candidate
            self.collector.hand_over(lost, track_id)
        finished = self.collector.update(frame_index, frame, ids, xyxy)
        role_idx = np.flatnonzero(self._near_door(xyxy)) if frame_index % self.config.role_every == 0 else []
        crops = [crop_at(frame, xyxy[k]) for k in role_idx] + [c for cand in finished for c in cand.crops]
        if not crops:
            return
        attrs = self._attributes(crops)
        for k, a in zip(role_idx, attrs, strict=False):
            self.role_crops.setdefault(int(ids[k]), []).append((frame_index, a[:3]))
        cand_attrs = attrs[len(role_idx):]
        if finished:
            cand_crops = np.stack([c for cand in finished for c in cand.crops])
            learned = self.nets.reid(normalise(cand_crops)).numpy()
            handmade = colour_texture_batch(cand_crops)
        for n, cand in enumerate(finished):
            rows = slice(3 * n, 3 * n + 3)
            self.role_crops.setdefault(cand.track_id, []).extend(zip(cand.frames, (a[:3] for a in cand_attrs[rows]),
                                                                     strict=True))
            self._decide(cand.track_id, cand.entry_frame, cand_attrs[rows, 3], learned[rows], handmade[rows])

    def _decide(self, track_id: int, entry_frame: int, front: np.ndarray, learned: np.ndarray, handmade: np.ndarray) -> None:
        share = self._staff_share(track_id, entry_frame)
        decision = Decision(track_id, entry_frame, orientation_ok(front), share >= self.config.staff_threshold,
                            staff_share=share)
        if decision.accepted:
            embedding, colour = candidate_feature(learned), candidate_feature(handmade)
            decision.features = {"embedding": embedding, "colour": colour, "fused": fused_feature(embedding, colour)}
        if decision.accepted and not decision.staff:
            decision.visitors = {name: gallery.match(decision.features[name], entry_frame, self.thresholds[name])[0]
                                 for name, gallery in self.galleries.items()}
        self.decisions.append(decision)

    def _lineage(self, track_id: int) -> list[int]:
        """``track_id`` and the tracks it continues through the counter's relinks, nearest first (breadth first,
        a track's latest relink first). Relinks can run both ways (a lost track relinked to a new one, then found
        again by the tracker and relinked back), so each track is taken once."""
        lost_by_new: dict[int, list[int]] = {}
        for new, lost in reversed(self.counter.relinks):
            lost_by_new.setdefault(new, []).append(lost)
        lineage = [track_id]
        for current in lineage:  # grows while it is walked
            lineage += [t for t in dict.fromkeys(lost_by_new.get(current, [])) if t not in lineage]
        return lineage

    def _entry_decisions(self, entries: dict[int, CrossingEvent], window: int) -> dict[int, Decision]:
        """Each entry's candidate decision (under the entry's key), one entry per candidate: the one its
        own track finished nearest in time within ``window`` frames; failing that, one still unclaimed of the
        nearest track in its lineage. A candidate can finish under a track that the counter later relinked away
        (the entry is counted on one id, collected on another); own tracks go first so that a lineage that
        wandered to a neighbour does not take the neighbour's candidate."""
        chosen: dict[int, Decision] = {}
        for own_only in (True, False):
            taken = {id(d) for d in chosen.values()}
            for k, e in entries.items():
                if k in chosen:
                    continue
                for tid in self._lineage(e.track_id)[:1] if own_only else self._lineage(e.track_id)[1:]:
                    near = [d for d in self.decisions
                            if d.track_id == tid and abs(d.entry_frame - e.frame) <= window and id(d) not in taken]
                    if near:
                        chosen[k] = min(near, key=lambda d: abs(d.entry_frame - e.frame))
                        taken.add(id(chosen[k]))
                        break
        return chosen

    def finish(self) -> Output:
        """Label the counter's events with staff flags and visitor ids."""
        # one person to the counter: one body of staff evidence, each track's crops once (relinks can cycle)
        merged = {t: [c for x in self._lineage(t) for c in self.role_crops.get(x, [])] for t, _ in self.counter.relinks}
        self.role_crops.update(merged)
        window = int(3 * self.fps)
        ordered = sorted(self.counter.events, key=lambda e: (e.frame, e.track_id))
        staff = [self._is_staff(e.track_id, e.frame) for e in ordered]
        entries = {k: e for k, e in enumerate(ordered) if e.direction == "in" and not staff[k]}
        decided = self._entry_decisions(entries, window)
        by_descriptor: dict[str, list[CrossingEvent]] = {name: [] for name in DESCRIPTORS}
        fresh = FRESH_VISITORS
        for k, e in enumerate(ordered):
            visitors: dict[str, int | None] = {}
            if k in entries:
                d = decided.get(k)
                if d is None:
                    fresh += 1
                visitors = {name: fresh if d is None else d.visitors.get(name) for name in DESCRIPTORS}
            for name, labelled in by_descriptor.items():
                labelled.append(replace(e, staff=staff[k], visitor_id=visitors.get(name)))
        return Output(by_descriptor[self.config.descriptor], tracks_from_rows(*self.rows), self.decisions, by_descriptor)


def run_paths(frames: Iterable[np.ndarray], pipelines: dict[str, FootfallPipeline]) -> dict[str, Output]:
    """Feed each frame to every pipeline (one render, several deployment paths); return their outputs."""
    for index, frame in enumerate(frames, start=1):
        for pipeline in pipelines.values():
            pipeline.step(index, frame)
    return {name: p.finish() for name, p in pipelines.items()}
