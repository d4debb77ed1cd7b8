"""Training transforms keep image and label aligned and pad labels with the ignore index."""

from __future__ import annotations

import numpy as np
import pytest

from lib.data.labels import IGNORE_INDEX
from lib.data.transforms import Resize, TrainTransform, pad_pair, resize_pair


def coded_pair(height: int = 64, width: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """An image whose red channel *is* the label (blocks of 8×8 px), so alignment is checkable after any warp."""
    blocks = (np.arange(height)[:, None] // 8 * 16 + np.arange(width)[None, :] // 8) % 19
    label = blocks.astype(np.uint8)
    image = np.stack([label * 10, np.full_like(label, 7), np.full_like(label, 9)], axis=-1).astype(np.uint8)
    return image, label


def test_crop_shape_and_alignment() -> None:
    transform = TrainTransform(crop=(32, 48), scale=(0.5, 2.0), brightness=0, contrast=0, saturation=0, seed=3)
    for _ in range(20):
        image, label = coded_pair()
        out_image, out_label = transform(image, label)
        assert out_image.shape == (32, 48, 3) and out_label.shape == (32, 48)
        assert out_image.dtype == np.uint8 and out_label.dtype == np.uint8
        valid = out_label != IGNORE_INDEX
        # Away from block borders bilinear resampling keeps the code; compare on the interior
        # pixels whose 3×3 neighbourhood has one label.
        same = np.ones_like(valid)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                same &= np.roll(out_label, (dy, dx), axis=(0, 1)) == out_label
        interior = valid & same
        interior[[0, -1], :] = False
        interior[:, [0, -1]] = False
        if interior.any():
            assert (out_image[..., 0][interior] == out_label[interior] * 10).mean() > 0.99


def test_padding_uses_ignore_index() -> None:
    image, label = coded_pair(16, 16)
    padded_image, padded_label = pad_pair(image, label, 24, 32)
    assert padded_label.shape == (24, 32) and padded_image.shape == (24, 32, 3)
    assert (padded_label[16:, :] == IGNORE_INDEX).all() and (padded_label[:, 16:] == IGNORE_INDEX).all()
    assert (padded_image[16:, :] == 0).all()


def test_small_scale_pads_crop_with_ignore() -> None:
    transform = TrainTransform(crop=(64, 128), scale=(0.5, 0.5), flip=False, seed=0)
    _, label = transform(*coded_pair(64, 128))
    assert (label == IGNORE_INDEX).mean() == pytest.approx(0.75)


def test_flip_flips_both() -> None:
    image, label = coded_pair(32, 32)
    transform = TrainTransform(crop=(32, 32), scale=(1.0, 1.0), brightness=0, contrast=0, saturation=0, seed=0)
    flipped = 0
    for _ in range(20):
        out_image, out_label = transform(image, label)
        np.testing.assert_array_equal(out_image[..., 0], out_label * 10)
        flipped += int(np.array_equal(out_label, label[:, ::-1]))
    assert 0 < flipped < 20


def test_resize_label_keeps_class_ids() -> None:
    image, label = coded_pair()
    _, resized = resize_pair(image, label, 37, 91)
    assert set(np.unique(resized)) <= set(np.unique(label))
    out_image, out_label = Resize((32, 64))(image, label)
    assert out_image.shape == (32, 64, 3) and out_label.shape == (32, 64)


def test_seeded_transforms_repeat() -> None:
    a = TrainTransform(crop=(32, 32), seed=5)
    b = TrainTransform(crop=(32, 32), seed=5)
    image, label = coded_pair()
    for _ in range(3):
        np.testing.assert_array_equal(a(image, label)[0], b(image, label)[0])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="crop must be positive"):
        TrainTransform(crop=(0, 10))
    with pytest.raises(ValueError, match="scale must be a range"):
        TrainTransform(scale=(2.0, 1.0))
