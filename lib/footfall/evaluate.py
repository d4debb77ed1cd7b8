"""Score predicted crossing events (and optionally tracks) against a simulated sequence's ground truth.

``python -m lib.footfall.evaluate --sequence DIR --events events.json [--tracks pred.txt] [--tolerance 5]``
prints the metrics as JSON. The events file format is in :mod:`lib.footfall.tracks`; ``--tracks`` is a
MOTChallenge results file (``frame,id,x,y,w,h,conf,...``). De-duplication is scored when entry events carry
``visitor_id``, staff filtering when events carry ``staff``; both over the events matched to true ones (with
``--tracks``, each event matched to its own person's crossing where the tracks tell).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

from lib.footfall.metrics import (
    PRF,
    CountError,
    DedupScores,
    MotScores,
    count_error,
    dedup_scores,
    event_scores,
    match_events,
    mot_scores,
    staff_scores,
    track_on_person,
)
from lib.footfall.sim.sequence import SequenceData, read_sequence
from lib.footfall.tracks import CrossingEvent, Tracks, read_events, read_mot


@dataclass(frozen=True)
class FootfallReport:
    """Every metric of one sequence; the optional parts are None when the predictions do not allow them."""

    sequence: str
    tolerance: int
    counts: CountError
    events: PRF
    tracking: MotScores | None = None
    dedup: DedupScores | None = None
    staff: PRF | None = None


def evaluate_sequence(seq: SequenceData, pred: list[CrossingEvent], tolerance: int = 5,
                      pred_tracks: Tracks | None = None, tracking: bool = True) -> FootfallReport:
    """Counts and event scores always; tracking, de-duplication and staff scores when the inputs carry them.

    ``pred_tracks`` pair each predicted event with its person's crossing where they can (the staff flags and
    visitor ids are scored on those pairs) and, unless ``tracking`` is False, give MOTA and IDF1."""
    # with tracks, events pair with the crossing of the person their track is on (as many pairs either way)
    same = track_on_person(pred, seq.events, pred_tracks, seq.gt) if pred_tracks is not None else None
    pairs = [(pred[i], seq.events[j]) for i, j in match_events(pred, seq.events, tolerance, same)]
    entries = [(p.visitor_id, t.track_id) for p, t in pairs if p.direction == "in" and p.visitor_id is not None]
    roles = {i.id: i.role for i in seq.identities}
    flagged = [(p.staff, roles.get(t.track_id) == "staff") for p, t in pairs if p.staff is not None]
    return FootfallReport(
        sequence=seq.info.name, tolerance=tolerance, counts=count_error(pred, seq.events),
        events=event_scores(pred, seq.events, tolerance),
        tracking=mot_scores(seq.gt, pred_tracks) if pred_tracks is not None and tracking else None,
        dedup=dedup_scores(*zip(*entries, strict=True)) if entries else None,
        staff=staff_scores(*zip(*flagged, strict=True)) if flagged else None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.footfall.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", required=True, help="sequence folder (MOTChallenge layout, from lib.footfall.sim)")
    parser.add_argument("--events", required=True, help="predicted events JSON (format: lib.footfall.tracks)")
    parser.add_argument("--tracks", help="predicted tracks, MOTChallenge results file (optional)")
    parser.add_argument("--tolerance", type=int, default=5, help="frames within which events match (default 5)")
    args = parser.parse_args(argv)
    seq = read_sequence(args.sequence)
    tracks = read_mot(args.tracks) if args.tracks else None
    report = evaluate_sequence(seq, read_events(args.events), args.tolerance, tracks)
    print(json.dumps(asdict(report), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
