"""Work spread over processes gives what one process gives: the training material and the evaluation."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from lib.footfall.data import collect
from lib.footfall.pipeline import SystemConfig
from lib.footfall.study import evaluate_paths, threshold_study
from lib.footfall.system import TrainedSystem, calibration_inputs, deploy
from lib.models import create_model
from lib.profiles import load_profile
from lib.runtime import shutdown_workers


@pytest.fixture(autouse=True, scope="module")
def _stop_workers():
    yield
    shutdown_workers()  # the kept worker processes hold about 1 GB each


def test_collect_in_two_processes_gives_the_same_data() -> None:
    pairs = [("busy", 1100), ("occluded", 1101), ("sparse", 1102)]
    one = collect(pairs, 2.0, frame_stride=4, crop_stride=4)
    two = collect(pairs, 2.0, frame_stride=4, crop_stride=4, workers=2)
    assert one.sequences == two.sequences and len(one.crops) > 0 and len(one.frames) > 0
    for name in ("frames", "crops", "identity", "role", "front"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    assert all(np.array_equal(a, b) for a, b in zip(one.boxes, two.boxes, strict=True))


def _random_system() -> TrainedSystem:
    torch.manual_seed(0)
    return TrainedSystem(*(create_model(n).eval() for n in ("centernet_tiny", "reid_tiny", "attr_tiny")),
                         config=SystemConfig(), provenance={})


def test_threshold_study_in_worker_processes_matches_the_study_here() -> None:
    system = _random_system()
    cfg = replace(load_profile("smoke").footfall, threshold_seeds=(2000, 2001), threshold_seconds=10.0)
    here = threshold_study(system, replace(cfg, workers=1))
    there = threshold_study(system, replace(cfg, workers=2))
    assert here.sequences == there.sequences == ("footfall-busy-s2000", "footfall-busy-s2001")
    # an untrained detector finds nobody: the candidates' side is tested in test_footfall_system
    assert here.candidates == there.candidates and here.staff[1].size > 0  # every true crossing has a staff score
    assert (here.threshold, here.staff_threshold) == (there.threshold, there.staff_threshold)
    for a, b in ((here.learned, there.learned), (here.baseline, there.baseline), (here.staff, there.staff)):
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_evaluation_in_worker_processes_matches_the_evaluation_here() -> None:
    system = _random_system()
    data = collect([("busy", 1100)], 2.0, frame_stride=2, crop_stride=2)
    cfg = replace(load_profile("smoke").footfall, paths=("fp32", "ort-int8"), eval_seeds=(0,), eval_seconds=3.0,
                  workers=2, resamples=200)
    nets = {p: deploy(system, p, data.frames, data.crops, threads=1) for p in cfg.paths}
    here = evaluate_paths(system, nets, cfg)
    # the workers deploy the paths themselves from the calibration inputs: the same networks, the same results
    there = evaluate_paths(system, nets, cfg, calibration=calibration_inputs(data.frames, data.crops))
    assert json.dumps(here[0]) == json.dumps(there[0]) and json.dumps(here[2]) == json.dumps(there[2])
    for scenario, (_, outs) in here[1].items():
        for path, out in outs.items():
            other = there[1][scenario][1][path]
            assert out.events == other.events and np.array_equal(out.tracks.xywh, other.tracks.xywh)
