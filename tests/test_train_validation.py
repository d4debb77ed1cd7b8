"""Validation inside an epoch (``val_every_steps``): rows in metrics.csv, model back in training mode, exact resume."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from lib.checkpoint import load_checkpoint
from lib.train import train
from tests.test_train import config


def metrics_rows(out: Path) -> list[dict[str, str]]:
    with (out / "metrics.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_validates_every_k_steps_inside_an_epoch(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = train(config(train_data, out, epochs=2, val_every_steps=1))  # 4 steps per epoch
    assert result.steps == 8
    rows = metrics_rows(out)
    assert [int(r["step"]) for r in rows] == list(range(1, 9))
    assert [float(r["epoch"]) for r in rows] == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert all(0.0 <= float(r["val_miou"]) <= 1.0 for r in rows)
    elapsed = [float(r["elapsed_seconds"]) for r in rows]
    assert elapsed == sorted(elapsed)


def test_training_after_a_mid_epoch_validation_matches_a_run_without_it(train_data: Path, tmp_path: Path) -> None:
    """Validation switches the model to eval mode; training must continue in train mode (BatchNorm statistics)."""
    plain = train(config(train_data, tmp_path / "plain", epochs=1))
    checked = train(config(train_data, tmp_path / "checked", epochs=1, val_every_steps=2))
    assert plain.steps == checked.steps == 4
    a = load_checkpoint(tmp_path / "plain" / "last.pt")["model"]
    b = load_checkpoint(tmp_path / "checked" / "last.pt")["model"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)


def test_kill_during_mid_epoch_validation_resumes_at_it(train_data: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import lib.train.loop as loop

    straight, out = tmp_path / "straight", tmp_path / "run"
    train(config(train_data, straight, epochs=2, val_every_steps=2))
    real_evaluate, calls = loop.evaluate, []

    def killed_at_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the validation at step 6, inside the second epoch
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(loop, "evaluate", killed_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        train(config(train_data, out, epochs=2, val_every_steps=2))
    state = load_checkpoint(out / "last.pt")
    assert state["step"] == 6 and state["pending_epoch_end"]["mid_epoch"]
    monkeypatch.setattr(loop, "evaluate", real_evaluate)
    result = train(config(train_data, out, epochs=2, val_every_steps=2))
    assert result.resumed_from_step == 6 and result.steps == 8
    assert [int(r["step"]) for r in metrics_rows(out)] == [2, 4, 6, 8]
    a, b = load_checkpoint(straight / "last.pt")["model"], load_checkpoint(out / "last.pt")["model"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)


def test_negative_val_every_steps_is_rejected(train_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="val_every_steps"):
        config(train_data, tmp_path / "run", val_every_steps=-1)
