"""Inference helpers: multi-scale/flip averaging, dataset evaluation, agreement with the official evaluator."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from lib.data.cityscapes import CityscapesSegmentation
from lib.data.synthcity import generate_dataset
from lib.evaluate import evaluate, official_agreement, predict_probabilities, scaled_size
from lib.sizes import nearest_valid_size


class ColumnPredictor(nn.Module):
    """Predicts class 1 in the left half and class 0 in the right half of any input (not flip-invariant)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        logits = torch.zeros(n, 3, h, w)
        logits[:, 1, :, : w // 2] = 10.0
        logits[:, 0, :, w // 2 :] = 10.0
        return logits


def test_snap_and_scaled_size() -> None:
    assert nearest_valid_size(100) == 96 and nearest_valid_size(10) == 32
    assert scaled_size(512, 1024, 0.75) == (384, 768)


def test_probabilities_are_at_input_size_and_normalised() -> None:
    images = torch.zeros(2, 3, 64, 128)
    probabilities = predict_probabilities(ColumnPredictor(), images, scales=(0.5, 1.0, 1.5))
    assert probabilities.shape == (2, 3, 64, 128)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(2, 64, 128))
    assert (probabilities.argmax(1)[:, :, :60] == 1).all() and (probabilities.argmax(1)[:, :, 68:] == 0).all()


def test_flip_averages_the_mirrored_prediction() -> None:
    probabilities = predict_probabilities(ColumnPredictor(), torch.zeros(1, 3, 32, 64), flip=True)
    # left half says 1 unflipped and 0 flipped: the average is a tie between classes 0 and 1
    torch.testing.assert_close(probabilities[0, 0], probabilities[0, 1])


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    generate_dataset(root, n_train=1, n_val=2, height=64, width=128, seed=3, workers=1, progress=False)
    return root


def test_evaluate_counts_every_labelled_pixel(synthetic_root: Path) -> None:
    val = CityscapesSegmentation(synthetic_root, "val")
    matrix = evaluate(ColumnPredictor(), val, 19, progress=False)
    labelled = sum(int((val[i][1] != 255).sum()) for i in range(len(val)))
    assert int(matrix.matrix.sum()) == labelled
    assert evaluate(ColumnPredictor(), val, 19, max_images=1, progress=False).matrix.sum() < labelled


def test_official_agreement(synthetic_root: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    predictor = nn.Conv2d(3, 19, 1).eval()  # arbitrary predictions: the two evaluators must still agree
    result = official_agreement(predictor, CityscapesSegmentation(synthetic_root, "val"), tmp_path / "preds", max_images=2)
    assert result["images"] == 2 and len(list((tmp_path / "preds").glob("*.png"))) == 2
    assert result["max_abs_difference"] < 1e-9
    assert result["ours_miou"] == pytest.approx(result["official_miou"], abs=1e-9)
