"""ByteTrack wrapper and counter on simulated ground truth: the counter fits the simulator's geometry."""

from __future__ import annotations

import numpy as np
import pytest

from lib.footfall.counter import CounterConfig, count_crossings
from lib.footfall.metrics import count_error, event_scores, mot_scores
from lib.footfall.sim import simulate
from lib.footfall.tracking import FrameDetections, TrackerConfig, detections_from_tracks, track_detections
from lib.footfall.tracks import Tracks


def test_unconfirmed_tracks_are_dropped():
    box = np.array([[10.0, 10.0, 30.0, 50.0]])
    frames = [FrameDetections(f, box + 3 * f, np.array([0.9])) for f in range(1, 6)]
    tracks = track_detections(frames, TrackerConfig(minimum_consecutive_frames=3))
    assert tracks.frame.min() == 3 and len(set(tracks.track_id.tolist())) == 1 and (tracks.track_id >= 0).all()
    assert track_detections([]).frame.size == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_bytetrack_and_counter_recover_the_true_counts(seed):
    sim = simulate("busy", seed=seed, seconds=20.0)
    gt, rng = sim.truth.boxes, np.random.default_rng(seed)
    seen = gt.select(gt.visibility > 0.3)
    noisy = Tracks.from_arrays(seen.frame, seen.track_id, seen.xywh + rng.normal(0, 1.0, seen.xywh.shape),
                               rng.uniform(0.7, 0.95, len(seen)))
    tracks = track_detections(detections_from_tracks(noisy, sim.info.length), TrackerConfig(frame_rate=sim.info.frame_rate))
    events = count_crossings(tracks, sim.door, CounterConfig(band_px=0.4 * sim.layout.ppm))
    err = count_error(events, sim.truth.events)
    assert err.true_in >= 5
    assert abs(err.in_signed) <= 1 and abs(err.out_signed) <= 1
    assert event_scores(events, sim.truth.events, tolerance=5).f1 >= 0.9
    assert mot_scores(gt, tracks).mota > 0.8
