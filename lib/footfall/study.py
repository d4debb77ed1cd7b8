"""Notebook 06's steps as functions: train the system, choose the similarity thresholds, evaluate every
deployment path per scenario, and time the paths end to end.

Seeds: the networks train on ``train_seeds`` (the crop networks also on ``crop_seeds``), the thresholds are
chosen on ``threshold_seeds`` and everything is scored on ``eval_seeds``; no scored sequence trained or chose
anything (``lib.profile_checks``). Sequence ``i`` of a list uses scenario ``scenarios[i % len(scenarios)]``
for training and thresholds; evaluation runs every seed in every evaluation scenario. Scores per scenario pool
that scenario's evaluation sequences (frames and ids are offset so that sequences never mix).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from lib.bench.timing import interleaved_rounds, summarize
from lib.footfall.counter import count_crossings, linezone_crossings
from lib.footfall.crops import crop_at
from lib.footfall.data import TrainingData, collect
from lib.footfall.dedup import CandidateCollector, DedupConfig, choose_threshold, pr_curve, repeat_scores
from lib.footfall.detect import DecodeConfig
from lib.footfall.evaluate import evaluate_sequence
from lib.footfall.metrics import BLOCK_METRICS, block_statistics, event_blocks, event_scores, track_on_person
from lib.footfall.pipeline import (
    DESCRIPTORS,
    THRESHOLD_FIELDS,
    Decision,
    FootfallPipeline,
    Networks,
    Output,
    SystemConfig,
    attribute_probabilities,
    counter_config,
    near_door,
    run_paths,
    staff_share_near,
    tracker_config,
)
from lib.footfall.sim import simulate
from lib.footfall.sim.sequence import SequenceData, Simulation
from lib.footfall.system import TrainedSystem, deploy, fp32_networks
from lib.footfall.tracking import FrameDetections, TrackerConfig, track_detections
from lib.footfall.tracks import CrossingEvent, Tracks
from lib.footfall.train import TrainSettings, train_attributes, train_detector, train_reid
from lib.runtime import process_map, set_threads
from lib.stats import bootstrap_paired_difference

OFFSET = 100_000
"""Frame and id offset between pooled sequences (track and visitor ids of one sequence stay below it)."""


def pairs(scenarios: Sequence[str], seeds: Sequence[int]) -> list[tuple[str, int]]:
    """``(scenario, seed)`` for each seed, cycling through the scenarios."""
    return [(scenarios[i % len(scenarios)], int(s)) for i, s in enumerate(seeds)]


def train_system(cfg, seed: int = 0) -> tuple[TrainedSystem, TrainingData, dict[str, list[float]]]:
    """Simulate the training sequences (and the crop-only ones) and train the three networks (``cfg``: a
    profile's ``footfall``) on ``cfg.train_threads`` threads; the caller's thread count is restored afterwards."""
    data = collect(pairs(cfg.train_scenarios, cfg.train_seeds), cfg.train_seconds, scale=cfg.scale, workers=cfg.workers)
    if cfg.crop_sequences:
        data = data.merged(collect(pairs(cfg.train_scenarios, cfg.crop_seeds), cfg.crop_seconds,
                                   frame_stride=cfg.crop_detector_stride, crop_stride=cfg.crop_stride, scale=cfg.scale,
                                   workers=cfg.workers))
    deployed_threads = torch.get_num_threads()
    set_threads(cfg.train_threads)
    try:
        det, det_loss = train_detector(data, TrainSettings(cfg.detector_steps, cfg.detector_batch, cfg.lr, seed),
                                       on_person=cfg.detector_on_person, stride=cfg.detector_stride)
        reid, reid_loss = train_reid(data, TrainSettings(cfg.crop_steps, cfg.crop_batch, cfg.lr, seed))
        attr, attr_loss = train_attributes(data, TrainSettings(cfg.attribute_steps, cfg.crop_batch, cfg.lr, seed))
    finally:
        torch.set_num_threads(deployed_threads)
    config = SystemConfig(decode=DecodeConfig(scale=cfg.scale, peak_kernel=cfg.detector_peak_kernel),
                          ttl_seconds=cfg.gallery_ttl_s)
    provenance = {"train_seeds": list(cfg.train_seeds), "train_scenarios": list(cfg.train_scenarios),
                  "train_seconds": cfg.train_seconds, "crop_seeds": list(cfg.crop_seeds), "crop_seconds": cfg.crop_seconds,
                  "data": data.summary(), "synthetic": True}
    return TrainedSystem(det, reid, attr, config, provenance), data, {"detector": det_loss, "reid": reid_loss,
                                                                        "attributes": attr_loss}


@dataclass(frozen=True)
class ThresholdStudy:
    """Repeat scores and labels of the threshold sequences' entry candidates, and the chosen thresholds; the
    staff scores (one per true crossing: the mean staff probability of its person's track-like stretch, see
    :func:`threshold_study`) and the staff threshold."""

    learned: tuple[np.ndarray, np.ndarray]
    baseline: tuple[np.ndarray, np.ndarray]
    threshold: float
    baseline_threshold: float
    best_f1: float
    baseline_best_f1: float
    sequences: tuple[str, ...]
    candidates: int
    staff: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0, bool))
    staff_threshold: float = 0.5
    staff_best_f1: float = float("nan")
    fused: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0, bool))
    fused_threshold: float = 0.8
    fused_best_f1: float = float("nan")

    def by_descriptor(self) -> dict[str, tuple[tuple[np.ndarray, np.ndarray], float, float]]:
        """``(scores, labels), threshold, best F1`` of each descriptor (:data:`DESCRIPTORS`)."""
        return {"embedding": (self.learned, self.threshold, self.best_f1),
                "colour": (self.baseline, self.baseline_threshold, self.baseline_best_f1),
                "fused": (self.fused, self.fused_threshold, self.fused_best_f1)}

    def config_thresholds(self) -> dict[str, float]:
        """The chosen similarity thresholds as :class:`SystemConfig` fields (``replace(config, **...)``)."""
        return {THRESHOLD_FIELDS[name]: t for name, (_, t, _) in self.by_descriptor().items()}

    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return {name: pr_curve(*scored) for name, (scored, _, _) in self.by_descriptor().items()}


def presence_run(frames: np.ndarray, frame: int, gap: int) -> tuple[int, int]:
    """First and last frame of the run of ``frames`` (one person's observations) that holds ``frame``; a run
    ends where the person goes unseen for more than ``gap`` frames (a tracker would drop the track there)."""
    seen = np.unique(np.append(frames, frame))
    breaks = np.flatnonzero(np.diff(seen) > gap)
    starts, ends = np.r_[seen[0], seen[breaks + 1]], np.r_[seen[breaks], seen[-1]]
    k = int(np.searchsorted(starts, frame, side="right")) - 1
    return int(starts[k]), int(ends[k])


@dataclass
class _SequenceCandidates:
    """One threshold sequence's part of :func:`threshold_study`: the deployed pipeline's accepted entry candidates
    (features per descriptor, entry time, person, staff share) and the per-crossing staff scores."""

    name: str
    features: dict[str, list[np.ndarray]] = field(default_factory=lambda: {d: [] for d in DESCRIPTORS})
    frames: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    staff_scores: list[float] = field(default_factory=list)
    staff_labels: list[bool] = field(default_factory=list)


def candidate_people(decisions: Sequence[Decision], tracks: Tracks, gt: Tracks) -> list[int | None]:
    """The person each candidate was taken of: the true box nearest to its track's box at the entry frame (or the
    track's nearest observed frame), when its centre lies within half that true box's shorter side (as in
    :func:`lib.footfall.metrics.track_on_person`); None when no person is that near."""
    people: list[int | None] = []
    tc, gc = tracks.centers(), gt.centers()
    for d in decisions:
        rows = np.flatnonzero(tracks.track_id == d.track_id)
        person = None
        if len(rows):
            k = rows[np.argmin(np.abs(tracks.frame[rows] - d.entry_frame))]
            g = np.flatnonzero(gt.frame == tracks.frame[k])
            if len(g):
                dist = np.hypot(*(gc[g] - tc[k]).T)
                j = int(np.argmin(dist))
                if dist[j] <= gt.xywh[g[j], 2:].min() / 2:
                    person = int(gt.track_id[g[j]])
        people.append(person)
    return people


def _threshold_sequence(system: TrainedSystem, cfg, scenario: str, seed: int, k: int) -> _SequenceCandidates:
    """One threshold sequence (ids and times offset by ``k``, as in :func:`pooled`): the FP32 pipeline's
    candidates, and the staff scores of the true crossings."""
    nets = fp32_networks(system)
    sim = simulate(scenario, seed=seed, seconds=cfg.threshold_seconds)
    out = _SequenceCandidates(sim.info.name)
    pipeline = FootfallPipeline(nets, sim.door, sim.layout.ppm, sim.info.frame_rate, system.config)
    staff = {i.id for i in sim.truth.identities if i.role == "staff"}
    reach = system.config.door_area_m * sim.layout.ppm
    collector = CandidateCollector(sim.door, DedupConfig(door_area_px=reach, span_margin_px=0.4 * sim.layout.ppm))
    rows = dict(sim.truth.boxes.by_frame())
    role_crops: dict[int, list[tuple[int, np.ndarray]]] = {}
    for f, image in enumerate(sim.frames_ahead(), start=1):
        pipeline.step(f, image)
        # staff evidence as the system gathers it, on the true tracks (every true crossing gets a score)
        idx = rows.get(f, np.zeros(0, np.int64))
        boxes, people = sim.truth.boxes.xyxy[idx], sim.truth.boxes.track_id[idx]
        if f % system.config.role_every == 0 and len(idx):
            near = np.flatnonzero(near_door(sim.door, boxes, reach))
            if len(near):
                probs = attribute_probabilities(nets.attributes, [crop_at(image, boxes[j]) for j in near])
                for j, p in zip(near, probs, strict=True):
                    role_crops.setdefault(int(people[j]), []).append((f, p[:3]))
        for cand in collector.update(f, image, people, boxes):
            # as in the pipeline, a candidate's crops join its person's staff evidence at their own frames
            probs = attribute_probabilities(nets.attributes, cand.crops)
            role_crops.setdefault(int(cand.track_id), []).extend(zip(cand.frames, (p[:3] for p in probs), strict=True))
    result = pipeline.finish()
    accepted = [d for d in result.decisions if d.accepted]
    for n, (d, person) in enumerate(zip(accepted, candidate_people(accepted, result.tracks, sim.truth.boxes), strict=True)):
        for name in DESCRIPTORS:
            out.features[name].append(d.features[name])
        out.frames.append(k * OFFSET + round(d.entry_frame / sim.info.frame_rate * 100))  # centiseconds
        out.ids.append(k * OFFSET + person if person is not None else -(k * OFFSET + n + 1))  # nobody: a one-off
        out.shares.append(d.staff_share)
    gap = round(sim.info.frame_rate * TrackerConfig().lost_track_buffer / 30)
    window = round(system.config.staff_window_s * sim.info.frame_rate)
    seen = {int(i): sim.truth.boxes.frame[sim.truth.boxes.track_id == i] for i in np.unique(sim.truth.boxes.track_id)}
    for event in sim.truth.events:
        first, last = presence_run(seen.get(event.track_id, np.array([event.frame])), event.frame, gap)
        share = staff_share_near([(f, p) for f, p in role_crops.get(event.track_id, []) if first <= f <= last],
                                 event.frame, window)
        out.staff_scores.append(0.0 if share is None else share)
        out.staff_labels.append(event.track_id in staff)
    return out


def threshold_study(system: TrainedSystem, cfg) -> ThresholdStudy:
    """Thresholds for the system as deployed: its FP32 pipeline (detector, tracker, counter, the candidate rule)
    runs on the threshold sequences; its accepted entry candidates, less those the staff threshold chosen here
    takes for staff (the system keeps them out of the gallery), are labelled with the person their track was on
    (:func:`candidate_people`; nobody: a one-off), and each descriptor's threshold is the best-F1 point of its
    precision-recall curve. Candidates cut from the true tracks looked more alike than the detector's: on
    held-out sequences (busy and occluded 3000-3001) three returning customers scored colour similarities of
    0.952-0.957, under the 0.962 chosen on true-track candidates, and no other candidate came above 0.95.

    Staff: the people near the door are cropped every ``role_every``-th frame as the system crops tracks, and
    their entry candidates' crops join them, as in the system; each true crossing is scored as the system scores
    it, with the mean staff probability of its person's crops within ``staff_window_s`` of it, among those in the
    stretch of frames that a tracker would keep as one track (:func:`presence_run`), and the staff threshold is
    the best-F1 point over the crossings (staff F1 is scored per crossing).

    The sequences run in ``cfg.workers`` processes."""
    jobs = [(system, cfg, scenario, seed, k)
            for k, (scenario, seed) in enumerate(pairs(cfg.threshold_scenarios, cfg.threshold_seeds))]
    parts = process_map(_threshold_sequence, jobs, cfg.workers, cfg.threads)
    staff_study = (np.array([x for p in parts for x in p.staff_scores]),
                   np.array([x for p in parts for x in p.staff_labels], bool))
    # no staff crossing to learn from: keep the classifier's own 0.5
    ts, f1s = choose_threshold(*staff_study) if staff_study[1].any() else (0.5, float("nan"))
    # the gallery sees the candidates that the staff threshold just chosen does not take for staff
    shares = np.array([x for p in parts for x in p.shares], np.float64)
    kept = np.flatnonzero(~(shares >= ts))
    frames = [x for p in parts for x in p.frames]
    ids = [x for p in parts for x in p.ids]
    frames, ids = [frames[i] for i in kept], [ids[i] for i in kept]
    ttl = int(system.config.ttl_seconds * 100)
    def features(name: str) -> np.ndarray:
        f = [x for p in parts for x in p.features[name]]
        return np.stack(f)[kept] if f else np.zeros((0, 1))
    a, b, c = (repeat_scores(features(name), frames, ids, ttl) for name in DESCRIPTORS)
    (t, f1), (tb, f1b), (tc, f1c) = choose_threshold(*a), choose_threshold(*b), choose_threshold(*c)
    return ThresholdStudy(a, b, t, tb, f1, f1b, tuple(p.name for p in parts), len(frames), staff_study, ts, f1s,
                          c, tc, f1c)


def choose_descriptor(study: ThresholdStudy, resamples: int = 2000, seed: int = 0, default: str = "fused") -> str:
    """The descriptor the system de-duplicates with, chosen on the threshold sequences (never on the scored
    ones): ``default``, unless another's best F1 there is higher by more than the noise, i.e. the 2.5 % quantile
    of the difference over a bootstrap of the candidates (both thresholds chosen again in each resample) is above
    zero; of several such, the one of the highest F1.

    The fused descriptor is the default because on held-out sequences it is the best of the three
    (``lib.footfall.dedup.FUSED_EMBEDDING_WEIGHT``: repeat-visitor AP over the candidates the system takes there,
    three training runs). With 13-14 true repeats among the threshold sequences' candidates, one or two decisions
    can put another descriptor's best F1 ahead there, as the embedding was in a training run of 2026-12-07 (0.818
    against the histogram's 0.759), which then scored de-duplication F1 0.33-0.57 where the histogram scored
    0.91-1.0 on the evaluation sequences.

    Before the embedding looked at the crop's centre (held-out busy 3000-3001, 120 s, true tracks; AVX2 EPYC): the
    embedding as ``cpu`` trained it then (the whole crop, 250 steps on the crops of 16 ten-second sequences, 71
    identities) reached best F1 0.51, the colour/texture histogram 0.93; 203 identities gave the embedding 0.46.
    """
    scored = study.by_descriptor()
    if default not in scored:
        raise ValueError(f"unknown descriptor {default!r}; choose one of {', '.join(scored)}")
    (base_scores, labels), _, base_f1 = scored[default]
    base_f1 = np.nan_to_num(base_f1, nan=-1.0)
    ahead = sorted(((float(np.nan_to_num(f1, nan=-1.0)), name) for name, (_, _, f1) in scored.items()
                    if name != default and np.nan_to_num(f1, nan=-1.0) > base_f1), reverse=True)
    if not labels.any() or not ahead:
        return default
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(labels), len(labels)) for _ in range(resamples)]

    def resampled_f1(scores: np.ndarray) -> np.ndarray:
        return np.array([np.nan_to_num(choose_threshold(scores[i], labels[i])[1], nan=0.0) for i in draws])

    base = resampled_f1(base_scores)  # once, for every descriptor it is compared with
    for _, name in ahead:
        if np.quantile(resampled_f1(scored[name][0][0]) - base, 0.025) > 0:
            return name
    return default


COUNTING_GRID: dict[str, tuple] = {
    "track_activation": (0.35, 0.5), "high_confidence": (0.25, 0.4), "confirm_frames": (1, 2),
    "relink_s": (0.0, 1.0), "band_m": (0.4, 0.3), "score_threshold": (0.15, 0.25)}
"""The settings :data:`SystemConfig`'s tracker, counter and decoding defaults were chosen from (64 combinations
whose decoding threshold is at most ByteTrack's high-confidence one), on detections of an experiment's ``cpu``
detector over busy 2000-2001 at 90 s. Rerun on the detector of notebook 06's run of 2026-11-27 12:08 UTC over the
profile's 120-s threshold sequences: the defaults 0.952, the best settings 0.960 (band 0.3 m), the old defaults
0.931. Rerun on the detectors of three training runs of the ``cpu`` profile (seeds 0-2, 2026-12-07), one setting for
all three by mean event F1: the settings of then 0.944, the best (one observation past a 0.3-m band) 0.951, now the
defaults."""


def counting_grid(sims: Sequence[Simulation], detections: Sequence[Sequence[FrameDetections]], base: SystemConfig,
                  grid: dict[str, Sequence] | None = None) -> list[tuple[SystemConfig, float]]:
    """Mean event F1 of tracker + counter over ``sims`` for each combination of ``grid`` (fields of
    :class:`SystemConfig`, or ``score_threshold`` of its decoding), best first.

    ``detections``: per sequence, the detector's output decoded at the grid's lowest score threshold (cached
    once; a higher threshold drops the weaker peaks, as decoding at it would).
    """
    grid = COUNTING_GRID if grid is None else grid
    rows = []
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values, strict=True))
        score = setting.pop("score_threshold", base.decode.score_threshold)
        if score > setting.get("high_confidence", base.high_confidence):
            continue
        config = replace(base, decode=replace(base.decode, score_threshold=score), **setting)
        f1 = []
        for sim, dets in zip(sims, detections, strict=True):
            kept = [FrameDetections(d.frame, d.xyxy[d.score >= score], d.score[d.score >= score]) for d in dets]
            tracks = track_detections(kept, tracker_config(config, sim.info.frame_rate))
            events = count_crossings(tracks, sim.door, counter_config(config, sim.layout.ppm, sim.info.frame_rate))
            f1.append(event_scores(events, sim.truth.events).f1)
        rows.append((config, float(np.mean(f1))))
    return sorted(rows, key=lambda r: -r[1])


def as_sequence(sim: Simulation) -> SequenceData:
    """A simulation in memory as the evaluator's :class:`SequenceData`."""
    t = sim.truth
    return SequenceData(Path("."), sim.info, sim.door, sim.layout.ppm, t.boxes, t.events, t.visits, t.identities)


def _shift_events(events: Sequence[CrossingEvent], k: int) -> list[CrossingEvent]:
    return [replace(e, frame=e.frame + k * OFFSET, track_id=e.track_id + k * OFFSET,
                    visitor_id=None if e.visitor_id is None else e.visitor_id + k * OFFSET) for e in events]


def _shift_tracks(tracks: Tracks, k: int) -> Tracks:
    return Tracks(tracks.frame + k * OFFSET, tracks.track_id + k * OFFSET, tracks.xywh, tracks.score, tracks.visibility)


def pooled(seqs: Sequence[SequenceData]) -> SequenceData:
    """One sequence made of several, frames and ids offset by ``OFFSET`` per sequence."""
    first = seqs[0]
    gt = [_shift_tracks(s.gt, k) for k, s in enumerate(seqs)]
    cat = Tracks(*(np.concatenate([getattr(g, f) for g in gt]) for f in ("frame", "track_id", "xywh", "score", "visibility")))
    identities = [replace(i, id=i.id + k * OFFSET) for k, s in enumerate(seqs) for i in s.identities]
    events = [e for k, s in enumerate(seqs) for e in _shift_events(s.events, k)]
    return replace(first, gt=cat, events=events, identities=identities, visits=[])


def pooled_output(outputs: Sequence[Output]) -> tuple[list[CrossingEvent], dict[str, list[CrossingEvent]], Tracks]:
    """Events, the events as each descriptor labels them, and tracks of several sequences, offset as in
    :func:`pooled`."""
    events = [e for k, o in enumerate(outputs) for e in _shift_events(o.events, k)]
    by_descriptor = {name: [e for k, o in enumerate(outputs) for e in _shift_events(o.by_descriptor[name], k)]
                     for name in outputs[0].by_descriptor}
    tr = [_shift_tracks(o.tracks, k) for k, o in enumerate(outputs)]
    tracks = Tracks(*(np.concatenate([getattr(t, f) for t in tr]) for f in ("frame", "track_id", "xywh", "score", "visibility")))
    return events, by_descriptor, tracks


def scores(seq: SequenceData, events: list[CrossingEvent], tracks: Tracks | None, tolerance: int,
           by_descriptor: dict[str, list[CrossingEvent]] | None = None) -> dict[str, float]:
    """The metrics table's row: count errors, event F1, IDF1 (NaN without ``tracks``), de-duplication and staff
    F1; with ``by_descriptor``, also each descriptor's de-duplication F1 (``dedup_f1_<name>``)."""
    r = evaluate_sequence(seq, events, tolerance, tracks)
    row = {"in_error": r.counts.in_error, "out_error": r.counts.out_error, "event_f1": r.events.f1,
           "idf1": r.tracking.idf1 if r.tracking else float("nan"), "dedup_f1": r.dedup.pairwise.f1 if r.dedup else float("nan"),
           "staff_f1": r.staff.f1 if r.staff else float("nan"), "true_in": r.counts.true_in, "true_out": r.counts.true_out}
    for name, labelled in (by_descriptor or {}).items():
        d = evaluate_sequence(seq, labelled, tolerance, tracks, tracking=False).dedup
        row[f"dedup_f1_{name}"] = d.pairwise.f1 if d else float("nan")
    return row


DIFFERENCE_COLUMNS: tuple[str, ...] = ("scenario", "path", "reference", "metric", "estimate", "low", "high", "blocks",
                                       "outside_noise", "margin", "margin_verdict")
"""The fields of a row of :func:`evaluate_paths`' differences (:func:`path_differences`' and its scenario)."""


def path_differences(seq: SequenceData, events: dict[str, list[CrossingEvent]], tolerance: int,
                     block_frames: int, resamples: int = 2000, seed: int = 0,
                     tracks: dict[str, Tracks] | None = None, margin: float = 0.02) -> list[dict]:
    """Each path's metric minus the first path's on the same (pooled) sequence, with a paired bootstrap interval
    over time blocks of ``block_frames`` (the blocks holding any crossing, true or predicted by any path).

    One row per (path, metric) for the metrics :data:`lib.footfall.metrics.BLOCK_METRICS` covers (none without
    any crossing): ``estimate``, ``low``, ``high`` (fractions: ×100 for points), ``blocks``, ``outside_noise``
    (the interval excludes zero) and ``margin_verdict`` against ``±margin`` (:meth:`lib.stats.Interval.margin_verdict`:
    an INT8 path "within" 2 points only where its whole interval is; a point estimate within them on a few blocks
    says nothing). IDF1 and the
    pairwise de-duplication F1 do not add up over blocks (a track or a visitor spans several) and have no
    interval here. ``tracks`` (per path): events pair with their person's crossing where the tracks tell, as
    in the metrics table (:func:`lib.footfall.evaluate.evaluate_sequence`).
    """
    names = list(events)
    blocks = event_blocks([seq.events, *events.values()], block_frames)
    if len(blocks) == 0:  # no crossing at all: nothing to resample
        return []
    staff = {i.id for i in seq.identities if i.role == "staff"}

    def person(p: str):
        return track_on_person(events[p], seq.events, tracks[p], seq.gt) if tracks and p in tracks else None
    stats = {p: block_statistics(events[p], seq.events, tolerance, block_frames, blocks, staff, person(p)) for p in names}
    rows = []
    for path in names[1:]:
        for metric, fn in BLOCK_METRICS.items():
            d = bootstrap_paired_difference(stats[path], stats[names[0]], fn, resamples, seed=seed)
            rows.append({"path": path, "reference": names[0], "metric": metric, "estimate": d.estimate,
                         "low": d.low, "high": d.high, "blocks": d.n, "outside_noise": d.excludes_zero,
                         "margin": margin, "margin_verdict": d.margin_verdict(margin)})
    return rows


def margin_summary(differences: Sequence[dict]) -> str:
    """Whether every difference of :func:`path_differences` is shown to lie within its margin: ``"yes"`` (every
    interval inside), ``"no"`` (one lies wholly beyond) or ``"undecided"`` (some straddle a bound or are undefined,
    or there are none)."""
    verdicts = {d["margin_verdict"] for d in differences}
    if "beyond" in verdicts:
        return "no"
    return "yes" if verdicts == {"within"} else "undecided"


def sequence_outputs(system: TrainedSystem, nets: dict[str, Networks], scenario: str, seed: int,
                     seconds: float) -> tuple[Simulation, dict[str, Output]]:
    """Simulate one sequence and run every deployment path on it (one render); the simulation comes back too,
    since its ground truth takes seconds to annotate again."""
    sim = simulate(scenario, seed=seed, seconds=seconds)
    return sim, run_paths(sim.frames_ahead(), {p: FootfallPipeline(n, sim.door, sim.layout.ppm, sim.info.frame_rate,
                                                                   system.config) for p, n in nets.items()})


def deployed_outputs(system: TrainedSystem, paths: Sequence[str], calibration: tuple[np.ndarray, np.ndarray],
                     threads: int, jobs: Sequence[tuple[str, int, float]]) -> list[tuple[Simulation, dict[str, Output]]]:
    """Deploy ``paths`` (INT8 calibrated on ``calibration``: :func:`lib.footfall.system.calibration_inputs`) and
    run them on each ``(scenario, seed, seconds)``: the work of one process of :func:`evaluate_paths`."""
    nets = {p: deploy(system, p, *calibration, threads=threads) for p in paths}
    return [sequence_outputs(system, nets, *job) for job in jobs]


def evaluate_paths(system: TrainedSystem, nets: dict[str, Networks], cfg,
                   calibration: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[list[dict], dict, list[dict]]:
    """Rows per (scenario, path) and per scenario for the LineZone baseline and for the counter on the
    same fp32 tracks, with and without relinking lost tracks, and for the counter on the true tracks (what it
    scores when detection and tracking are perfect); the per-sequence outputs (for timelines) keyed
    by scenario; and per scenario, each path's differences from the first path with their block-bootstrap
    intervals (:func:`path_differences`).

    Given the ``calibration`` that built ``nets`` (:func:`lib.footfall.system.calibration_inputs`), ``cfg.workers``
    processes run the sequences, each deploying the same paths from it (the same networks; the GIL keeps
    threads from sharing this work out); otherwise ``nets`` run them here."""
    jobs = [(scenario, seed, cfg.eval_seconds) for scenario in cfg.eval_scenarios for seed in cfg.eval_seeds]
    if calibration is not None and cfg.workers > 1:
        groups = [g for g in (jobs[i::cfg.workers] for i in range(cfg.workers)) if g]  # one deployment per worker
        parts = process_map(deployed_outputs, [(system, tuple(nets), calibration, cfg.threads, g) for g in groups],
                            cfg.workers, cfg.threads)
        outputs = dict(zip([job for g in groups for job in g], [o for part in parts for o in part], strict=True))
    else:
        outputs = {job: sequence_outputs(system, nets, *job) for job in jobs}
    rows, kept, differences = [], {}, []
    for scenario in cfg.eval_scenarios:
        sims, outs = zip(*(outputs[(scenario, s, cfg.eval_seconds)] for s in cfg.eval_seeds), strict=True)
        seq = pooled([as_sequence(s) for s in sims])
        path_events, path_tracks = {}, {}
        for path in nets:
            events, by_descriptor, tracks = pooled_output([o[path] for o in outs])
            path_events[path], path_tracks[path] = events, tracks
            rows.append({"scenario": scenario, "path": path, "system": "ours",
                         **scores(seq, events, tracks, cfg.tolerance, by_descriptor)})
        block_frames = max(1, round(cfg.block_seconds * sims[0].info.frame_rate))
        differences += [{"scenario": scenario, **d} for d in
                        path_differences(seq, path_events, cfg.tolerance, block_frames, cfg.resamples,
                                         tracks=path_tracks, margin=cfg.int8_margin)]
        first = next(iter(nets))
        line, ours, unlinked, truth = [], [], [], []
        for k, (sim, o) in enumerate(zip(sims, outs, strict=True)):
            counting = counter_config(system.config, sim.layout.ppm, sim.info.frame_rate)
            line += _shift_events(linezone_crossings(o[first].tracks, sim.door), k)
            ours += _shift_events(count_crossings(o[first].tracks, sim.door, counting), k)
            unlinked += _shift_events(count_crossings(o[first].tracks, sim.door, replace(counting, relink_frames=0)), k)
            truth += _shift_events(count_crossings(sim.truth.boxes, sim.door, counting), k)
        # the first path's own tracks: its IDF1 is already in its row (MOTA/IDF1 cost a second or two each)
        idf1 = next(r["idf1"] for r in rows if r["scenario"] == scenario and r["path"] == first and r["system"] == "ours")
        for name, ev in (("LineZone", line), ("counter only", ours), ("counter, no relink", unlinked)):
            rows.append({"scenario": scenario, "path": first, "system": name,
                         **scores(seq, ev, None, cfg.tolerance), "idf1": idf1})
        rows.append({"scenario": scenario, "path": "true tracks", "system": "counter only",
                     **scores(seq, truth, None, cfg.tolerance)})
        kept[scenario] = (sims[0], {p: outs[0][p] for p in nets})
    return rows, kept, differences


def time_paths(system: TrainedSystem, nets: dict[str, Networks], frames: list[np.ndarray], sim: Simulation,
               rounds: int) -> dict[str, dict]:
    """End-to-end frames per second of each path over ``frames`` (detector, tracker, counter, crops,
    attributes, embeddings), interleaved rounds, one fresh pipeline per run."""
    def runner(n: Networks):
        def run() -> None:
            p = FootfallPipeline(n, sim.door, sim.layout.ppm, sim.info.frame_rate, system.config)
            for i, f in enumerate(frames, start=1):
                p.step(i, f)
            p.finish()
        return run
    samples = interleaved_rounds({name: runner(n) for name, n in nets.items()}, rounds=rounds, warmup=1)
    out = {}
    for name, ms in samples.items():
        t = summarize(ms, warmup=1)
        out[name] = {"fps": len(frames) / (t.median_ms / 1e3), "fps_min": len(frames) / (t.max_ms / 1e3),
                     "fps_max": len(frames) / (t.min_ms / 1e3), "frames": len(frames), **asdict(t)}
    return out
