"""``python -m lib.footfall.evaluate`` on a written sequence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.footfall.evaluate import main
from lib.footfall.sim import simulate, write_sequence
from lib.footfall.tracks import CrossingEvent, write_events


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sequence(simulate("busy", seed=0, seconds=12.0), tmp_path_factory.mktemp("eval") / "busy-0")


def run(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_ground_truth_scores_perfectly(sequence, capsys):
    report = run(capsys, "--sequence", str(sequence), "--events", str(sequence / "events.json"),
                 "--tracks", str(sequence / "gt" / "gt.txt"))
    assert report["counts"]["in_error"] == 0 and report["events"]["f1"] == 1.0
    assert report["tracking"]["mota"] == 1.0 and report["dedup"] is None and report["staff"] is None


def test_visitor_ids_and_staff_flags_are_scored(sequence, capsys, tmp_path):
    truth = json.loads((sequence / "events.json").read_text())["events"]
    roles = {i["id"]: i["role"] for i in json.loads((sequence / "identities.json").read_text())["identities"]}
    pred = [CrossingEvent(e["frame"] + 2, 100 + i, e["direction"], visitor_id=0, staff=roles[e["track_id"]] == "staff")
            for i, e in enumerate(truth)]
    write_events(tmp_path / "pred.json", pred[1:])
    report = run(capsys, "--sequence", str(sequence), "--events", str(tmp_path / "pred.json"))
    assert report["events"]["fn"] == 1 and report["events"]["fp"] == 0
    assert report["staff"]["fp"] == 0 and report["staff"]["fn"] == 0
    entrants = [e["track_id"] for e in truth[1:] if e["direction"] == "in"]
    same = sum(a == b for i, a in enumerate(entrants) for b in entrants[i + 1:])
    pairs = len(entrants) * (len(entrants) - 1) // 2
    dedup = report["dedup"]
    assert (dedup["pred_unique"], dedup["true_unique"]) == (1, len(set(entrants)))
    assert (dedup["pairwise"]["tp"], dedup["pairwise"]["fp"], dedup["pairwise"]["fn"]) == (same, pairs - same, 0)


def test_missing_sequence_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        main(["--sequence", str(tmp_path / "none"), "--events", str(tmp_path / "e.json")])
