"""Tables and verdicts of the notebooks' comparisons, on constructed per-image scores."""

from __future__ import annotations

import numpy as np
import pytest

from lib.comparisons import accuracy_table, difference_table, load_trained_models, majority_scores
from lib.evaluate import ImageScores


def scores(correct: list[int], total: int = 100) -> ImageScores:
    """Images with two classes: class 0 (70 % of pixels) always right; of class 1, ``correct`` pixels right."""
    confusions = np.zeros((len(correct), 2, 2), dtype=np.int64)
    for row, c in enumerate(correct):
        confusions[row] = [[70, 0], [30 - c * 30 // total, c * 30 // total]]
    return ImageScores(confusions, list(range(len(correct))))


def test_majority_baseline_predicts_the_most_frequent_class_everywhere() -> None:
    baseline = majority_scores(scores([50, 60, 70]))
    assert baseline.confusions[:, :, 1].sum() == 0 and baseline.confusions[:, 0, 0].sum() == 210
    assert baseline.miou() == pytest.approx(0.35)  # class 0: 70/100, class 1: 0


def test_tables_carry_intervals_image_counts_and_verdicts() -> None:
    good, bad = scores([90, 95, 85, 92, 88, 91]), scores([40, 45, 35, 42, 38, 41])
    table = accuracy_table({"good": good, "bad": bad})
    assert (table["CI low"] <= table["mIoU"]).all() and (table["mIoU"] <= table["CI high"]).all()
    assert set(table["images"]) == {6}
    diff = difference_table({"good": good, "bad": bad, "same": good}, [("good", "bad"), ("same", "good")])
    assert diff.loc["good − bad", "ΔmIoU (pts)"] > 0 and "good is ahead" in diff.loc["good − bad", "verdict"]
    assert diff.loc["same − good", "verdict"] == "within noise"


def test_missing_checkpoint_says_which_notebook_to_run() -> None:
    with pytest.raises(FileNotFoundError, match="run notebook 02"):
        load_trained_models("no-such-profile", ["unet_resnet18"], 19)


def test_scored_models_are_the_final_weights_not_the_validation_pick(tmp_path, monkeypatch) -> None:
    """02 picks ``best.pt`` on a validation subset that 03 and 04 score; they must load ``last.pt``."""
    import torch

    from lib import comparisons
    from lib.checkpoint import save_checkpoint
    from lib.models import create_model

    monkeypatch.setattr(comparisons.paths, "CHECKPOINTS", tmp_path)
    torch.manual_seed(0)
    final, picked = create_model("hrnetv2_w18_small", 3), create_model("hrnetv2_w18_small", 3)
    save_checkpoint(tmp_path / "p" / "hrnetv2_w18_small" / "last.pt", {"model": final.state_dict()})
    save_checkpoint(tmp_path / "p" / "hrnetv2_w18_small" / "best.pt", {"model": picked.state_dict()})
    loaded = load_trained_models("p", ["hrnetv2_w18_small"], 3)["hrnetv2_w18_small"]
    key = next(iter(final.state_dict()))
    assert torch.equal(loaded.state_dict()[key], final.state_dict()[key])
    assert not torch.equal(loaded.state_dict()[key], picked.state_dict()[key])
