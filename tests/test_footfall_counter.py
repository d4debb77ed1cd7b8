"""The hysteresis door counter and the LineZone baseline on hand-made tracks."""

from __future__ import annotations

import numpy as np
import pytest

from lib.footfall.counter import CounterConfig, DoorCounter, Zone, classify, count_crossings, linezone_crossings
from lib.footfall.geometry import Door
from lib.footfall.tracks import Tracks

# door from x=100 to x=200 on the row y=100; the store is below it
DOOR = Door(a=(100.0, 100.0), b=(200.0, 100.0), inside=((0.0, 100.0), (300.0, 100.0), (300.0, 300.0), (0.0, 300.0)))
CONFIG = CounterConfig(band_px=10.0, confirm_frames=3, span_margin_px=5.0)


def walk(track_id: int, ys: list[float], x: float = 150.0, first_frame: int = 1) -> Tracks:
    frames = np.arange(first_frame, first_frame + len(ys))
    return Tracks.from_points(frames, np.full(len(ys), track_id), np.stack([np.full(len(ys), x), ys], 1))


def concat(*parts: Tracks) -> Tracks:
    return Tracks.from_arrays(np.concatenate([p.frame for p in parts]), np.concatenate([p.track_id for p in parts]),
                              np.concatenate([p.xywh for p in parts]))


def summary(events) -> list[tuple[int, int, str]]:
    return [(e.frame, e.track_id, e.direction) for e in events]


def test_zones_and_signed_distance():
    zones, distance = classify(DOOR, np.array([[150, 50], [150, 95], [150, 106], [150, 150], [250, 105]]), CONFIG)
    assert zones.tolist() == [Zone.OUTSIDE, Zone.BAND, Zone.BAND, Zone.INSIDE, Zone.INSIDE]
    np.testing.assert_allclose(distance, [-50, -5, 6, 50, 5])


def test_clean_crossing_in_then_out():
    ys = list(range(50, 160, 10)) + list(range(150, 40, -10))  # in by frame 7 (y=110), out at frame 17 (y=90)
    events = count_crossings(walk(1, ys), DOOR, CONFIG)
    assert summary(events) == [(7, 1, "in"), (17, 1, "out")]


def test_u_turn_at_the_door_is_no_event():
    ys = [50, 70, 90, 98, 105, 108, 105, 98, 90, 70, 50]  # reaches 8 px past the line, inside the band
    assert count_crossings(walk(1, ys), DOOR, CONFIG) == []


def test_jitter_on_the_line_gives_exactly_one_event():
    rng = np.random.default_rng(0)
    linger = (100 + rng.uniform(-9, 9, 40)).tolist()  # 40 frames swaying across the line within the band
    spike = [118, 96, 117, 97]  # single-frame excursions beyond the band do not confirm
    ys = [60, 80] + linger + spike + [120, 130, 140, 150]
    events = count_crossings(walk(3, ys), DOOR, CONFIG)
    assert [(e.track_id, e.direction) for e in events] == [(3, "in")]
    crossed_last = 1 + len([60, 80] + linger + spike)  # first frame of the final run on the store side
    assert events[0].frame <= crossed_last


def test_group_side_by_side_counts_two():
    ys = list(range(40, 170, 10))
    events = count_crossings(concat(walk(1, ys, x=135), walk(2, ys, x=165)), DOOR, CONFIG)
    assert sorted((e.track_id, e.direction) for e in events) == [(1, "in"), (2, "in")]


def test_track_born_in_the_band_counts_once_it_commits():
    events = count_crossings(walk(5, [96, 99, 104, 120, 130, 140]), DOOR, CONFIG)
    assert summary(events) == [(3, 5, "in")]


def test_passing_by_outside_is_no_event():
    frames = np.arange(1, 31)
    points = np.stack([np.linspace(0, 300, 30), np.full(30, 80.0)], 1)
    assert count_crossings(Tracks.from_points(frames, np.ones(30), points), DOOR, CONFIG) == []


def test_streaming_counter_matches_batch():
    tracks = walk(1, list(range(50, 160, 10)))
    counter = DoorCounter(DOOR, CONFIG)
    for frame, idx in tracks.by_frame():
        counter.update(frame, tracks.track_id[idx], tracks.centers()[idx])
    assert counter.events == count_crossings(tracks, DOOR, CONFIG)
    assert counter.states[1].side == Zone.INSIDE


def test_linezone_baseline_on_a_clean_crossing():
    ys = list(range(50, 160, 10)) + list(range(150, 40, -10))
    boxes = walk(1, ys)
    boxes = Tracks.from_arrays(boxes.frame, boxes.track_id, boxes.xywh + np.array([-8, -8, 16, 16]))
    assert [(e.track_id, e.direction) for e in linezone_crossings(boxes, DOOR)] == [(1, "in"), (1, "out")]


def test_linezone_counts_the_u_turn_the_counter_ignores():
    ys = [50, 70, 90, 98, 105, 108, 105, 98, 90, 70, 50]
    assert [e.direction for e in linezone_crossings(walk(1, ys), DOOR)] == ["in", "out"]


def test_invalid_geometry_and_config():
    with pytest.raises(ValueError, match="zero length"):
        Door(a=(1.0, 1.0), b=(1.0, 1.0), inside=((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)))
    with pytest.raises(ValueError, match="confirm_frames"):
        CounterConfig(confirm_frames=0)
    with pytest.raises(ValueError, match="relink"):
        CounterConfig(relink_frames=-1)


RELINK = CounterConfig(band_px=10.0, confirm_frames=3, span_margin_px=5.0, relink_frames=4, relink_px=30.0)
APPROACH = [50.0, 60.0, 70.0, 80.0, 90.0]  # frames 1-5, outside, lost at y=90 in front of the line


def test_relink_counts_a_crossing_split_between_two_track_ids():
    # the tracker loses track 1 in front of the door and starts track 2 on the store side two frames later
    fragments = concat(walk(1, APPROACH), walk(2, [112.0, 122.0, 132.0, 142.0, 152.0], first_frame=8))
    assert count_crossings(fragments, DOOR, CONFIG) == []
    counter = DoorCounter(DOOR, RELINK)
    for frame, idx in fragments.by_frame():
        counter.update(frame, fragments.track_id[idx], fragments.centers()[idx])
    assert summary(counter.events) == [(8, 2, "in")]
    assert counter.relinks == [(2, 1)]


def test_relink_reach_grows_with_the_time_since_the_lost_track_was_seen():
    # track 1 is last seen at frame 5 (y=90), track 2 appears at frame 8 (y=112): 22 px in 3 frames
    fragments = concat(walk(1, APPROACH), walk(2, [112.0, 122.0, 132.0, 142.0, 152.0], first_frame=8))
    too_slow = CounterConfig(**{**RELINK.__dict__, "relink_near_px": 4.0, "relink_speed_px": 5.0})  # reach 19 px
    fast_enough = CounterConfig(**{**RELINK.__dict__, "relink_near_px": 4.0, "relink_speed_px": 6.0})  # 22 px
    assert count_crossings(fragments, DOOR, too_slow) == []
    assert summary(count_crossings(fragments, DOOR, fast_enough)) == [(8, 2, "in")]
    with pytest.raises(ValueError, match="relink"):
        CounterConfig(relink_speed_px=-1.0)


def test_relink_leaves_far_late_and_still_seen_tracks_alone():
    inside = [112.0, 122.0, 132.0, 142.0, 152.0]
    far = concat(walk(1, APPROACH), walk(2, inside, x=260.0, first_frame=7))  # 170 px from where 1 was lost
    late = concat(walk(1, APPROACH), walk(2, inside, first_frame=11))  # 6 frames later: beyond relink_frames
    beside = concat(walk(1, APPROACH + [90.0] * 8), walk(2, inside, x=160.0, first_frame=7))  # 1 is still there
    for tracks in (far, late, beside):
        assert count_crossings(tracks, DOOR, RELINK) == []


BESIDE = CounterConfig(band_px=10.0, confirm_frames=3, span_margin_px=5.0, beside_px=12.0)
THROUGH = list(range(40, 170, 10))  # frames 1-13, past the line at frame 8 (y=110)


def path(track_id: int, xs: list[float], ys: list[float], first_frame: int = 1) -> Tracks:
    frames = np.arange(first_frame, first_frame + len(ys))
    return Tracks.from_points(frames, np.full(len(ys), track_id), np.stack([xs, ys], 1))


def test_a_track_born_beside_an_older_one_is_not_counted_until_it_gets_clear():
    # a second peak on a bag 8 px beside its carrier, tracked from frame 3 on, crosses with them
    bag = concat(walk(1, THROUGH), walk(2, THROUGH[2:], x=158.0, first_frame=3))
    assert sorted(e.track_id for e in count_crossings(bag, DOOR, CONFIG)) == [1, 2]
    assert summary(count_crossings(bag, DOOR, BESIDE)) == [(8, 1, "in")]
    # born beside track 1 outside, it moves 38 px away (clear of it), then goes in: counted from then on
    away = [158.0, 170.0, 180.0, 188.0] + [188.0] * 11
    parted = concat(walk(1, [40.0] * 16), path(2, away, [40.0] * 4 + list(range(50, 160, 10)), first_frame=2))
    assert summary(count_crossings(parted, DOOR, BESIDE)) == [(12, 2, "in")]  # y=110 at frame 12
    with pytest.raises(ValueError, match="beside"):
        CounterConfig(beside_px=-1.0)


def test_people_who_arrive_together_or_walk_up_beside_someone_are_counted():
    together = concat(walk(1, THROUGH, x=150.0), walk(2, THROUGH, x=158.0))  # first seen in the same frame
    assert sorted(e.track_id for e in count_crossings(together, DOOR, BESIDE)) == [1, 2]
    # track 2 is first seen a frame later, 60 px away, and walks up beside track 1 before they go in side by side
    xs = [210.0, 190.0, 170.0] + [158.0] * (len(THROUGH) - 4)
    walked_up = concat(walk(1, THROUGH), path(2, xs, THROUGH[1:], first_frame=2))
    assert sorted(e.track_id for e in count_crossings(walked_up, DOOR, BESIDE)) == [1, 2]
