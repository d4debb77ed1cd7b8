"""Footfall metrics on hand-computed cases, and clear errors for bad inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lib.footfall.metrics import (
    BLOCK_METRICS,
    BLOCK_STATISTICS,
    block_statistics,
    count_error,
    dedup_scores,
    event_blocks,
    event_scores,
    iou_matrix,
    match_events,
    mot_scores,
    recall_by_distance,
    staff_scores,
    track_on_person,
)
from lib.footfall.tracks import CrossingEvent, Tracks, read_events, read_mot, write_events, write_mot


def ev(frame: int, direction: str, track_id: int = 0) -> CrossingEvent:
    return CrossingEvent(frame, track_id, direction)


def test_count_error():
    pred = [ev(1, "in"), ev(2, "in"), ev(3, "in"), ev(4, "out")]
    true = [ev(1, "in")] * 4 + [ev(5, "out")] * 2
    c = count_error(pred, true)
    assert (c.pred_in, c.true_in, c.pred_out, c.true_out) == (3, 4, 1, 2)
    assert (c.in_error, c.out_error, c.in_signed, c.out_signed) == (0.25, 0.5, -1, -1)
    assert count_error([], []).in_error == 0.0 and count_error([ev(1, "in")], []).in_error == math.inf


def test_event_scores_are_direction_aware_within_tolerance():
    true = [ev(10, "in"), ev(50, "in"), ev(30, "out")]
    pred = [ev(12, "in"), ev(70, "in"), ev(29, "out"), ev(31, "out"), ev(50, "out")]
    s = event_scores(pred, true, tolerance=5)
    assert (s.tp, s.fp, s.fn) == (2, 3, 1)
    assert s.precision == pytest.approx(2 / 5) and s.recall == pytest.approx(2 / 3) and s.f1 == pytest.approx(4 / 8)


def test_matching_is_one_to_one_and_maximal():
    true = [ev(10, "in"), ev(14, "in")]
    pred = [ev(9, "in"), ev(12, "in"), ev(13, "in")]
    assert len(match_events(pred, true, tolerance=3)) == 2
    assert len(match_events([ev(10, "in"), ev(11, "in")], [ev(10, "in")], tolerance=3)) == 1
    nothing = event_scores([], [], tolerance=3)
    assert math.isnan(nothing.precision) and math.isnan(nothing.f1)


def test_matching_by_person_keeps_the_most_pairs_and_then_pairs_each_event_with_its_person():
    # persons 1 and 2 enter 2 frames apart; the track on person 2 counts first: by time alone each
    # predicted event would pair with the other person's crossing
    true = [ev(10, "in", 1), ev(12, "in", 2)]
    pred = [ev(11, "in", 20), ev(13, "in", 10)]
    on = {(0, 1), (1, 0)}  # (pred index, true index) on the same person
    assert match_events(pred, true, tolerance=3) == [(0, 0), (1, 1)]
    assert match_events(pred, true, tolerance=3, same_person=lambda i, j: (i, j) in on) == [(0, 1), (1, 0)]
    # never fewer pairs for the sake of identity: two mismatched pairs beat one matched pair
    true, pred = [ev(10, "in", 1), ev(14, "in", 2)], [ev(12, "in", 20), ev(17, "in", 10)]
    assert match_events(pred, true, tolerance=3, same_person=lambda i, j: (i, j) == (0, 1)) == [(0, 0), (1, 1)]
    # directions never mix
    assert match_events([ev(10, "out", 5)], [ev(10, "in", 1)], tolerance=3, same_person=lambda i, j: True) == []
    # one more pair of the same person outweighs the time gaps of all pairs together: pairing each event with
    # the crossing at its own frame (no pair of the same person) would have the smaller summed gap
    true = [ev(f, "in", k) for k, f in enumerate((0, 5, 10, 15, 20))]
    pred = [ev(f, "in", 10 + k) for k, f in enumerate((5, 10, 15, 20))]
    pairs = match_events(pred, true, tolerance=5, same_person=lambda i, j: (i, j) == (3, 3))
    assert (3, 3) in pairs and len(pairs) == 4


def test_track_on_person_compares_box_centres_at_the_predicted_events_frame():
    gt = Tracks.from_arrays([5, 5], [1, 2], [[0, 0, 20, 20], [100, 0, 20, 20]])
    tracks = Tracks.from_arrays([5, 5], [7, 8], [[3, 2, 20, 20], [60, 0, 20, 20]])
    same = track_on_person([ev(5, "in", 7), ev(5, "in", 8), ev(6, "in", 7)], [ev(5, "in", 1), ev(5, "in", 2)],
                           tracks, gt)
    assert same(0, 0) and not same(0, 1)
    assert not same(1, 1)  # 40 px from person 2: more than half a box side
    assert not same(2, 0)  # no box of track 7 at frame 6


def test_iou_matrix():
    iou = iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5], [0, 0, 0, 0]]))
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0, 0.0]])


def test_mot_scores_count_an_identity_swap():
    boxes = np.array([[0, 0, 10, 10], [50, 0, 10, 10]] * 3, np.float64)
    frames = np.repeat([1, 2, 3], 2)
    gt = Tracks.from_arrays(frames, [1, 2] * 3, boxes)
    pred = Tracks.from_arrays(frames, [7, 8, 7, 8, 8, 7], boxes)
    s = mot_scores(gt, pred)
    assert (s.id_switches, s.misses, s.false_positives, s.objects) == (2, 0, 0, 6)
    assert s.mota == pytest.approx(1 - 2 / 6) and s.idf1 == pytest.approx(2 / 3)
    perfect = mot_scores(gt, gt)
    assert perfect.mota == 1.0 and perfect.idf1 == 1.0


def test_hota_when_trackeval_is_installed():
    pytest.importorskip("trackeval")
    boxes = np.array([[0, 0, 10, 10], [50, 0, 10, 10]] * 3, np.float64)
    gt = Tracks.from_arrays(np.repeat([1, 2, 3], 2), [1, 2] * 3, boxes)
    swapped = Tracks.from_arrays(gt.frame, [7, 8, 7, 8, 8, 7], boxes)
    assert mot_scores(gt, gt).hota == pytest.approx(1.0)
    assert 0 < mot_scores(gt, swapped).hota < 1


def test_dedup_scores():
    s = dedup_scores([1, 1, 2, 3], [10, 10, 20, 20])
    assert (s.pairwise.tp, s.pairwise.fp, s.pairwise.fn) == (1, 0, 1)
    assert s.pairwise.f1 == pytest.approx(2 / 3)
    assert (s.pred_unique, s.true_unique, s.unique_error) == (3, 2, 0.5)
    with pytest.raises(ValueError, match="one of each"):
        dedup_scores([1, 2], [1])


def test_staff_scores():
    s = staff_scores([True, True, False, False], [True, False, True, False])
    assert (s.tp, s.fp, s.fn, s.precision, s.recall) == (1, 1, 1, 0.5, 0.5)


def test_events_and_mot_files_round_trip(tmp_path):
    events = [CrossingEvent(3, 1, "in"), CrossingEvent(9, 1, "out", visitor_id=4, staff=False)]
    write_events(tmp_path / "e.json", events, visits=[])
    assert read_events(tmp_path / "e.json") == events
    tracks = Tracks.from_arrays([1, 2], [5, 5], [[1, 2, 3, 4], [2, 3, 4, 5]], visibility=[1.0, 0.5])
    write_mot(tmp_path / "gt.txt", tracks)
    back = read_mot(tmp_path / "gt.txt")
    np.testing.assert_allclose(back.xywh, tracks.xywh)
    np.testing.assert_allclose(back.visibility, [1.0, 0.5])


def test_malformed_files_name_the_file_and_line(tmp_path):
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,0,0,10,10,1,1,1\n2,1,0,0,10,10,1,1,1\n3,1,zero,0,10,10,1,1,1\n")
    with pytest.raises(ValueError, match=r"gt\.txt, line 3"):
        read_mot(gt)
    gt.write_text("1,1,0,0\n")
    with pytest.raises(ValueError, match="line 1.*4 columns"):
        read_mot(gt)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_mot(tmp_path / "missing.txt")
    bad = tmp_path / "events.json"
    bad.write_text(json.dumps({"events": [{"frame": 1, "track_id": 2, "direction": "sideways"}]}))
    with pytest.raises(ValueError, match="event 0.*sideways"):
        read_events(bad)
    bad.write_text("[]")
    with pytest.raises(ValueError, match="expected"):
        read_events(bad)


def test_block_statistics_add_up_to_the_whole_sequence_scores():
    true = [CrossingEvent(10, 1, "in"), CrossingEvent(95, 2, "in"), CrossingEvent(130, 3, "out"),
            CrossingEvent(210, 4, "in")]
    # 101 matches 95 across a block edge
    pred = [CrossingEvent(12, 7, "in", staff=True), CrossingEvent(101, 8, "in", staff=False),
            CrossingEvent(131, 9, "out", staff=True), CrossingEvent(150, 9, "in"), CrossingEvent(290, 5, "out")]
    staff = {1, 2}
    blocks = event_blocks([true, pred], 100)
    assert blocks.tolist() == [0, 1, 2]
    rows = block_statistics(pred, true, 10, 100, blocks, staff)
    s, c = event_scores(pred, true, 10), count_error(pred, true)
    total = dict(zip(BLOCK_STATISTICS, rows.sum(axis=0).tolist(), strict=True))
    assert (total["event_tp"], total["event_fp"], total["event_fn"]) == (s.tp, s.fp, s.fn) == (3, 2, 1)
    counts = (total["pred_in"], total["true_in"], total["pred_out"], total["true_out"])
    assert counts == (c.pred_in, c.true_in, c.pred_out, c.true_out)
    # matched pairs with a flag: (12 staff, true staff) tp, (101 customer, true staff) fn, (131 staff, customer) fp
    assert (total["staff_tp"], total["staff_fp"], total["staff_fn"]) == (1, 1, 1)
    assert rows[0, BLOCK_STATISTICS.index("event_tp")] == 2  # the 95/101 pair counts in the true event's block
    summed = rows.sum(axis=0, keepdims=True)
    assert BLOCK_METRICS["event_f1"](summed)[0] == pytest.approx(s.f1)
    assert BLOCK_METRICS["in_error"](summed)[0] == pytest.approx(c.in_error)
    assert BLOCK_METRICS["staff_f1"](summed)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="not among the blocks"):
        block_statistics(pred, true, 10, 100, np.array([0, 1]), staff)


def test_recall_by_distance_counts_found_visible_boxes_per_band():
    # frame 1: two 20x20 people at x centres 10 and 100; frame 2: the first again, and a third barely visible
    gt = Tracks.from_arrays([1, 1, 2, 2], [1, 2, 1, 3], [[0, 0, 20, 20], [90, 0, 20, 20], [0, 0, 20, 20],
                                                        [200, 0, 20, 20]], visibility=np.array([1, 1, 1, 0.2]))
    # a detection 9 px from person 1 in frame 1 (within half the side), one 11 px off in frame 2, none on 2
    det = Tracks.from_arrays([1, 2, 2], [-1, -1, -1], [[9, 0, 20, 20], [11, 0, 20, 20], [300, 0, 20, 20]])
    rows = recall_by_distance(gt, det, distance=[-0.5, 0.5, -0.5, -0.5], edges=[-1, 0, 1, 2])
    assert [r["boxes"] for r in rows] == [2, 1, 0]  # the 0.2-visible box is not counted
    assert rows[0]["recall"] == 0.5 and rows[1]["recall"] == 0.0 and math.isnan(rows[2]["recall"])
    with pytest.raises(ValueError, match="3 distances for 4 true boxes"):
        recall_by_distance(gt, det, distance=[0, 0, 0], edges=[-1, 1])
