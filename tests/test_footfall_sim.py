"""The door-scene simulator: ground-truth invariants per scenario, determinism, files, loader errors, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from lib import paths
from lib.footfall.sim import SCENARIOS, Simulation, read_sequence, simulate, write_sequence
from lib.footfall.sim.behaviours import Agent
from lib.footfall.sim.spacing import GAP_M, keep_apart
from lib.footfall.tracks import count_directions

SECONDS = 20.0


@pytest.fixture(scope="module")
def sims() -> dict[str, Simulation]:
    return {name: simulate(name, seed=1, seconds=SECONDS) for name in SCENARIOS}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Simulation, Path]:
    sim = simulate("occluded", seed=2, seconds=3.0)
    return sim, write_sequence(sim, tmp_path_factory.mktemp("seq") / "occluded-2")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_ins_minus_outs_is_final_occupancy(sims, name):
    truth = sims[name].truth
    ins, outs = count_directions(truth.events)
    assert ins > 0, f"{name}: nobody entered in {SECONDS} s"
    assert ins - outs == truth.occupancy >= 0


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_visit_has_one_entry_and_at_most_one_exit(sims, name):
    truth = sims[name].truth
    by_id = defaultdict(list)
    for e in truth.events:
        by_id[e.track_id].append(e)
    for events in by_id.values():
        assert [e.direction for e in events] == ["in", "out"] * (len(events) // 2) + ["in"] * (len(events) % 2)
    for v in truth.visits:
        entries = [e for e in by_id[v.identity] if e.direction == "in" and e.frame == v.entry_frame]
        assert len(entries) == 1
        assert v.exit_frame is None or v.exit_frame > v.entry_frame
    assert len(truth.visits) == count_directions(truth.events)[0]
    assert {i.id: i.visits for i in truth.identities} == {
        i.id: sum(v.identity == i.id for v in truth.visits) for i in truth.identities}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_boxes_lie_inside_the_frame(sims, name):
    sim = sims[name]
    b = sim.truth.boxes
    assert len(b) > 0 and len(sim.truth.front) == len(b)
    assert (b.xywh[:, :2] >= 0).all() and (b.xywh[:, 2:] >= 2).all()
    assert (b.xywh[:, 0] + b.xywh[:, 2] <= sim.info.width).all() and (b.xywh[:, 1] + b.xywh[:, 3] <= sim.info.height).all()
    assert ((b.visibility >= 0) & (b.visibility <= 1)).all()
    assert b.frame.min() >= 1 and b.frame.max() <= sim.info.length
    assert len(set(zip(b.frame.tolist(), b.track_id.tolist(), strict=True))) == len(b)


def test_occluders_and_groups_hide_people(sims):
    assert (sims["occluded"].truth.boxes.visibility < 0.9).any()
    assert {i.behaviour for i in sims["occluded"].truth.identities} >= {"group", "staff"}


def test_staff_cross_many_times():
    truth = simulate("busy", seed=0, seconds=40.0).truth
    staff = [i for i in truth.identities if i.role == "staff"]
    assert staff and max(i.visits for i in staff) >= 2


def test_same_seed_same_truth_other_seed_other_truth(sims):
    again = simulate("busy", seed=1, seconds=SECONDS).truth
    first = sims["busy"].truth
    np.testing.assert_array_equal(again.boxes.xywh, first.boxes.xywh)
    np.testing.assert_array_equal(again.boxes.track_id, first.boxes.track_id)
    assert again.events == first.events and again.identities == first.identities
    other = simulate("busy", seed=2, seconds=SECONDS).truth
    assert len(other.boxes) != len(first.boxes) or not np.array_equal(other.boxes.xywh, first.boxes.xywh)


def test_a_longer_sequence_starts_like_the_shorter_one(sims):
    longer = simulate("busy", seed=1, seconds=SECONDS + 10).truth
    short_events = sims["busy"].truth.events
    early = [e for e in short_events if e.frame < 100]
    assert early and [e for e in longer.events if e.frame < 100] == early


def test_written_sequence_reads_back(written):
    sim, root = written
    for name in ("seqinfo.ini", "gt/gt.txt", "events.json", "identities.json", "scene.json", "img1/000001.jpg"):
        assert (root / name).is_file(), name
    assert len(list((root / "img1").glob("*.jpg"))) == sim.info.length
    seq = read_sequence(root)
    assert seq.info == sim.info and seq.door == sim.door and seq.ppm == sim.layout.ppm
    np.testing.assert_allclose(seq.gt.xywh, sim.truth.boxes.xywh[np.lexsort((sim.truth.boxes.track_id, sim.truth.boxes.frame))],
                               atol=0.01)
    assert seq.events == sim.truth.events and seq.visits == sim.truth.visits
    assert [i.id for i in seq.identities] == [i.id for i in sim.truth.identities]
    image = seq.image(1)
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8 and image.std() > 5


def test_frames_are_rgb_and_deterministic():
    sim = simulate("jittery", seed=3, seconds=0.4)
    frames = list(sim.frames())
    assert len(frames) == sim.info.length == 6
    assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in frames)
    np.testing.assert_array_equal(next(iter(simulate("jittery", seed=3, seconds=0.4).frames())), frames[0])


def test_frames_painted_ahead_are_the_same_frames_and_errors_reach_the_consumer(monkeypatch):
    sim = simulate("busy", seed=2, seconds=1.0)
    ahead = list(sim.frames_ahead(depth=2))
    assert len(ahead) == sim.info.length and all(np.array_equal(a, b) for a, b in zip(ahead, sim.frames(), strict=True))

    def broken(self):
        yield np.zeros((2, 2, 3), np.uint8)
        raise RuntimeError("paint failed")

    monkeypatch.setattr(Simulation, "frames", broken)
    with pytest.raises(RuntimeError, match="paint failed"):
        list(sim.frames_ahead(depth=2))


def test_frames_at_paints_the_same_pixels_for_the_chosen_frames_alone():
    sim = simulate("busy", seed=2, seconds=3.0)  # people on screen, camera shake
    frames = list(sim.frames())
    chosen = [30, 2, 17, 17]  # any order, repeats: each frame once, in increasing order
    got = list(sim.frames_at(chosen))
    assert [i for i, _ in got] == [2, 17, 30]
    for i, frame in got:
        np.testing.assert_array_equal(frame, frames[i - 1])
    with pytest.raises(ValueError, match="frames 1..30"):
        next(sim.frames_at([0, 5]))


def test_loader_errors_name_the_file_and_the_fix(tmp_path, written):
    _, root = written
    with pytest.raises(FileNotFoundError, match="does not exist.*python -m lib.footfall.sim"):
        read_sequence(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("scene.json", "events.json", "identities.json"):
        (broken / name).write_bytes((root / name).read_bytes())
    with pytest.raises(FileNotFoundError, match="seqinfo.ini is missing"):
        read_sequence(broken)
    (broken / "seqinfo.ini").write_bytes((root / "seqinfo.ini").read_bytes())
    (broken / "gt").mkdir()
    lines = (root / "gt" / "gt.txt").read_text().splitlines()
    (broken / "gt" / "gt.txt").write_text("\n".join(lines[:2] + ["1,2,3"] + lines[2:]) + "\n")
    with pytest.raises(ValueError, match=r"gt\.txt, line 3"):
        read_sequence(broken)
    (broken / "seqinfo.ini").write_text("[Sequence]\nname=x\n")
    with pytest.raises(ValueError, match="seqinfo.ini is malformed"):
        read_sequence(broken)


def test_unknown_scenario_lists_the_presets():
    with pytest.raises(ValueError, match="sparse, busy, occluded, jittery"):
        simulate("crowded")


def test_cli_writes_a_sequence(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    out = subprocess.run([sys.executable, "-m", "lib.footfall.sim", "--out", str(tmp_path / "s"), "--scenario", "sparse",
                          "--seed", "4", "--seconds", "1"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert read_sequence(tmp_path / "s").info.length == 12


def _walker(sim: Simulation, id_: int, start_xy: tuple[float, float], end_xy: tuple[float, float], frames: int) -> Agent:
    """One person walking a straight line at constant speed (a hand-made scripted path)."""
    xy = np.linspace(start_xy, end_xy, frames)
    heading = np.full(frames, np.arctan2(end_xy[1] - start_xy[1], end_xy[0] - start_xy[0]))
    return Agent(id_, "customer", "visit", sim.agents[0].appearance, 0, xy, heading)


def _closest(a, b) -> float:
    return float(np.min(np.hypot(*(a.xy - b.xy).T)))


def test_people_meeting_in_the_door_step_aside_and_groups_stay_side_by_side(sims):
    sim = sims["busy"]
    lay, fps = sim.layout, sim.scenario.fps
    x, y0, y1 = lay.door_cx, lay.wall_y - 2.0, lay.wall_y + 2.0
    coming_in, going_out = _walker(sim, 1, (x, y0), (x, y1), 41), _walker(sim, 2, (x, y1), (x, y0), 41)
    assert _closest(coming_in, going_out) < 0.1  # scripted: straight through each other
    moved = keep_apart([coming_in, going_out], lay, fps, 41)
    assert _closest(*moved) >= 0.8 * GAP_M
    assert all(np.array_equal(m.heading, a.heading) for m, a in zip(moved, (coming_in, going_out), strict=True))
    # no one pressed into the jambs, and back on the scripted path once past each other
    assert all(lay.door_x0 < m.xy[k, 0] < lay.door_x1 for m in moved for k in range(41)
               if abs(m.xy[k, 1] - lay.wall_y) < lay.wall_thickness)
    assert max(float(np.hypot(*(m.xy[-1] - a.xy[-1]))) for m, a in zip(moved, (coming_in, going_out), strict=True)) < 0.1
    pair = [_walker(sim, 3, (x - 0.28, y0), (x - 0.28, y1), 40), _walker(sim, 4, (x + 0.28, y0), (x + 0.28, y1), 40)]
    assert all(np.array_equal(m.xy, a.xy) for m, a in zip(keep_apart(pair, lay, fps, 40), pair, strict=True))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_nobody_walks_through_anybody(sims, name):
    """At the crossings, hardly anyone has another person's centre within 0.2 m (a third did before the
    sidestep pass on busy): two such people are one blob from above."""
    sim = sims[name]
    gt, ppm = sim.truth.boxes, sim.layout.ppm
    centers = gt.centers()
    crowded = 0
    for e in sim.truth.events:
        here = np.flatnonzero(gt.frame == e.frame)
        me = here[gt.track_id[here] == e.track_id]
        others = here[gt.track_id[here] != e.track_id]
        if len(me) and len(others):
            crowded += float(np.min(np.hypot(*(centers[others] - centers[me[0]]).T))) < 0.2 * ppm
    assert crowded <= max(1, 0.05 * len(sim.truth.events)), f"{name}: {crowded} of {len(sim.truth.events)}"
