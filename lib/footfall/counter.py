"""Counting door crossings from tracks: a hysteresis counter, and ``supervision.LineZone`` as the baseline.

The counter keeps one state per track id. Each observation's anchor falls in one of three zones: the
*band* (within ``band_px`` of the door line and level with the door), *inside* (the store polygon) or
*outside*. A track's committed side changes only after ``confirm_frames`` consecutive observations on
the other side, beyond the band: a person standing on the threshold, swaying across the line, or
turning back at the door produces no event; one who walks through produces exactly one. The event's
frame is the frame at which the anchor last crossed the line, not the (later) confirmation frame.

A track first seen in the band takes the side of the line it is on as its origin, so a track that
starts at the door (after an identity switch, or entering the view there) still counts once it commits.

*Relinking* (``relink_frames > 0``): the tracker loses people most often at the door, where they cross, and
starts them again under a new id a few frames later on the other side; neither id then goes from one side to
the other, and the crossing is missed. A new track that appears within ``relink_px`` of where another track
was last seen, at most ``relink_frames`` frames ago, and which that track is not seen beside, takes over that
track's state (the nearest such track), so the person's crossing is counted once, under the new id. Nobody
walks 1.3 m in a tenth of a second, so the reach also grows with the time since the lost track was seen:
``relink_near_px`` plus ``relink_speed_px`` per frame, up to ``relink_px``.

*Tracks born beside someone* (``beside_px > 0``): a detector can fire twice on one person, on the body and on
what they carry (a shoulder bag hangs beside the body), and the second peak becomes a track that walks through
the door with its carrier and counts the crossing twice. A track first seen within ``beside_px`` of a track
that was seen before it is not counted until it first gets clear of every older track; from then on it counts
as any other. A person who walks up beside someone is counted (their track was born apart); two people who
come into view together are counted (neither is older); a bag never gets clear of its carrier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import supervision as sv

from lib.footfall.geometry import Door
from lib.footfall.tracks import CrossingEvent, Tracks


class Zone(IntEnum):
    """Where an anchor point lies relative to the door."""

    OUTSIDE = 0
    BAND = 1
    INSIDE = 2


@dataclass(frozen=True)
class CounterConfig:
    """Hysteresis parameters, in pixels and frames.

    ``band_px``: half-width of the band around the door line (0.3-0.4 m suits people seen from above;
    the system uses ``SystemConfig.band_m``);
    ``confirm_frames``: consecutive observations beyond the band before the side changes;
    ``span_margin_px``: how far past the door's ends the band reaches along the line;
    ``relink_frames`` and ``relink_px``: how long ago and how near a lost track may have been last seen for
    a new track to continue it (module docstring; 0 frames: never); ``relink_near_px`` and ``relink_speed_px``:
    the reach one frame after it was last seen is ``relink_near_px + relink_speed_px``, and grows by
    ``relink_speed_px`` each frame (the default: ``relink_px`` at once);
    ``beside_px``: a track first seen this near an older one is held back until it gets clear (module
    docstring; 0: never).
    """

    band_px: float = 24.0
    confirm_frames: int = 3
    span_margin_px: float = 16.0
    relink_frames: int = 0
    relink_px: float = 0.0
    relink_near_px: float = 0.0
    relink_speed_px: float = float("inf")
    beside_px: float = 0.0

    def __post_init__(self) -> None:
        if (self.band_px < 0 or self.confirm_frames < 1 or self.span_margin_px < 0 or self.relink_frames < 0
                or self.relink_px < 0 or self.relink_near_px < 0 or not self.relink_speed_px >= 0
                or not self.beside_px >= 0):
            raise ValueError(f"invalid counter configuration {self}: band, margin, relink and beside settings >= 0, "
                             "confirm_frames >= 1")


@dataclass
class TrackState:
    """What the counter remembers about one track."""

    side: Zone
    zone: Zone
    above_line: bool
    cross_frame: int | None = None
    run_length: int = 0
    run_start: int = 0


def classify(door: Door, points: np.ndarray, config: CounterConfig) -> tuple[np.ndarray, np.ndarray]:
    """Zone of each ``(N, 2)`` point and its signed distance to the door line (store side positive)."""
    distance = door.signed_distance(points)
    along = door.along(points)
    level = (along >= -config.span_margin_px) & (along <= door.length + config.span_margin_px)
    band = level & (np.abs(distance) <= config.band_px)
    zones = np.where(door.contains(points), Zone.INSIDE, Zone.OUTSIDE)
    return np.where(band, Zone.BAND, zones).astype(np.int64), distance


@dataclass
class DoorCounter:
    """Streaming hysteresis counter: call :meth:`update` once per frame, in frame order."""

    door: Door
    config: CounterConfig = field(default_factory=CounterConfig)
    states: dict[int, TrackState] = field(default_factory=dict)
    events: list[CrossingEvent] = field(default_factory=list)
    last_seen: dict[int, tuple[int, np.ndarray]] = field(default_factory=dict)
    """Frame and position of the tracks seen within the last ``relink_frames`` frames."""
    relinks: list[tuple[int, int]] = field(default_factory=list)
    """``(new track id, lost track id)`` per relink, in the order they were made: the new track took over the lost
    one's state. A list, not a map: the tracker can find a lost track again, and that id can then take over a
    track in turn, so one id can be the new track of several relinks."""
    first_seen: dict[int, int] = field(default_factory=dict)
    """Frame each track id was first observed (``beside_px``)."""
    cleared: set[int] = field(default_factory=set)
    """Tracks that were born apart from every older track, or have since got clear of them: these are counted."""

    def update(self, frame: int, track_ids: np.ndarray, points: np.ndarray) -> list[CrossingEvent]:
        """Observe ``points`` (``(N, 2)``, pixels) of ``track_ids`` at ``frame``; return new events."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        track_ids = np.asarray(track_ids, np.int64).reshape(-1)
        if self.config.beside_px > 0:
            counted = self._clear_of_older(frame, track_ids, points)
            track_ids, points = track_ids[counted], points[counted]
        if self.config.relink_frames > 0:
            self._relink(frame, track_ids.tolist(), points)
        zones, distance = classify(self.door, points, self.config)
        new = []
        for track_id, zone, d in zip(track_ids.tolist(), zones.tolist(), distance.tolist(), strict=True):
            event = self._observe(frame, int(track_id), Zone(zone), d > 0)
            if event is not None:
                new.append(event)
        self.events.extend(new)
        return new

    def _clear_of_older(self, frame: int, track_ids: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Which observations count: those of tracks that are, or once were, clear of every older track in view."""
        for t in track_ids.tolist():
            self.first_seen.setdefault(t, frame)
        born = np.array([self.first_seen[t] for t in track_ids.tolist()], np.int64)
        gap = np.hypot(points[:, None, 0] - points[None, :, 0], points[:, None, 1] - points[None, :, 1])
        beside_older = ((gap < self.config.beside_px) & (born[None, :] < born[:, None])).any(1)
        counted = np.array([t in self.cleared for t in track_ids.tolist()], bool) | ~beside_older
        self.cleared.update(track_ids[counted].tolist())
        return counted

    def _relink(self, frame: int, track_ids: list[int], points: np.ndarray) -> None:
        """Hand each new track the state of the nearest lost one within reach (module docstring)."""
        c = self.config
        recent = {t: (f, p) for t, (f, p) in self.last_seen.items()
                  if frame - f <= c.relink_frames and t not in track_ids and t in self.states}
        for track_id, point in zip(track_ids, points, strict=True):
            if track_id in self.states or not recent:
                continue
            distance = {t: float(np.hypot(*(point - p))) for t, (_, p) in recent.items()}
            lost = min(distance, key=distance.__getitem__)
            reach = min(c.relink_px, c.relink_near_px + c.relink_speed_px * (frame - recent[lost][0]))
            if distance[lost] <= reach:
                self.states[track_id] = self.states.pop(lost)
                self.relinks.append((track_id, lost))
                del recent[lost]
        for track_id, point in zip(track_ids, points, strict=True):
            self.last_seen[track_id] = (frame, point)
        self.last_seen = {t: v for t, v in self.last_seen.items() if frame - v[0] <= self.config.relink_frames}

    def _observe(self, frame: int, track_id: int, zone: Zone, above: bool) -> CrossingEvent | None:
        state = self.states.get(track_id)
        if state is None:
            origin = zone if zone != Zone.BAND else (Zone.INSIDE if above else Zone.OUTSIDE)
            self.states[track_id] = TrackState(side=origin, zone=zone, above_line=above)
            return None
        if above != state.above_line:
            state.cross_frame = frame
        state.zone, state.above_line = zone, above
        if zone == Zone.BAND or zone == state.side:
            state.run_length = 0
            return None
        if state.run_length == 0:
            state.run_start = frame
        state.run_length += 1
        if state.run_length < self.config.confirm_frames:
            return None
        state.side, state.run_length = zone, 0
        crossed = state.cross_frame if state.cross_frame is not None else state.run_start
        return CrossingEvent(crossed, track_id, "in" if zone == Zone.INSIDE else "out")


def count_crossings(tracks: Tracks, door: Door, config: CounterConfig | None = None) -> list[CrossingEvent]:
    """Run :class:`DoorCounter` over ``tracks`` (box centres as anchors); events in frame order."""
    counter = DoorCounter(door, config or CounterConfig())
    centers = tracks.centers()
    for frame, idx in tracks.by_frame():
        counter.update(frame, tracks.track_id[idx], centers[idx])
    return sorted(counter.events, key=lambda e: (e.frame, e.track_id))


def linezone_crossings(tracks: Tracks, door: Door, minimum_crossing_threshold: int = 1) -> list[CrossingEvent]:
    """The baseline: ``supervision.LineZone`` on the door segment with the box centre as anchor.

    LineZone's default anchors are the four box corners, all of which must change side, and it skips
    boxes that straddle the line; a centre anchor suits heads and small top-down boxes. Events carry
    the frame at which LineZone counted them.
    """
    start, end = door.store_side_first()
    zone = sv.LineZone(start=sv.Point(*start), end=sv.Point(*end), triggering_anchors=[sv.Position.CENTER],
                       minimum_crossing_threshold=minimum_crossing_threshold)
    xyxy = tracks.xyxy
    events = []
    for frame, idx in tracks.by_frame():
        ids = tracks.track_id[idx]
        crossed_in, crossed_out = zone.trigger(sv.Detections(xyxy=xyxy[idx].astype(np.float32), tracker_id=ids))
        events += [CrossingEvent(frame, int(t), "in") for t in ids[crossed_in]]
        events += [CrossingEvent(frame, int(t), "out") for t in ids[crossed_out]]
    return events
