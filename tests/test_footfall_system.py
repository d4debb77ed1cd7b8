"""Footfall system: detector decoding, entry candidates, the gallery, threshold choice, the networks, the count CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from lib.footfall.count import main as count_main
from lib.footfall.dedup import (
    CandidateCollector,
    DedupConfig,
    Gallery,
    candidate_feature,
    choose_threshold,
    orientation_ok,
    repeat_scores,
)
from lib.footfall.detect import DecodeConfig, decode, encode_targets, normalise, output_stride
from lib.footfall.geometry import Door
from lib.footfall.pipeline import SystemConfig, descriptor_thresholds, staff_share
from lib.footfall.sim import simulate, write_sequence
from lib.footfall.system import TrainedSystem, load_system
from lib.footfall.tracks import read_events
from lib.models import create_model
from lib.profiles import available_profiles, load_profile


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def test_decode_finds_peaks_with_sizes_and_offsets() -> None:
    out = torch.full((1, 5, 16, 20), -8.0)
    out[0, 1:3] = 0.0
    out[0, 3:] = 0.0
    for (iy, ix), p, (w, h), (dx, dy) in [((4, 5), 0.9, (8.0, 6.0), (0.25, 0.5)), ((10, 15), 0.6, (4.0, 4.0), (0.0, 0.0))]:
        out[0, 0, iy, ix] = _logit(p)
        out[0, 0, iy, ix + 1] = _logit(p * 0.8)  # a shoulder next to the peak: suppressed by the 3×3 max-pool
        out[0, 1:, iy, ix] = torch.tensor([np.log(w), np.log(h), dx, dy])
    boxes, scores = decode(out, DecodeConfig(score_threshold=0.3, scale=1.0, frame_hw=(64, 80)))[0]
    assert scores == pytest.approx([0.9, 0.6], abs=1e-4)
    cx, cy = (5 + 0.25) * 4, (4 + 0.5) * 4
    assert boxes[0] == pytest.approx([cx - 16, cy - 12, cx + 16, cy + 12], abs=1e-3)
    assert boxes[1] == pytest.approx([15 * 4 - 8, 10 * 4 - 8, 15 * 4 + 8, 10 * 4 + 8], abs=1e-3)


def test_targets_decode_back_to_the_boxes() -> None:
    boxes = np.array([[100.0, 60.0, 130.0, 92.0], [300.0, 200.0, 326.0, 230.0]])
    heat, reg, mask = encode_targets(boxes, (64, 80), scale=0.5)
    assert mask.sum() == 2 and heat.max() == 1.0
    out = torch.from_numpy(np.concatenate([np.where(heat == 1, 8.0, -8.0)[None], reg])[None]).float()
    found, _ = decode(out, DecodeConfig(score_threshold=0.5, scale=0.5, frame_hw=(480, 640)))[0]
    order = np.argsort(found[:, 0])
    assert found[order] == pytest.approx(boxes, abs=1e-3)


def test_stride_2_targets_decode_back_and_the_stride_comes_from_the_output() -> None:
    boxes = np.array([[100.0, 60.0, 130.0, 92.0], [120.0, 60.0, 150.0, 92.0]])  # 20 px apart: one stride-4 cell at half scale
    config = DecodeConfig(score_threshold=0.5, scale=0.5, frame_hw=(480, 640))
    assert output_stride(64, config) == 4 and output_stride(128, config) == 2
    heat, reg, mask = encode_targets(boxes, (128, 160), scale=0.5, stride=2)
    assert mask.sum() == 2
    out = torch.from_numpy(np.concatenate([np.where(heat == 1, 8.0, -8.0)[None], reg])[None]).float()
    found, _ = decode(out, config)[0]
    assert found[np.argsort(found[:, 0])] == pytest.approx(boxes, abs=1e-3)
    with pytest.raises(ValueError, match="does not divide the 256-pixel input"):
        decode(out[..., :100, :], config)


def test_peak_kernel_merges_or_separates_neighbouring_peaks() -> None:
    out = torch.full((1, 5, 16, 20), -8.0)
    out[0, 0, 8, 5], out[0, 0, 8, 7] = _logit(0.9), _logit(0.8)  # two cells apart
    config = DecodeConfig(score_threshold=0.3, scale=1.0, frame_hw=(64, 80))
    assert len(decode(out, config)[0][1]) == 2
    assert len(decode(out, DecodeConfig(score_threshold=0.3, scale=1.0, frame_hw=(64, 80), peak_kernel=5))[0][1]) == 1
    with pytest.raises(ValueError, match="odd number of cells"):
        DecodeConfig(peak_kernel=4)


def _door() -> Door:
    return Door(a=(40.0, 100.0), b=(120.0, 100.0), inside=((0.0, 100.0), (160.0, 100.0), (160.0, 200.0), (0.0, 200.0)))


def test_candidate_has_three_crops_entry_frame_and_rearms_only_after_the_street() -> None:
    collector = CandidateCollector(_door(), DedupConfig(door_area_px=60, span_margin_px=10, door_queue=4, post_frames=3))
    frame = np.zeros((200, 160, 3), np.uint8)
    done = []
    ys = list(range(20, 160, 8)) + list(range(160, 20, -8)) + list(range(20, 160, 8))  # in, out to the street, in
    for f, y in enumerate(ys, start=1):
        box = np.array([[70.0, y - 10.0, 90.0, y + 10.0]])
        done += collector.update(f, frame, np.array([7]), box)
    assert len(done) == 2
    for cand in done:
        assert len(cand.crops) == 3 and cand.crops[0].shape == (64, 64, 3)
        assert cand.frames[0] < cand.entry_frame < cand.frames[2]
        assert 90 <= ys[cand.entry_frame - 1] + 10 <= 110  # the box first reaches past the line (y = 100)


def test_a_candidate_continues_under_the_track_it_was_handed_over_to() -> None:
    config = DedupConfig(door_area_px=60, span_margin_px=10, door_queue=4, post_frames=3)
    ys = list(range(20, 160, 8))
    for hand_over, expected in ((True, [9]), (False, [])):
        collector, frame, done = CandidateCollector(_door(), config), np.zeros((200, 160, 3), np.uint8), []
        for f, y in enumerate(ys, start=1):
            track = 7 if y < 92 else 9  # lost in front of the line, restarted as track 9 as it reaches past it
            if hand_over and f > 1 and track == 9 and ys[f - 2] < 92:
                collector.hand_over(7, 9)
            done += collector.update(f, frame, np.array([track]), np.array([[70.0, y - 10.0, 90.0, y + 10.0]]))
        assert [c.track_id for c in done] == expected
        assert all(len(c.crops) == 3 for c in done)


def test_an_unarmed_track_hands_nothing_over_and_the_new_track_arms_itself() -> None:
    config = DedupConfig(door_area_px=60, span_margin_px=10, door_queue=4, post_frames=3)
    collector, frame, done = CandidateCollector(_door(), config), np.zeros((200, 160, 3), np.uint8), []
    inside = np.array([[70.0, 140.0, 90.0, 160.0]])
    collector.update(1, frame, np.array([3]), inside)  # track 3 is first seen in the store: never collecting
    for f, y in enumerate(range(60, 160, 8), start=2):  # track 5 appears in the door area, relinked to 3, walks in
        if f == 2:
            collector.hand_over(3, 5)
        done += collector.update(f, frame, np.array([5]), np.array([[70.0, y - 10.0, 90.0, y + 10.0]]))
    assert [c.track_id for c in done] == [5] and len(done[0].crops) == 3


def test_orientation_rejects_any_back_and_needs_a_front() -> None:
    assert orientation_ok([0.9, 0.8, 0.7])
    assert not orientation_ok([0.9, 0.2, 0.9])  # one crop shows the back
    assert not orientation_ok([])


def test_gallery_repeat_new_and_time_to_live() -> None:
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    gallery = Gallery(ttl_frames=100)
    first, repeat, _ = gallery.match(a, 10, threshold=0.8)
    assert not repeat
    second, repeat, sim = gallery.match(candidate_feature(np.array([[0.95, 0.05], [1.0, 0.1]])), 50, threshold=0.8)
    assert repeat and second == first and sim > 0.9
    third, repeat, _ = gallery.match(b, 60, threshold=0.8)
    assert not repeat and third != first
    later, repeat, _ = gallery.match(a, 200, threshold=0.8)  # a's entries (frames 10, 50) expired at 200
    assert not repeat and later not in (first, third)
    assert gallery.frames == [200]


def test_threshold_from_a_constructed_pr_curve() -> None:
    # repeats score 0.9 and 0.8, new visitors 0.5, 0.3 and one confusing 0.85: best F1 keeps both repeats
    scores, labels = np.array([0.9, 0.8, 0.85, 0.5, 0.3]), np.array([True, True, False, False, False])
    threshold, f1 = choose_threshold(scores, labels)
    assert 0.5 < threshold <= 0.8 and f1 == pytest.approx(0.8)
    scores, labels = np.array([0.9, 0.8, 0.5]), np.array([True, True, False])
    threshold, f1 = choose_threshold(scores, labels)
    assert 0.5 < threshold < 0.8 and f1 == 1.0
    assert choose_threshold(np.array([0.4, 0.2]), np.array([False, False]))[0] > 0.4  # no repeats: all new


def test_repeat_scores_look_back_within_the_time_to_live() -> None:
    f = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    scores, labels = repeat_scores(f, frames=[0, 5, 10, 500], identities=[1, 2, 1, 1], ttl_frames=100)
    assert scores[0] == -1 and labels.tolist() == [False, False, True, False]
    assert scores[2] == pytest.approx(1.0) and scores[3] == -1


def test_network_shapes_and_backward() -> None:
    torch.manual_seed(0)
    det, reid, attr = (create_model(n) for n in ("centernet_tiny", "reid_tiny", "attr_tiny"))
    out = det(torch.randn(2, 3, 64, 96))
    assert out.shape == (2, 5, 16, 24)
    crops = torch.randn(3, 3, 64, 64)
    assert reid(crops).shape == (3, 32)
    logits = attr(crops)
    assert logits.shape == (3, 4)
    (out.mean() + logits.mean()).backward()
    assert all(p.grad is not None for p in attr.parameters())
    with pytest.raises(ValueError, match="attributes"):
        create_model("attr_tiny", num_classes=3)
    fine = create_model("centernet_tiny", stride=2)
    out = fine(torch.randn(2, 3, 64, 96))
    assert out.shape == (2, 5, 32, 48) and fine.output_stride == 2
    out.mean().backward()
    assert all(p.grad is not None for p in fine.parameters())
    with pytest.raises(ValueError, match="output stride must be 2 or 4"):
        create_model("centernet_tiny", stride=8)


@pytest.mark.parametrize(("name", "view"), [("attr_tiny", 32), ("reid_tiny", 24)])
def test_crop_networks_see_the_centre_of_the_crop_only(name: str, view: int) -> None:
    torch.manual_seed(0)
    net = create_model(name).eval()
    crops = torch.randn(2, 3, 64, 64)
    a, b = (64 - view) // 2, (64 + view) // 2
    changed = crops.clone()
    changed[..., :a, :] = changed[..., b:, :] = changed[..., :, :a] = changed[..., :, b:] = 5.0
    with torch.no_grad():
        assert torch.equal(net(crops), net(changed))
        if view % 32 == 0:  # inputs are multiples of 32 pixels
            assert torch.equal(net(crops), net(crops[..., a:b, a:b]))
        centre = changed.clone()
        centre[..., 30:34, 30:34] = -5.0
        assert not torch.allclose(net(changed), net(centre))


def test_a_saved_system_keeps_the_embeddings_view_and_older_folders_embed_the_whole_crop(tmp_path) -> None:
    system = TrainedSystem(*(create_model(n).eval() for n in ("centernet_tiny", "reid_tiny", "attr_tiny")),
                           config=SystemConfig(), provenance={})
    folder = system.save(tmp_path / "system")
    assert load_system(folder).reid.view == 24
    meta = json.loads((folder / "system.json").read_text())
    del meta["architecture"]["reid_tiny"]  # written before the embedding had a view: it was trained on whole crops
    (folder / "system.json").write_text(json.dumps(meta))
    older = load_system(folder).reid
    assert older.view is None
    assert all(torch.equal(a, b) for a, b in zip(older.state_dict().values(), system.reid.state_dict().values(), strict=True))


def test_count_cli_on_a_tiny_sequence(tmp_path) -> None:
    torch.manual_seed(0)
    system = TrainedSystem(*(create_model(n).eval() for n in ("centernet_tiny", "reid_tiny", "attr_tiny")),
                           config=SystemConfig(), provenance={"train_seeds": [1000]})
    system.save(tmp_path / "system")
    assert load_system(tmp_path / "system").config == system.config
    fine = TrainedSystem(create_model("centernet_tiny", stride=2).eval(), system.reid, system.attributes,
                         config=SystemConfig(), provenance={})
    again = load_system(fine.save(tmp_path / "fine")).detector
    assert again.output_stride == 2
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), fine.detector.state_dict().values(), strict=True))
    seq = write_sequence(simulate("sparse", seed=5, seconds=1.0), tmp_path / "seq")
    assert count_main(["--sequence", str(seq), "--out", str(tmp_path / "events.json"),
                       "--weights", str(tmp_path / "system"), "--tracks", str(tmp_path / "tracks.txt")]) == 0
    events = read_events(tmp_path / "events.json")
    assert all(e.direction in ("in", "out") for e in events)
    assert (tmp_path / "tracks.txt").is_file()
    with pytest.raises(FileNotFoundError, match="06_footfall"):
        load_system(tmp_path / "nothing")


@pytest.mark.parametrize("name", available_profiles())
def test_footfall_seed_lists_are_disjoint(name: str) -> None:
    ff = load_profile(name).footfall
    train, threshold, evaluation = set(ff.train_seeds), set(ff.threshold_seeds), set(ff.eval_seeds)
    assert train and threshold and evaluation
    assert not train & threshold and not train & evaluation and not threshold & evaluation
    assert not set(ff.crop_seeds) & (threshold | evaluation)


def test_profile_refuses_shared_seeds_and_unknown_scenarios() -> None:
    with pytest.raises(ValueError, match="footfall.detector_stride = 3"):
        load_profile("smoke", {"footfall": {"detector_stride": 3}})
    with pytest.raises(ValueError, match="footfall.detector_peak_kernel = 4"):
        load_profile("smoke", {"footfall": {"detector_peak_kernel": 4}})
    with pytest.raises(ValueError, match="share seeds"):
        load_profile("smoke", {"footfall": {"eval_seeds": [1000]}})
    with pytest.raises(ValueError, match="crop_seeds_from/crop_sequences and footfall.threshold_seeds"):
        load_profile("smoke", {"footfall": {"crop_seeds_from": 1999, "crop_sequences": 2}})
    with pytest.raises(ValueError, match="footfall.eval_scenarios"):
        load_profile("smoke", {"footfall": {"eval_scenarios": ["crowded"]}})
    with pytest.raises(ValueError, match="footfall.paths"):
        load_profile("smoke", {"footfall": {"paths": ["tpu-int4"]}})
    with pytest.raises(ValueError, match="detector_on_person"):
        load_profile("smoke", {"footfall": {"detector_on_person": 1.5}})


def test_windows_on_a_person_hold_that_person_and_others_lie_anywhere_in_the_frame() -> None:
    from lib.footfall.train import window_origins

    rng = np.random.default_rng(0)
    boxes = [np.array([[500.0, 400.0, 530.0, 440.0]]), np.zeros((0, 4))]  # frame 1 holds nobody
    scale, stride, out_hw, window = 0.5, 4, (60, 80), (32, 40)
    idx = np.array([0] * 200 + [1] * 50)
    held = window_origins(boxes, idx, out_hw, window, scale, stride, 1.0, rng)
    centre = np.array([420.0, 515.0]) * scale / stride  # (y, x) in output cells
    inside = np.all((held <= centre) & (centre < held + window), axis=1)
    assert inside[:200].all() and np.all(held >= 0) and np.all(held <= np.subtract(out_hw, window))
    anywhere = window_origins(boxes, idx, out_hw, window, scale, stride, 0.0, rng)
    assert not np.all((anywhere[:200] <= centre) & (centre < anywhere[:200] + window), axis=1).all()
    assert len(np.unique(anywhere, axis=0)) > 100  # each sample draws its own window


def test_training_uses_its_own_threads_and_gives_the_deployed_count_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from lib.footfall import study

    seen: list[int] = []
    original = study.train_detector

    def train_detector_noting_threads(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(study, "train_detector", train_detector_noting_threads)
    cfg = replace(load_profile("smoke").footfall, train_seeds=(1000, 1001), train_seconds=6.0, detector_steps=1,
                  crop_steps=1, train_threads=2)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        system, _, losses = study.train_system(cfg)
        assert seen == [2] and torch.get_num_threads() == 1
        assert len(losses["detector"]) == 1 and isinstance(system.detector, torch.nn.Module)
    finally:
        torch.set_num_threads(previous)


def test_merged_sequences_keep_their_own_identities_and_add_detector_frames_when_asked() -> None:
    from lib.footfall.data import collect

    base = collect([("busy", 1000)], 3.0)
    extra = collect([("busy", 1100), ("occluded", 1101)], 3.0, frame_stride=0, crop_stride=4)
    assert len(extra.frames) == 0 and extra.frames.shape[1:] == base.frames.shape[1:] and len(extra.crops) > 0
    both = base.merged(extra)
    assert np.array_equal(both.frames, base.frames) and len(both.boxes) == len(base.boxes)
    framed = collect([("busy", 1100)], 3.0, frame_stride=6, crop_stride=6)
    assert len(framed.frames) == len(framed.boxes) == 5  # frames 6, 12, ..., 30 of a 10-fps sequence
    more = base.merged(framed)
    assert len(more.frames) == len(base.frames) + 5 and np.array_equal(more.frames[-5:], framed.frames)
    assert all(np.array_equal(a, b) for a, b in zip(more.boxes[-5:], framed.boxes, strict=True))
    assert len(both.crops) == len(base.crops) + len(extra.crops) == len(both.role) == len(both.front)
    # a person of one sequence is never the same identity as a person of another
    assert len(np.unique(both.identity)) == len(np.unique(base.identity)) + len(np.unique(extra.identity))


def test_another_descriptor_replaces_the_fused_one_only_when_clearly_better_on_the_threshold_sequences() -> None:
    from lib.footfall.study import ThresholdStudy, choose_descriptor

    rng = np.random.default_rng(0)

    def scored(labels: np.ndarray, hits: float) -> tuple[tuple[np.ndarray, np.ndarray], float, float]:
        """Scores that rank ``hits`` of the repeats first, with a stranger above each repeat they miss."""
        repeats = int(labels.sum())
        found = labels & (np.cumsum(labels) <= round(hits * repeats))
        scores = np.where(found, 0.9, 0.5) + rng.uniform(0, 0.01, len(labels))
        scores[np.flatnonzero(~labels)[:repeats - found.sum()]] = 0.95
        return (scores, labels), *choose_threshold(scores, labels)

    def study_with(n: int, repeats: int, embedding: float, colour: float, fused: float) -> ThresholdStudy:
        labels = np.zeros(n, bool)
        labels[:repeats] = True
        (e, te, fe), (c, tc, fc), (f, tf, ff) = (scored(labels, h) for h in (embedding, colour, fused))
        return ThresholdStudy(e, c, te, tc, fe, fc, ("s",), n, fused=f, fused_threshold=tf, fused_best_f1=ff)

    assert choose_descriptor(study_with(200, 40, 1.0, 0.6, 0.6)) == "embedding"  # 40 repeats, F1 1.0 against 0.6
    assert choose_descriptor(study_with(200, 40, 0.8, 1.0, 0.6)) == "colour"  # both ahead: the higher F1
    assert choose_descriptor(study_with(100, 13, 1.0, 0.5, 12 / 13)) == "fused"  # one decision of 13 apart: noise
    assert choose_descriptor(study_with(100, 13, 1.0, 1.0, 1.0)) == "fused"  # a tie keeps the default
    assert choose_descriptor(study_with(200, 40, 1.0, 0.6, 0.6), default="colour") == "embedding"
    assert choose_descriptor(study_with(100, 13, 1.0, 12 / 13, 0.5), default="colour") == "colour"
    empty = (np.zeros(0), np.zeros(0, bool))
    assert choose_descriptor(ThresholdStudy(empty, empty, 1.0, 1.0, float("nan"), float("nan"), ("s",), 0)) == "fused"
    with pytest.raises(ValueError, match="unknown descriptor"):
        choose_descriptor(study_with(100, 13, 1.0, 1.0, 1.0), default="faces")


def test_the_fused_descriptor_weighs_the_two_similarities() -> None:
    from lib.footfall.dedup import fused_feature

    def unit(v: list[float]) -> np.ndarray:
        return np.asarray(v, np.float64) / np.linalg.norm(v)

    e1, e2, c1, c2 = unit([1, 0]), unit([1, 1]), unit([1, 2, 0]), unit([0, 1, 3])
    a, b = fused_feature(e1, c1, 0.3), fused_feature(e2, c2, 0.3)
    assert np.isclose(np.linalg.norm(a), 1.0) and np.isclose(a @ b, 0.3 * (e1 @ e2) + 0.7 * (c1 @ c2))
    assert np.isclose(fused_feature(e1, c1, 1.0) @ fused_feature(e2, c2, 1.0), e1 @ e2)
    with pytest.raises(ValueError, match="share"):
        fused_feature(e1, c1, 1.5)


def test_events_carry_the_configured_descriptors_visitor_ids() -> None:
    from lib.footfall.pipeline import Decision, FootfallPipeline, Networks
    from lib.footfall.tracks import CrossingEvent

    def never(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("no network runs in this test")

    store = ((100.0, 200.0), (300.0, 200.0), (300.0, 400.0), (100.0, 400.0))
    nets, door = Networks("none", never, never, never), Door((100.0, 200.0), (300.0, 200.0), inside=store)
    with pytest.raises(ValueError, match="descriptor"):
        FootfallPipeline(nets, door, ppm=70.0, fps=10.0, config=SystemConfig(descriptor="faces"))
    given = {"embedding": 7, "colour": 9, "fused": 8}
    for descriptor, expected in given.items():
        pipeline = FootfallPipeline(nets, door, ppm=70.0, fps=10.0, config=SystemConfig(descriptor=descriptor))
        pipeline.counter.events.append(CrossingEvent(12, 1, "in"))
        pipeline.decisions.append(Decision(1, 10, accepted=True, staff=False, visitors=dict(given)))
        out = pipeline.finish()
        assert [e.visitor_id for e in out.events] == [expected]
        assert {name: [e.visitor_id for e in ev] for name, ev in out.by_descriptor.items()} == {
            name: [v] for name, v in given.items()}


def test_an_entry_takes_the_candidate_of_its_lineage_once() -> None:
    """The candidate finished under a track the counter later relinked back (35 -> 44 -> 35): the entry on 35
    gets its visitor id; a neighbour whose lineage reaches another entry's own candidate does not take it."""
    from lib.footfall.pipeline import FRESH_VISITORS, Decision, FootfallPipeline, Networks
    from lib.footfall.tracks import CrossingEvent

    def never(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("no network runs in this test")

    store = ((100.0, 200.0), (300.0, 200.0), (300.0, 400.0), (100.0, 400.0))
    pipeline = FootfallPipeline(Networks("none", never, never, never), Door((100.0, 200.0), (300.0, 200.0),
                                inside=store), ppm=70.0, fps=10.0, config=SystemConfig(descriptor="colour"))
    pipeline.counter.relinks += [(44, 35), (35, 44), (11, 10)]
    pipeline.counter.events += [CrossingEvent(364, 35, "in"), CrossingEvent(101, 11, "in"), CrossingEvent(100, 10, "in")]
    pipeline.decisions += [Decision(44, 363, accepted=True, staff=False, visitors={"colour": 7}),
                           Decision(10, 99, accepted=True, staff=False, visitors={"colour": 5})]
    visitors = {e.track_id: e.visitor_id for e in pipeline.finish().events}
    assert visitors[35] == 7 and visitors[10] == 5
    assert visitors[11] > FRESH_VISITORS  # no candidate of its own and its lineage's is taken: a new visitor
    assert pipeline._lineage(35) == [35, 44] and pipeline._lineage(10) == [10]


def test_relinks_of_one_id_add_up_and_crops_count_once() -> None:
    """Track 35 continued 20, was lost to 44 and found again, taking 44 back: its lineage holds both, and a
    cycle of relinks merges each track's staff evidence once. Entries without a candidate get visitor ids no
    other sequence's visitors can take once pooled."""
    from lib.footfall.pipeline import FRESH_VISITORS, FootfallPipeline, Networks
    from lib.footfall.study import OFFSET

    def never(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("no network runs in this test")

    store = ((100.0, 200.0), (300.0, 200.0), (300.0, 400.0), (100.0, 400.0))
    pipeline = FootfallPipeline(Networks("none", never, never, never), Door((100.0, 200.0), (300.0, 200.0),
                                inside=store), ppm=70.0, fps=10.0, config=SystemConfig())
    pipeline.counter.relinks += [(35, 20), (44, 35), (35, 44)]
    assert pipeline._lineage(35) == [35, 44, 20] and pipeline._lineage(44) == [44, 35, 20]
    crop = np.array([0.9, 0.1, 0.0])
    pipeline.role_crops.update({20: [(1, crop)], 35: [(5, crop)], 44: [(9, crop)]})
    pipeline.finish()
    assert sorted(f for f, _ in pipeline.role_crops[35]) == [1, 5, 9] == sorted(f for f, _ in pipeline.role_crops[44])
    assert 1_000 < FRESH_VISITORS < OFFSET


def test_a_track_is_staff_when_its_mean_staff_probability_reaches_the_threshold() -> None:
    from lib.footfall.pipeline import FootfallPipeline, Networks
    from lib.footfall.tracks import CrossingEvent

    def never(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("no network runs in this test")

    store = ((100.0, 200.0), (300.0, 200.0), (300.0, 400.0), (100.0, 400.0))
    door = Door((100.0, 200.0), (300.0, 200.0), inside=store)
    for threshold, expected in ((0.5, False), (0.3, True)):
        pipeline = FootfallPipeline(Networks("none", never, never, never), door, ppm=70.0, fps=10.0,
                                    config=SystemConfig(staff_threshold=threshold))
        # two crops: staff probability 0.2 and 0.6, mean 0.4 (the customer class wins the argmax of the sum)
        pipeline.role_crops[1] = [(9, np.array([0.8, 0.2, 0.0])), (12, np.array([0.3, 0.6, 0.1]))]
        pipeline.counter.events.append(CrossingEvent(12, 1, "out"))
        assert [e.staff for e in pipeline.finish().events] == [expected]


def test_a_crossing_is_judged_by_its_tracks_crops_near_it() -> None:
    """A track that the tracker moved from a member of staff to a customer: each crossing by its own crops."""
    from lib.footfall.pipeline import FootfallPipeline, Networks, staff_share_near
    from lib.footfall.tracks import CrossingEvent

    def never(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("no network runs in this test")

    staff, customer = np.array([0.05, 0.95, 0.0]), np.array([0.9, 0.1, 0.0])
    crops = [(f, staff) for f in range(3, 30, 3)] + [(f, customer) for f in range(60, 300, 3)]
    door = Door((100.0, 200.0), (300.0, 200.0), inside=((100.0, 200.0), (300.0, 200.0), (300.0, 400.0), (100.0, 400.0)))
    pipeline = FootfallPipeline(Networks("none", never, never, never), door, ppm=70.0, fps=10.0,
                                config=SystemConfig(staff_threshold=0.5, staff_window_s=2.0))
    pipeline.role_crops[1] = crops
    pipeline.counter.events += [CrossingEvent(20, 1, "in"), CrossingEvent(200, 1, "out")]
    assert [e.staff for e in pipeline.finish().events] == [True, False]  # the whole track's mean is 0.19
    assert staff_share_near(crops, 500, 20) == pytest.approx(staff_share(np.sum([p for _, p in crops], axis=0)))
    assert staff_share_near([], 20, 20) is None


def test_a_relinked_track_adds_the_lost_tracks_staff_evidence() -> None:
    from lib.footfall.pipeline import FootfallPipeline, Networks

    def never(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("no network runs in this test")

    store = ((100.0, 200.0), (300.0, 200.0), (300.0, 400.0), (100.0, 400.0))
    door = Door((100.0, 200.0), (300.0, 200.0), inside=store)
    for relink_s, expected in ((1.0, [(2, "in", True)]), (0.0, [])):
        pipeline = FootfallPipeline(Networks("none", never, never, never), door, ppm=70.0, fps=10.0,
                                    config=SystemConfig(staff_threshold=0.5, relink_s=relink_s, confirm_frames=1))
        pipeline.role_crops[1] = [(f, np.array([0.1, 0.9, 0.0])) for f in (1, 2, 3)]  # seen as staff, then lost
        pipeline.role_crops[2] = [(4, np.array([0.6, 0.4, 0.0]))]  # one less clear crop after the door
        # track 2 appears 32 px (0.46 m) on from where 1 was last seen, a frame later: within walking reach
        for frame, (track_id, y) in enumerate([(1, 150.0), (1, 165.0), (1, 180.0), (2, 212.0), (2, 245.0)], start=1):
            pipeline.counter.update(frame, np.array([track_id]), np.array([[200.0, y]]))
        assert [(e.track_id, e.direction, e.staff) for e in pipeline.finish().events] == expected


def test_path_differences_are_paired_over_time_blocks():
    from types import SimpleNamespace

    from lib.footfall.study import margin_summary, path_differences
    from lib.footfall.tracks import CrossingEvent

    true = [CrossingEvent(30 * k + 3, k, "in" if k % 2 else "out") for k in range(40)]
    seq = SimpleNamespace(events=true, identities=[SimpleNamespace(id=k, role="staff" if k < 5 else "customer")
                                                    for k in range(40)])
    missing = [e for k, e in enumerate(true) if k % 4]  # a quarter of the crossings missed, evenly over time
    rows = path_differences(seq, {"fp32": list(true), "same": list(true), "int8": missing}, tolerance=5,
                            block_frames=90, resamples=500)
    by = {(r["path"], r["metric"]): r for r in rows}
    assert {r["reference"] for r in rows} == {"fp32"} and len(rows) == 8 and by[("same", "event_f1")]["blocks"] == 14
    assert by[("int8", "event_f1")]["outside_noise"] and not by[("same", "event_f1")]["outside_noise"]
    # a quarter of the crossings missed is shown to be more than 2 points worse; no difference, within them
    assert by[("int8", "event_f1")]["margin_verdict"] == "beyond" and by[("same", "event_f1")]["margin_verdict"] == "within"
    # no event carries a staff flag here: staff F1 is undefined on both sides, and so undecided
    same = [r for r in rows if r["path"] == "same"]
    assert margin_summary([r for r in same if r["metric"] != "staff_f1"]) == "yes" and margin_summary(same) == "undecided"
    assert margin_summary(rows) == "no" and margin_summary([]) == "undecided"
    assert all(by[("same", m)]["estimate"] == by[("same", m)]["low"] == by[("same", m)]["high"] == 0.0
               for m in ("event_f1", "in_error", "out_error"))
    f1 = by[("int8", "event_f1")]
    assert f1["estimate"] == pytest.approx(2 * 30 / 70 - 1) and f1["high"] < 0
    assert by[("int8", "out_error")]["estimate"] > 0 == by[("int8", "in_error")]["estimate"]  # the misses are all exits


def test_a_candidate_is_labelled_with_the_person_its_track_was_on() -> None:
    from lib.footfall.pipeline import Decision
    from lib.footfall.study import candidate_people
    from lib.footfall.tracks import Tracks

    # two people 100 px apart, 40-px boxes; track 5 sits on person 1 at frame 10, track 6 between them at frame 12
    gt = Tracks.from_arrays([10, 10, 12, 12], [1, 2, 1, 2], [[0, 0, 40, 40], [100, 0, 40, 40]] * 2)
    pred = Tracks.from_arrays([10, 12, 12], [5, 5, 6], [[4, 2, 40, 40], [2, 0, 40, 40], [50, 0, 40, 40]])
    decisions = [Decision(5, 10, True, False), Decision(5, 11, True, False), Decision(6, 12, True, False),
                 Decision(9, 12, True, False)]
    # at frame 11 track 5 is unseen: its nearest frame decides; track 6 is 50 px from both (more than 20): nobody;
    # track 9 never existed
    assert candidate_people(decisions, pred, gt) == [1, 1, None, None]


def test_thresholds_come_from_the_candidates_the_chosen_staff_threshold_leaves_to_the_gallery(monkeypatch) -> None:
    from types import SimpleNamespace

    import lib.footfall.study as study

    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    near_a = np.array([0.96, 0.28])  # cosine 0.96 with a
    # person 1 enters twice (a, then near a); a staff-looking track (share 0.9) looks like b, and so does
    # person 3 afterwards: left in, the staff candidate would make person 3 a high-scoring false repeat
    part = study._SequenceCandidates(
        "seq", features={name: [a, b, near_a, b] for name in ("embedding", "colour", "fused")}, frames=[0, 50, 100, 150],
        ids=[1, 2, 1, 3], shares=[0.1, 0.9, float("nan"), 0.2],
        staff_scores=[0.9, 0.1, 0.8, 0.2], staff_labels=[True, False, True, False])
    monkeypatch.setattr(study, "_threshold_sequence", lambda *job: part)
    cfg = SimpleNamespace(threshold_scenarios=("busy",), threshold_seeds=(2000,), workers=1, threads=1)
    ts = study.threshold_study(TrainedSystem(None, None, None, SystemConfig(), {}), cfg)
    assert 0.2 < ts.staff_threshold < 0.8 and ts.staff_best_f1 == 1.0
    assert ts.candidates == 3 and int(ts.baseline[1].sum()) == 1  # the staff-looking candidate is out
    assert ts.baseline_best_f1 == 1.0 and 0.0 < ts.baseline_threshold <= 0.96
    assert ts.fused_best_f1 == 1.0 and int(ts.fused[1].sum()) == 1 and ts.fused_threshold == ts.baseline_threshold
    chosen = descriptor_thresholds(replace(SystemConfig(), **ts.config_thresholds()))
    assert chosen == {name: t for name, (_, t, _) in ts.by_descriptor().items()}


def test_presence_run_splits_a_person_where_a_tracker_would_lose_them():
    from lib.footfall.study import presence_run

    frames = np.array([1, 2, 3, 5, 6, 20, 21, 22, 40])
    assert presence_run(frames, 5, gap=3) == (1, 6)  # the 3→5 hole is within the gap
    assert presence_run(frames, 21, gap=3) == (20, 22)
    assert presence_run(frames, 40, gap=3) == (40, 40)
    assert presence_run(frames, 30, gap=3) == (30, 30)  # a crossing frame the person is not seen in stands alone
    assert presence_run(frames, 21, gap=20) == (1, 40)


def test_path_differences_without_any_crossing_are_empty():
    from types import SimpleNamespace

    from lib.footfall.study import path_differences

    seq = SimpleNamespace(events=[], identities=[])
    assert path_differences(seq, {"fp32": [], "int8": []}, tolerance=5, block_frames=100) == []


def test_calibration_batches_are_spread_over_all_the_training_material() -> None:
    from lib.footfall.system import spread_batches

    items = np.repeat(np.arange(100, dtype=np.uint8), 4).reshape(100, 2, 2, 1).repeat(3, axis=3)  # item k is all k
    batches = spread_batches(items, batch=4, batches=3)
    assert [tuple(b.shape) for b in batches] == [(4, 3, 2, 2)] * 3
    chosen = torch.cat(batches)
    # from the first item to the last, not the first twelve
    assert torch.equal(chosen[0], normalise(items[:1])[0]) and torch.equal(chosen[-1], normalise(items[-1:])[0])
    assert len(spread_batches(items[:6], batch=4, batches=3)) == 2  # fewer items than asked: all of them, once
    assert spread_batches(items[:0], batch=4, batches=3) == []


def test_int8_networks_calibrate_on_64_frames_and_512_crops_with_full_bias_correction() -> None:
    """The INT8 recipe the README measured (``lib.footfall.system.BACKEND_OPTIONS``), in the notebook and the CLI."""
    from lib.footfall.detect import padded_size
    from lib.footfall.system import calibration_inputs, deploy
    from lib.quant import available_backends

    if available_backends()["ov-int8"]:
        pytest.skip(available_backends()["ov-int8"])
    torch.manual_seed(0)
    system = TrainedSystem(*(create_model(n).eval() for n in ("centernet_tiny", "reid_tiny", "attr_tiny")),
                           config=SystemConfig(), provenance={})
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (100, *padded_size(480, 640, 0.5), 3), dtype=np.uint8)
    crops = rng.integers(0, 255, (600, 64, 64, 3), dtype=np.uint8)
    assert [len(x) for x in calibration_inputs(frames, crops)] == [64, 512]
    nets = deploy(system, "ov-int8", frames, crops, threads=1)
    for net, images in ((nets.detector, 64), (nets.reid, 512), (nets.attributes, 512)):
        assert f"{images} calibration images" in net.notes and "full bias correction" in net.notes, net.notes


def test_counting_grid_scores_every_setting_and_the_true_boxes_count_perfectly() -> None:
    from lib.footfall.study import counting_grid
    from lib.footfall.tracking import detections_from_tracks

    sim = simulate("busy", seed=2000, seconds=20.0)
    assert len(sim.truth.events) > 0
    dets = detections_from_tracks(sim.truth.boxes, sim.info.length)
    rows = counting_grid([sim], [dets], SystemConfig(), {"confirm_frames": (1, 2), "relink_s": (0.0, 1.0),
                                                         "score_threshold": (0.25, 0.5)})
    assert len(rows) == 4  # a decoding threshold above ByteTrack's high-confidence one (0.25) is skipped
    assert [f1 for _, f1 in rows] == sorted((f1 for _, f1 in rows), reverse=True)
    assert {(c.confirm_frames, c.relink_s) for c, _ in rows} == {(1, 0.0), (1, 1.0), (2, 0.0), (2, 1.0)}
    assert rows[0][1] == 1.0  # tracker and counter on the true boxes find every crossing
