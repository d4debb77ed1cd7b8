"""A run never destroys another: refused restarts, previous runs kept, one process per folder, early data errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lib.checkpoint import load_checkpoint, save_checkpoint
from lib.data.cityscapes import DatasetError
from lib.train import train
from lib.train.rundir import LOCK_FILE, PREVIOUS_RUNS, RunFolderError, run_lock
from tests.test_train import config


def test_restart_without_overwrite_is_refused_and_keeps_the_run(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(config(train_data, out, epochs=1))
    before = (out / "last.pt").read_bytes()
    with pytest.raises(RunFolderError, match="--overwrite"):
        train(config(train_data, out, epochs=1, resume=False))
    assert (out / "last.pt").read_bytes() == before


def test_overwrite_moves_the_previous_run_aside(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(config(train_data, out, epochs=1))
    before = (out / "last.pt").read_bytes()
    steps_before = (out / "steps.csv").read_text()
    train(config(train_data, out, epochs=1, resume=False, overwrite=True))
    previous = list((out / PREVIOUS_RUNS).iterdir())
    assert len(previous) == 1
    assert (previous[0] / "last.pt").read_bytes() == before
    assert (previous[0] / "steps.csv").read_text() == steps_before
    assert load_checkpoint(out / "last.pt")["step"] == 4


def test_changed_settings_error_points_at_overwrite(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(config(train_data, out, epochs=1))
    with pytest.raises(ValueError, match="--overwrite"):
        train(config(train_data, out, epochs=1, lr=0.01))


def test_foreign_files_without_a_checkpoint_are_refused(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="no last.pt"):
        train(config(train_data, out, epochs=1))
    assert (out / "notes.txt").read_text() == "mine"


def test_second_concurrent_run_on_the_same_folder_is_refused(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from pathlib import Path
        from lib.train.rundir import run_lock
        with run_lock(Path({str(out)!r})):
            print("locked", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunFolderError, match="being trained into by pid"):
            train(config(train_data, out, epochs=1))
    finally:
        holder.kill()
        holder.wait()
    with run_lock(out):  # the lock died with its process: no stale lock
        assert (out / LOCK_FILE).is_file()


def test_orphaned_temporary_checkpoints_are_removed(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    orphan = out / ".last.pt.abc123.tmp"
    orphan.write_bytes(b"x" * 1000)
    train(config(train_data, out, epochs=1))
    assert not orphan.exists()


def test_corrupt_validation_label_is_reported_before_the_first_step(train_data: Path, tmp_path: Path) -> None:
    bad = sorted((train_data / "gtFine" / "val").glob("*/*_gtFine_labelTrainIds.png"))[-1]
    bad.write_bytes(bad.read_bytes()[:60])  # truncated PNG
    started = time.perf_counter()
    with pytest.raises(DatasetError, match=bad.name):
        train(config(train_data, tmp_path / "run", epochs=1))
    assert time.perf_counter() - started < 30
    assert not (tmp_path / "run" / "steps.csv").exists()  # no step was taken


def test_wrong_label_ids_are_reported_before_training(train_data: Path, tmp_path: Path) -> None:
    import cv2

    label = sorted((train_data / "gtFine" / "train").glob("*/*_gtFine_labelTrainIds.png"))[0]
    cv2.imwrite(str(label), np.full((64, 128), 200, np.uint8))
    with pytest.raises(DatasetError, match="are not train ids"):
        train(config(train_data, tmp_path / "run", epochs=1))


def test_kill_during_validation_resumes_at_the_validation(train_data: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import lib.train.loop as loop

    out = tmp_path / "run"
    real_evaluate = loop.evaluate

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(config(train_data, out, epochs=2))
    state = load_checkpoint(out / "last.pt")
    assert state["step"] == 4 and state["pending_epoch_end"]["epoch"] == 0  # the epoch's steps are kept
    monkeypatch.setattr(loop, "evaluate", real_evaluate)
    result = train(config(train_data, out, epochs=2))
    assert result.resumed_from_step == 4 and result.steps == 8
    epochs = (out / "metrics.csv").read_text().splitlines()[1:]
    assert [line.split(",")[0] for line in epochs] == ["1", "2"]


def test_resumed_epoch_loss_averages_every_step_of_the_epoch(train_data: Path, tmp_path: Path) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train(config(train_data, straight, epochs=1))
    train(config(train_data, resumed, epochs=1, max_steps=2))
    train(config(train_data, resumed, epochs=1))

    def epoch_loss(out: Path) -> float:
        return float((out / "metrics.csv").read_text().splitlines()[-1].split(",")[2])

    assert epoch_loss(resumed) == pytest.approx(epoch_loss(straight), rel=1e-5)


def test_checkpoint_every_zero_is_rejected(train_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="checkpoint_every"):
        config(train_data, tmp_path / "run", checkpoint_every=0)


def test_text_file_as_resume_checkpoint_gets_a_clear_error(train_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    save_checkpoint(out / "last.pt", {"hello": 1})
    with pytest.raises(ValueError, match="not a training checkpoint"):
        train(config(train_data, out, epochs=1))
