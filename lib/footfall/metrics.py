"""Footfall metrics, pure functions of events, tracks and labels.

* Counts: ``in_error = |predicted ins - true ins| / true ins`` (likewise ``out_error``), with signed
  differences. With no true crossings the error is 0 when none is predicted and ``inf`` otherwise.
* Events: direction-aware one-to-one matching within ``±tolerance`` frames; precision, recall, F1. With the
  predicted tracks, the staff flags and visitor ids are scored on pairs matched by person where possible.
* Detection: recall of the true boxes per band of distance from the door line.
* Tracking: MOTA and IDF1 (``motmetrics``); HOTA when ``trackeval`` is installed.
* De-duplication: pairwise precision/recall/F1 over entry events (same visitor predicted vs same
  person in truth) and the unique-visitor count error; staff filtering as a binary task.

A ratio whose denominator is 0 (precision with no predictions, say) is ``nan``.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import motmetrics as mm
import numpy as np
from scipy.optimize import linear_sum_assignment

from lib.footfall.tracks import DIRECTIONS, CrossingEvent, Tracks, count_directions


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


@dataclass(frozen=True)
class CountError:
    """Predicted and true crossing counts and their relative errors."""

    true_in: int
    pred_in: int
    true_out: int
    pred_out: int
    in_error: float
    out_error: float
    in_signed: int
    out_signed: int


def _relative(pred: int, true: int) -> float:
    if true == 0:
        return 0.0 if pred == 0 else math.inf
    return abs(pred - true) / true


def count_error(pred: Sequence[CrossingEvent], true: Sequence[CrossingEvent]) -> CountError:
    """How far the predicted in/out counts are from the true ones."""
    (pi, po), (ti, to) = count_directions(pred), count_directions(true)
    return CountError(ti, pi, to, po, _relative(pi, ti), _relative(po, to), pi - ti, po - to)


@dataclass(frozen=True)
class PRF:
    """True positives, false positives, false negatives and the scores they give."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int) -> PRF:
        return cls(tp, fp, fn, _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn))


def match_events(pred: Sequence[CrossingEvent], true: Sequence[CrossingEvent], tolerance: int,
                 same_person: Callable[[int, int], bool] | None = None) -> list[tuple[int, int]]:
    """One-to-one ``(pred index, true index)`` pairs of the same direction at most ``tolerance`` frames apart.

    Per direction, both lists are walked in time order and the earliest compatible pair is taken: on a
    line with one common tolerance this greedy matching has the largest possible number of pairs.

    ``same_person(i, j)``: whether predicted event ``i`` was made by the track on true event ``j``'s person.
    Given, the pairs are still as many as possible, and among such matchings the most pairs are of the same
    person, then the closest in time (an assignment problem). Two people crossing within the tolerance
    would otherwise pair by time alone, and each carry the other's staff flag and visitor id.
    """
    if same_person is not None:
        return _match_by_person(pred, true, tolerance, same_person)
    pairs = []
    for direction in DIRECTIONS:
        p = sorted((e.frame, i) for i, e in enumerate(pred) if e.direction == direction)
        t = sorted((e.frame, j) for j, e in enumerate(true) if e.direction == direction)
        i = j = 0
        while i < len(p) and j < len(t):
            if abs(p[i][0] - t[j][0]) <= tolerance:
                pairs.append((p[i][1], t[j][1]))
                i, j = i + 1, j + 1
            elif p[i][0] < t[j][0]:
                i += 1
            else:
                j += 1
    return sorted(pairs)


def _match_by_person(pred: Sequence[CrossingEvent], true: Sequence[CrossingEvent], tolerance: int,
                     same_person: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    pairs = []
    for direction in DIRECTIONS:
        p = [i for i, e in enumerate(pred) if e.direction == direction]
        t = [j for j, e in enumerate(true) if e.direction == direction]
        if not p or not t:
            continue
        gap = np.abs(np.array([pred[i].frame for i in p])[:, None] - np.array([true[j].frame for j in t])[None, :])
        feasible = gap <= tolerance
        # each pair is worth more than every tie-break together: the most pairs first, then the same person,
        # then the smallest time difference (all gaps of a matching together weigh less than one other person)
        worth = 4.0 * (len(p) + len(t))
        other = np.array([[not same_person(i, j) for j in t] for i in p], np.float64)
        cost = np.where(feasible, -worth + other + gap / (2.0 * (tolerance + 1) * min(len(p), len(t))), 0.0)
        rows, cols = linear_sum_assignment(cost)
        pairs += [(p[r], t[c]) for r, c in zip(rows, cols, strict=True) if feasible[r, c]]
    return sorted(pairs)


def on_person(centres: np.ndarray, person_xywh: np.ndarray) -> np.ndarray:
    """Whether each of ``centres`` (``(..., 2)``) lies on the person of the matching ``person_xywh`` (``(..., 4)``,
    broadcast): within half the box's smaller side of its centre. The one test of "a box on this person" that the
    event matching and the detection recall share."""
    person_xywh = np.asarray(person_xywh, np.float64)
    gap = np.linalg.norm(np.asarray(centres, np.float64) - (person_xywh[..., :2] + person_xywh[..., 2:] / 2), axis=-1)
    return gap <= person_xywh[..., 2:].min(-1) / 2


def track_on_person(pred: Sequence[CrossingEvent], true: Sequence[CrossingEvent], pred_tracks: Tracks,
                    gt: Tracks) -> Callable[[int, int], bool]:
    """``same_person`` for :func:`match_events`: predicted event ``i``'s track, at the frame of that event, has
    its box centre within half a box side of true event ``j``'s person at the same frame."""
    pred_box = {(int(f), int(t)): k for k, (f, t) in enumerate(zip(pred_tracks.frame, pred_tracks.track_id, strict=True))}
    gt_box = {(int(f), int(t)): k for k, (f, t) in enumerate(zip(gt.frame, gt.track_id, strict=True))}
    pc = pred_tracks.centers()

    def same(i: int, j: int) -> bool:
        frame = pred[i].frame
        a, b = pred_box.get((frame, pred[i].track_id)), gt_box.get((frame, true[j].track_id))
        if a is None or b is None:
            return False
        return bool(on_person(pc[a], gt.xywh[b]))

    return same


def event_scores(pred: Sequence[CrossingEvent], true: Sequence[CrossingEvent], tolerance: int = 5) -> PRF:
    """Precision, recall and F1 of predicted crossing events against the true ones."""
    tp = len(match_events(pred, true, tolerance))
    return PRF.from_counts(tp, len(pred) - tp, len(true) - tp)


def found_boxes(gt: Tracks, detections: Tracks) -> np.ndarray:
    """Per true box, whether a detection of the same frame has its centre within half the box's smaller side of
    the box's centre (:func:`on_person`). ``detections``: boxes with any ids and scores."""
    found = np.zeros(len(gt.frame), bool)
    det_rows = dict(detections.by_frame())
    dc = detections.centers()
    for frame, rows in gt.by_frame():
        d = det_rows.get(frame)
        if d is not None and len(d):
            found[rows] = on_person(dc[None, d], gt.xywh[rows, None]).any(1)
    return found


def recall_by_distance(gt: Tracks, detections: Tracks, distance: np.ndarray, edges: Sequence[float],
                       min_visibility: float = 0.6) -> list[dict]:
    """Detection recall per bin ``[edges[k], edges[k+1])`` of ``distance`` (one value per true box: the signed
    distance of its centre from the door line in metres, say): where in the scene the detector loses people.
    Only boxes at least ``min_visibility`` visible are counted; a bin without any has recall ``nan``."""
    distance = np.asarray(distance, np.float64).reshape(-1)
    if len(distance) != len(gt.frame):
        raise ValueError(f"recall_by_distance: {len(distance)} distances for {len(gt.frame)} true boxes")
    found, visible = found_boxes(gt, detections), gt.visibility >= min_visibility
    rows = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        sel = visible & (distance >= low) & (distance < high)
        rows.append({"low": float(low), "high": float(high), "boxes": int(sel.sum()),
                     "recall": _ratio(float(found[sel].sum()), float(sel.sum()))})
    return rows


@dataclass(frozen=True)
class MotScores:
    """CLEAR-MOT and identity scores of predicted tracks against ground-truth tracks."""

    mota: float
    idf1: float
    motp: float
    id_switches: int
    false_positives: int
    misses: int
    objects: int
    hota: float | None = None


def iou_matrix(a_xywh: np.ndarray, b_xywh: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` with every box in ``b`` (both ``x, y, w, h``).

    motmetrics 1.4.0's own ``iou_matrix`` calls ``np.asfarray``, which NumPy 2 removed.
    """
    a, b = np.asarray(a_xywh, np.float64).reshape(-1, 4), np.asarray(b_xywh, np.float64).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, :2] + a[:, None, 2:], b[None, :, :2] + b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    union = np.prod(a[:, 2:], 1)[:, None] + np.prod(b[:, 2:], 1)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def mot_scores(gt: Tracks, pred: Tracks, iou_threshold: float = 0.5, min_visibility: float = 0.0) -> MotScores:
    """MOTA, IDF1 and MOTP (1 - mean IoU of matches) over every frame of either; HOTA if trackeval is present.

    Ground-truth rows with visibility below ``min_visibility`` are left out.
    """
    gt = gt.select(gt.visibility >= min_visibility)
    gt_frames, pred_frames = dict(gt.by_frame()), dict(pred.by_frame())
    acc = mm.MOTAccumulator(auto_id=True)
    empty = np.zeros(0, np.int64)
    for frame in sorted(set(gt_frames) | set(pred_frames)):
        g, p = gt_frames.get(frame, empty), pred_frames.get(frame, empty)
        iou = iou_matrix(gt.xywh[g], pred.xywh[p])
        acc.update(gt.track_id[g].tolist(), pred.track_id[p].tolist(), np.where(iou >= iou_threshold, 1 - iou, np.nan))
    names = ["mota", "idf1", "motp", "num_switches", "num_false_positives", "num_misses", "num_objects"]
    row = mm.metrics.create().compute(acc, metrics=names, name="sequence").iloc[0]
    return MotScores(float(row["mota"]), float(row["idf1"]), float(row["motp"]), int(row["num_switches"]),
                     int(row["num_false_positives"]), int(row["num_misses"]), int(row["num_objects"]),
                     hota_score(gt, pred))


def hota_score(gt: Tracks, pred: Tracks) -> float | None:
    """HOTA (mean over localisation thresholds) with TrackEval's implementation, or None without it."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # trackeval prints its optional-import failures
            from trackeval.metrics import HOTA
    except ImportError:
        return None
    frames = sorted(set(gt.frame.tolist()) | set(pred.frame.tolist()))
    if not frames or len(gt) == 0 or len(pred) == 0:
        return None
    gt_ids = {v: i for i, v in enumerate(np.unique(gt.track_id).tolist())}
    pred_ids = {v: i for i, v in enumerate(np.unique(pred.track_id).tolist())}
    gt_frames, pred_frames = dict(gt.by_frame()), dict(pred.by_frame())
    empty = np.zeros(0, np.int64)
    data = {"num_gt_ids": len(gt_ids), "num_tracker_ids": len(pred_ids), "num_gt_dets": len(gt),
            "num_tracker_dets": len(pred), "gt_ids": [], "tracker_ids": [], "similarity_scores": []}
    for frame in frames:
        g, p = gt_frames.get(frame, empty), pred_frames.get(frame, empty)
        data["gt_ids"].append(np.array([gt_ids[v] for v in gt.track_id[g].tolist()], int))
        data["tracker_ids"].append(np.array([pred_ids[v] for v in pred.track_id[p].tolist()], int))
        data["similarity_scores"].append(iou_matrix(gt.xywh[g], pred.xywh[p]))
    return float(np.mean(HOTA().eval_sequence(data)["HOTA"]))


@dataclass(frozen=True)
class DedupScores:
    """Pairwise scores of "these two entries are the same visitor", and the unique-visitor count error."""

    pairwise: PRF
    pred_unique: int
    true_unique: int
    unique_error: float


def dedup_scores(pred_visitor: Sequence[int], true_identity: Sequence[int]) -> DedupScores:
    """Score predicted visitor ids of entry events against the true identity of each entry (aligned lists)."""
    pv, ti = np.asarray(pred_visitor), np.asarray(true_identity)
    if pv.shape != ti.shape:
        raise ValueError(f"{len(pv)} predicted visitor ids but {len(ti)} true identities: give one of each per entry")
    upper = np.triu(np.ones((len(pv), len(pv)), bool), k=1)
    same_pred, same_true = (pv[:, None] == pv[None, :]) & upper, (ti[:, None] == ti[None, :]) & upper
    tp = int((same_pred & same_true).sum())
    pairwise = PRF.from_counts(tp, int(same_pred.sum()) - tp, int(same_true.sum()) - tp)
    n_pred, n_true = len(np.unique(pv)), len(np.unique(ti))
    return DedupScores(pairwise, n_pred, n_true, _relative(n_pred, n_true))


def staff_scores(pred_staff: Sequence[bool], true_staff: Sequence[bool]) -> PRF:
    """Staff filtering as binary classification (staff is the positive class), over aligned lists."""
    p, t = np.asarray(pred_staff, bool), np.asarray(true_staff, bool)
    if p.shape != t.shape:
        raise ValueError(f"{len(p)} predicted staff flags but {len(t)} true ones: give one of each per event")
    return PRF.from_counts(int((p & t).sum()), int((p & ~t).sum()), int((~p & t).sum()))


BLOCK_STATISTICS = ("event_tp", "event_fp", "event_fn", "pred_in", "true_in", "pred_out", "true_out",
                    "staff_tp", "staff_fp", "staff_fn")
"""Columns of :func:`block_statistics`: additive over time blocks, so the block bootstrap can resample them."""


def event_blocks(event_lists: Sequence[Sequence[CrossingEvent]], block_frames: int) -> np.ndarray:
    """Sorted ids (``frame // block_frames``) of the time blocks holding at least one of the events."""
    if block_frames < 1:
        raise ValueError(f"block_frames must be >= 1, got {block_frames}")
    return np.unique([e.frame // block_frames for events in event_lists for e in events]).astype(np.int64)


def block_statistics(pred: Sequence[CrossingEvent], true: Sequence[CrossingEvent], tolerance: int,
                     block_frames: int, blocks: np.ndarray, staff_ids: set[int] | frozenset[int] = frozenset(),
                     same_person: Callable[[int, int], bool] | None = None) -> np.ndarray:
    """Per time block (rows, in the order of ``blocks``), the counts behind the event F1, the in/out count errors
    and the staff F1 (columns: :data:`BLOCK_STATISTICS`), matched as :func:`event_scores` and the evaluator match.

    A matched pair counts in its true event's block, a false positive in its own, a miss in the true event's;
    staff flags are scored on matched pairs whose prediction carries one (``staff_ids``: true staff track ids).
    Every event must fall in one of ``blocks`` (from :func:`event_blocks` over all the systems compared).
    ``same_person``: as in :func:`match_events` (pairs by person where the tracks tell).
    """
    index = {int(b): k for k, b in enumerate(blocks)}
    rows = np.zeros((len(blocks), len(BLOCK_STATISTICS)), np.int64)
    col = {name: k for k, name in enumerate(BLOCK_STATISTICS)}

    def add(frame: int, name: str) -> None:
        block = frame // block_frames
        if block not in index:
            raise ValueError(f"an event at frame {frame} falls in block {block}, not among the blocks given")
        rows[index[block], col[name]] += 1

    pairs = match_events(pred, true, tolerance, same_person)
    matched_pred, matched_true = {i for i, _ in pairs}, {j for _, j in pairs}
    for i, j in pairs:
        add(true[j].frame, "event_tp")
        flag, is_staff = pred[i].staff, true[j].track_id in staff_ids
        if flag is not None and (flag or is_staff):
            add(true[j].frame, "staff_tp" if flag and is_staff else "staff_fp" if flag else "staff_fn")
    for i, e in enumerate(pred):
        add(e.frame, f"pred_{e.direction}")
        if i not in matched_pred:
            add(e.frame, "event_fp")
    for j, e in enumerate(true):
        add(e.frame, f"true_{e.direction}")
        if j not in matched_true:
            add(e.frame, "event_fn")
    return rows


def _f1_rows(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    den = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), np.nan)


def _relative_rows(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(true > 0, np.abs(pred - true) / np.where(true > 0, true, 1), np.nan)


def _column(rows: np.ndarray, name: str) -> np.ndarray:
    return rows[:, BLOCK_STATISTICS.index(name)]


BLOCK_METRICS = {
    "in_error": lambda r: _relative_rows(_column(r, "pred_in"), _column(r, "true_in")),
    "out_error": lambda r: _relative_rows(_column(r, "pred_out"), _column(r, "true_out")),
    "event_f1": lambda r: _f1_rows(_column(r, "event_tp"), _column(r, "event_fp"), _column(r, "event_fn")),
    "staff_f1": lambda r: _f1_rows(_column(r, "staff_tp"), _column(r, "staff_fp"), _column(r, "staff_fn")),
}
"""The metrics table's columns that :func:`block_statistics` rows give (R×K summed rows → R values; NaN where a
metric is undefined, e.g. no true entries)."""
