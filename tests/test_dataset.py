"""CityscapesSegmentation: item format, label mapping, and a clear error for each bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from lib.data.cityscapes import CityscapesSegmentation, DatasetError, colorize, denormalize
from lib.data.labels import CITYSCAPES19, IGNORE_INDEX, SEED12, get_class_set
from tests.conftest import write_sample


def label_file(root: Path, split: str = "val", kind: str = "labelIds") -> Path:
    return sorted((root / "gtFine" / split).glob(f"*/*_gtFine_{kind}.png"))[0]


def test_item_types_and_shapes(tiny_cityscapes: Path) -> None:
    ds = CityscapesSegmentation(tiny_cityscapes, "train")
    image, label = ds[0]
    assert len(ds) == 2
    assert image.dtype == torch.float32 and image.shape == (3, 32, 64)
    assert label.dtype == torch.int64 and label.shape == (32, 64)
    assert -3 < image.mean() < 3  # normalised, not 0..255


def test_train_ids_file_equals_lut_of_label_ids(tiny_cityscapes: Path) -> None:
    ds = CityscapesSegmentation(tiny_cityscapes, "val", "cityscapes19")
    ids = cv2.imread(str(label_file(tiny_cityscapes)), cv2.IMREAD_UNCHANGED)
    _, label = ds.load_raw(0)
    np.testing.assert_array_equal(label, CITYSCAPES19.id_to_train_lut()[ids])
    # Without the train-id file the dataset maps label ids itself: same result.
    for path in (tiny_cityscapes / "gtFine").rglob("*_labelTrainIds.png"):
        path.unlink()
    np.testing.assert_array_equal(CityscapesSegmentation(tiny_cityscapes, "val").load_raw(0)[1], label)


def test_lut_on_every_label_id() -> None:
    from cityscapesscripts.helpers.labels import id2label

    for class_set in (CITYSCAPES19, SEED12):
        lut = class_set.id_to_train_lut()
        for label_id in range(34):
            name = id2label[label_id].name
            expected = class_set.class_names.index(name) if name in class_set.class_names else IGNORE_INDEX
            assert lut[label_id] == expected, (class_set.name, label_id, name)
        assert (lut[34:] == IGNORE_INDEX).all()
    # cityscapes19's train ids are cityscapesscripts' own trainIds
    assert all(CITYSCAPES19.id_to_train_lut()[i] == id2label[i].trainId for i in range(34))


def test_seed12_uses_label_ids_not_19_class_train_ids(tiny_cityscapes: Path) -> None:
    ds = CityscapesSegmentation(tiny_cityscapes, "val", "seed12")
    ids = cv2.imread(str(label_file(tiny_cityscapes)), cv2.IMREAD_UNCHANGED)
    _, label = ds.load_raw(0)
    np.testing.assert_array_equal(label, SEED12.id_to_train_lut()[ids])
    assert set(np.unique(label)) <= set(range(12)) | {IGNORE_INDEX}


def test_missing_root_says_how_to_get_data(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"does not exist.*lib\.data\.synthcity"):
        CityscapesSegmentation(tmp_path / "nowhere")


def test_missing_split_names_folder(tiny_cityscapes: Path) -> None:
    with pytest.raises(DatasetError, match=r"leftImg8bit/test: split 'test' not found"):
        CityscapesSegmentation(tiny_cityscapes, "test")


def test_image_without_label(tiny_cityscapes: Path) -> None:
    for path in (tiny_cityscapes / "gtFine" / "val").rglob("*.png"):
        path.unlink()
    with pytest.raises(DatasetError, match=r"leftImg8bit\.png: no label found"):
        CityscapesSegmentation(tiny_cityscapes, "val")


def test_size_mismatch_names_both_files(tiny_cityscapes: Path) -> None:
    path = label_file(tiny_cityscapes, kind="labelTrainIds")
    cv2.imwrite(str(path), np.zeros((16, 64), np.uint8))
    with pytest.raises(DatasetError, match=r"label size 64x16 does not match image .*\(64x32\)"):
        CityscapesSegmentation(tiny_cityscapes, "val").load_raw(0)


def test_values_that_are_not_label_ids(tiny_cityscapes: Path) -> None:
    for path in (tiny_cityscapes / "gtFine").rglob("*_labelTrainIds.png"):
        path.unlink()
    cv2.imwrite(str(label_file(tiny_cityscapes)), np.full((32, 64), 200, np.uint8))
    with pytest.raises(DatasetError, match=r"values \[200\] are not Cityscapes label ids"):
        CityscapesSegmentation(tiny_cityscapes, "val").load_raw(0)


def test_bad_train_ids(tiny_cityscapes: Path) -> None:
    cv2.imwrite(str(label_file(tiny_cityscapes, kind="labelTrainIds")), np.full((32, 64), 40, np.uint8))
    with pytest.raises(DatasetError, match=r"values \[40\] are not train ids 0\.\.18 or 255"):
        CityscapesSegmentation(tiny_cityscapes, "val").load_raw(0)


def test_corrupt_image(tiny_cityscapes: Path) -> None:
    image = sorted((tiny_cityscapes / "leftImg8bit" / "val").rglob("*.png"))[0]
    image.write_bytes(b"\x89PNG not really")
    with pytest.raises(DatasetError, match=r"cannot decode the image"):
        CityscapesSegmentation(tiny_cityscapes, "val")[0]


def test_colour_label_given_as_label(tiny_cityscapes: Path) -> None:
    cv2.imwrite(str(label_file(tiny_cityscapes, kind="labelTrainIds")), np.zeros((32, 64, 3), np.uint8))
    with pytest.raises(DatasetError, match=r"single-channel 8-bit PNG"):
        CityscapesSegmentation(tiny_cityscapes, "val").load_raw(0)


def test_unknown_class_set(tiny_cityscapes: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown class set 'ade20k'; choose one of \['cityscapes19', 'seed12'\]"):
        CityscapesSegmentation(tiny_cityscapes, "val", "ade20k")


def test_only_label_ids_present(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 34, (8, 16), dtype=np.uint8)
    write_sample(tmp_path, "val", "solo", 0, rng.integers(0, 256, (8, 16, 3), dtype=np.uint8), ids, train_ids=False)
    _, label = CityscapesSegmentation(tmp_path, "val").load_raw(0)
    np.testing.assert_array_equal(label, CITYSCAPES19.id_to_train_lut()[ids])


def test_denormalize_and_colorize_roundtrip(tiny_cityscapes: Path) -> None:
    ds = CityscapesSegmentation(tiny_cityscapes, "val")
    raw, label = ds.load_raw(0)
    image, _ = ds[0]
    np.testing.assert_allclose(denormalize(image).astype(int), raw.astype(int), atol=1)
    colours = colorize(label)
    road = label == 0
    if road.any():
        assert tuple(colours[road][0]) == (128, 64, 128)
    assert (colours[label == IGNORE_INDEX] == 0).all()
    assert get_class_set("seed12") is SEED12


def test_copy_of_dataset_is_independent(tiny_cityscapes: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_cityscapes, copy)
    assert len(CityscapesSegmentation(copy, "train")) == 2
