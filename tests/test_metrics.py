"""Metrics: hand-computed matrices, conventions, and equality with the official Cityscapes evaluator."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from lib.data.labels import CITYSCAPES19, IGNORE_INDEX
from lib.metrics import ConfusionMatrix, majority_class_baseline
from lib.official import evaluate_with_cityscapesscripts, write_official_prediction

# 3 classes; one ignored pixel. (target, pred) pairs: (0,0) (0,0) (0,1) (1,1) (1,2) (2,2) (255,0) (2,0)
TARGET = torch.tensor([[0, 0, 0, 1], [1, 2, IGNORE_INDEX, 2]])
PRED = torch.tensor([[0, 0, 1, 1], [2, 2, 0, 0]])
MATRIX = [[2, 1, 0], [0, 1, 1], [1, 0, 1]]


def _hand_cm() -> ConfusionMatrix:
    return ConfusionMatrix(3).update(PRED, TARGET)


def test_hand_computed_matrix_and_scores() -> None:
    cm = _hand_cm()
    assert cm.matrix.dtype == torch.int64
    assert cm.matrix.tolist() == MATRIX
    torch.testing.assert_close(cm.iou(), torch.tensor([2 / 4, 1 / 3, 1 / 3], dtype=torch.float64))
    assert cm.miou() == pytest.approx(7 / 18)
    assert cm.pixel_accuracy() == pytest.approx(4 / 7)
    assert cm.mean_class_accuracy() == pytest.approx((2 / 3 + 1 / 2 + 1 / 2) / 3)
    assert cm.fw_iou() == pytest.approx(3 / 7 * 1 / 2 + 2 / 7 * 1 / 3 + 2 / 7 * 1 / 3)


def test_ignore_index_is_skipped_even_with_bad_prediction_there() -> None:
    cm = ConfusionMatrix(2, ignore_index=7).update(torch.tensor([0, 1, 1]), torch.tensor([0, 7, 1]))
    assert cm.matrix.tolist() == [[1, 0], [0, 1]]


def test_absent_classes_are_nan_and_skipped_by_means() -> None:
    # class 3 absent everywhere → NaN; class 2 only predicted → 0; class 1 only in GT → 0.
    cm = ConfusionMatrix(4).update(torch.tensor([0, 0, 2, 0]), torch.tensor([0, 0, 0, 1]))
    iou = cm.iou()
    assert math.isnan(iou[3]) and iou[2] == 0 and iou[1] == 0 and iou[0] == pytest.approx(2 / 4)
    assert cm.miou() == pytest.approx((0.5 + 0 + 0) / 3)
    assert cm.mean_class_accuracy() == pytest.approx((2 / 3 + 0) / 2)  # over GT classes only
    scores = cm.as_dict(["a", "b", "c", "d"])
    assert math.isnan(scores["iou"]["d"]) and scores["matrix"][0] == [2, 0, 1, 0]


def test_empty_matrix_is_nan() -> None:
    cm = ConfusionMatrix(3)
    assert math.isnan(cm.miou()) and math.isnan(cm.pixel_accuracy()) and math.isnan(cm.fw_iou())


def test_logits_input_equals_argmax_indices() -> None:
    logits = torch.randn(2, 3, 8, 16)
    target = torch.randint(0, 3, (2, 8, 16))
    target[0, 0] = IGNORE_INDEX
    by_logits = ConfusionMatrix(3).update(logits, target)
    by_index = ConfusionMatrix(3).update(logits.argmax(1), target)
    assert torch.equal(by_logits.matrix, by_index.matrix)
    assert int(by_logits.matrix.sum()) == 2 * 8 * 16 - 16


def test_accumulation_merge_add_reset() -> None:
    whole = _hand_cm()
    a = ConfusionMatrix(3).update(PRED[0], TARGET[0])
    b = ConfusionMatrix(3).update(PRED[1].numpy(), TARGET[1].numpy())  # numpy accepted too
    assert torch.equal((a + b).matrix, whole.matrix)
    assert torch.equal(a.merge(b).matrix, whole.matrix)
    whole.reset()
    assert int(whole.matrix.sum()) == 0
    with pytest.raises(ValueError, match="cannot merge"):
        whole.merge(ConfusionMatrix(4))


def test_bad_inputs_are_errors() -> None:
    cm = ConfusionMatrix(3)
    with pytest.raises(ValueError, match="value 5"):
        cm.update(torch.tensor([0, 1]), torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="value -1"):
        cm.update(torch.tensor([0, 1]), torch.tensor([0, -1]))
    with pytest.raises(ValueError, match="shape"):
        cm.update(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="logits"):
        cm.update(torch.randn(1, 4, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="prediction holds value 3"):
        cm.update(torch.tensor([3]), torch.tensor([0]))
    assert int(cm.matrix.sum()) == 0, "a rejected batch must not be counted"


def test_majority_class_baseline() -> None:
    base = majority_class_baseline(_hand_cm().matrix)  # GT counts 3, 2, 2 → always predict class 0
    assert base["class_index"] == 0
    assert base["pixel_accuracy"] == pytest.approx(3 / 7)
    assert base["miou"] == pytest.approx((3 / 7) / 3)
    assert base["mean_class_accuracy"] == pytest.approx(1 / 3)


def test_write_official_prediction(tmp_path) -> None:
    pred = np.array([[0, 1, 18], [13, 0, 2]])
    path = write_official_prediction(pred, CITYSCAPES19, tmp_path / "p.png", expected_size=(2, 3))
    img = Image.open(path)
    assert img.mode == "L" and img.size == (3, 2)
    assert np.array(img).tolist() == [[7, 8, 33], [26, 7, 11]]  # road, sidewalk, bicycle / car, road, building
    with pytest.raises(ValueError, match="ground truth"):
        write_official_prediction(pred, CITYSCAPES19, tmp_path / "q.png", expected_size=(4, 6))
    with pytest.raises(ValueError, match="train ids"):
        write_official_prediction(np.full((2, 2), IGNORE_INDEX), CITYSCAPES19, tmp_path / "r.png")


def test_equals_official_evaluator(tmp_path) -> None:
    """Our IoU on train ids == cityscapesscripts on label ids, including void pixels and absent classes."""
    rng = np.random.default_rng(0)
    id_to_train = CITYSCAPES19.id_to_train_lut()
    label_ids = np.array(CITYSCAPES19.label_ids)
    void_ids = np.array([0, 1, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18, 29, 30])  # ignoreInEval label ids
    gt_classes = label_ids[[0, 1, 2, 5, 8, 10, 11, 13, 18]]  # 10 train classes never in the GT
    pred_classes = np.array([0, 1, 2, 5, 8, 10, 11, 13, 15])  # 15 (bus) predicted but absent from GT
    cm = ConfusionMatrix(CITYSCAPES19.num_classes)
    preds, gts = [], []
    for i in range(3):
        gt = rng.choice(np.concatenate([gt_classes, void_ids]), size=(64, 128)).astype(np.uint8)
        gt_train = id_to_train[gt]
        pred = rng.choice(pred_classes, size=gt.shape)
        correct = rng.random(gt.shape) < 0.6
        pred = np.where(correct & (gt_train != IGNORE_INDEX), gt_train, pred)
        gts.append(tmp_path / f"city_{i:06d}_000019_gtFine_labelIds.png")
        Image.fromarray(gt).save(gts[-1])
        preds.append(write_official_prediction(pred, CITYSCAPES19, tmp_path / f"city_{i:06d}_000019_pred.png"))
        cm.update(torch.from_numpy(pred), torch.from_numpy(gt_train))

    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as module

    settings = dict(vars(module.args))
    official = evaluate_with_cityscapesscripts(preds, gts)
    assert vars(module.args) == settings, "the module-global args must be left untouched"
    ours = cm.iou().tolist()
    assert set(official["iou"]) == set(CITYSCAPES19.class_names)
    for name, our_iou in zip(CITYSCAPES19.class_names, ours, strict=True):
        their = official["iou"][name]
        assert (math.isnan(our_iou) and math.isnan(their)) or our_iou == pytest.approx(their, abs=1e-6), name
    assert official["iou"]["bus"] == 0.0  # predicted but absent from GT counts as 0, not NaN
    assert math.isnan(official["iou"]["train"])  # neither in GT nor predicted → NaN, skipped by the mean
    assert cm.miou() == pytest.approx(official["miou"], abs=1e-6)
