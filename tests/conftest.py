"""Shared fixtures: a tiny dataset in the official Cityscapes layout, built by hand (no generator)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from lib.data.labels import CITYSCAPES19


def write_sample(root: Path, split: str, city: str, index: int, image: np.ndarray, label_ids: np.ndarray,
                 train_ids: bool = True) -> str:
    """Write one image with its label-id (and optionally train-id) PNG; return the file stem."""
    stem = f"{city}_{index:06d}_000019"
    image_dir = root / "leftImg8bit" / split / city
    label_dir = root / "gtFine" / split / city
    image_dir.mkdir(parents=True, exist_ok=True)
    label_dir.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(image_dir / f"{stem}_leftImg8bit.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(label_dir / f"{stem}_gtFine_labelIds.png"), label_ids)
    if train_ids:
        cv2.imwrite(str(label_dir / f"{stem}_gtFine_labelTrainIds.png"), CITYSCAPES19.id_to_train_lut()[label_ids])
    return stem


@pytest.fixture
def tiny_cityscapes(tmp_path: Path) -> Path:
    """Two splits, two images each, 32×64, label ids drawn from all 34 Cityscapes ids."""
    rng = np.random.default_rng(0)
    root = tmp_path / "cityscapes"
    for split in ("train", "val"):
        for index in range(2):
            image = rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)
            label_ids = rng.integers(0, 34, (32, 64), dtype=np.uint8)
            write_sample(root, split, "testcity", index, image, label_ids)
    return root


@pytest.fixture
def train_data(tmp_path: Path) -> Path:
    """8 training and 2 validation images, 64×128; label = a learnable function of the image."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for split, count in (("train", 8), ("val", 2)):
        for index in range(count):
            label_ids = np.where(rng.random((64, 128)) < 0.5, 7, 11).astype(np.uint8)  # road / building
            image = np.where(label_ids[..., None] == 7, 60, 190).astype(np.uint8).repeat(3, axis=2)
            write_sample(root, split, "town", index, image, label_ids)
    return root
