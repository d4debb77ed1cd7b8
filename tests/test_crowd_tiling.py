"""Tiling and merging never count a head twice; the count functions agree on a predictor of known output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib.crowd.inference import count_resized, count_tiles_batched, count_tiles_naive, count_whole, tiled_density
from lib.crowd.tiling import merge_tiles, pad_to_multiple, padded_size, plan_tiles, split_tiles, tile_images
from lib.data.crowd import density_map, downsample_density
from lib.models import create_model
from lib.quant import quantize

H, W = 100, 120  # not multiples of 8: the image is padded
# 2×2 cores of 56×64: seams at y = 56 and x = 64; overlap 16 puts tile edges at 40/72 and 48/80
SEAM_POINTS = [[64.0, 56.0], [64.0, 10.0], [10.0, 56.0], [63.99, 55.99], [80.0, 72.0], [48.0, 40.0], [W, H], [0, 0]]


def _density() -> torch.Tensor:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.uniform(0, 1, (40, 2)) * [W, H], SEAM_POINTS])
    return torch.from_numpy(density_map(points, H, W, method="fixed", sigma=3.0))[None, None]


def _sum_pool(batch: torch.Tensor) -> torch.Tensor:
    """A perfect stride-8 'counter' of images whose first channel is a density map."""
    return F.avg_pool2d(batch[:, :1], 8) * 64


def test_plan_geometry() -> None:
    plan = plan_tiles(H, W, (2, 2), overlap=16, multiple=8)
    assert plan.core == (56, 64) and plan.padded_size == (112, 128) and plan.padding == (12, 8)
    assert plan.tile == (88, 96) and plan.overlap == (16, 16)
    assert plan.origins == ((0, 0), (0, 32), (24, 0), (24, 32))  # shifted inward at the border
    assert plan_tiles(H, W, (1, 1), overlap=16).tile == (104, 120)  # one tile: the padded image
    big = plan_tiles(H, W, (2, 3), overlap=10, multiple=32)
    assert big.tile[0] % 32 == 0 and big.tile[1] % 32 == 0 and big.overlap == (32, 32)
    with pytest.raises(ValueError, match="grid"):
        plan_tiles(H, W, (0, 2))


@pytest.mark.parametrize("mode", ["core", "average"])
def test_identity_roundtrip_keeps_map_and_sum(mode: str) -> None:
    dmap = _density()
    tiles, plan = split_tiles(dmap, (2, 2), overlap=16)
    assert tiles.shape == (4, 1, 88, 96)
    assert float(tiles.sum()) > float(dmap.sum()) + 1  # the overlaps would count heads twice
    merged = merge_tiles(tiles, plan, mode)
    torch.testing.assert_close(merged, dmap)
    assert float(merged.sum()) == pytest.approx(len(SEAM_POINTS) + 40, abs=1e-3)


@pytest.mark.parametrize("mode", ["core", "average"])
def test_stride_8_outputs_merge_to_the_pooled_map(mode: str) -> None:
    dmap = _density()
    tiles, plan = split_tiles(dmap, (2, 2), overlap=16)
    merged = merge_tiles(_sum_pool(tiles), plan, mode)
    expected = torch.from_numpy(downsample_density(dmap.numpy(), 8))
    torch.testing.assert_close(merged, expected, atol=1e-6, rtol=1e-5)
    assert float(merged.sum()) == pytest.approx(48.0, abs=1e-3)


def test_batches_stay_in_order_and_errors_are_clear() -> None:
    maps = torch.cat([_density(), 2 * _density()])
    tiles, plan = split_tiles(maps, (3, 2), overlap=8)
    assert tiles.shape[0] == 2 * 6
    merged = merge_tiles(tiles, plan)
    torch.testing.assert_close(merged, maps)
    with pytest.raises(ValueError, match="plan is for 100x120 images, got 96x120"):
        tile_images(maps[..., :96, :], plan)
    with pytest.raises(ValueError, match="unknown merge mode"):
        merge_tiles(tiles, plan, "max")
    with pytest.raises(ValueError, match="tile outputs 3x5 are not the 56x80 tiles at one integer stride"):
        merge_tiles(F.avg_pool2d(tiles, 16), plan)  # tiles planned for stride 8 cannot take a stride-16 model


def _images() -> torch.Tensor:
    """Two 3-channel 'images' whose first channel is a density map of 48 and 96 heads."""
    maps = torch.cat([_density(), 2 * _density()])
    return torch.cat([maps, torch.zeros(2, 2, H, W)], dim=1)


def test_count_functions_agree_on_a_perfect_counter() -> None:
    images = _images()
    calls: list[int] = []

    def predict(batch: torch.Tensor) -> torch.Tensor:
        calls.append(batch.shape[0])
        return _sum_pool(batch)

    np.testing.assert_allclose(count_whole(predict, images), [48, 96], atol=1e-3)
    assert calls == [2]
    calls.clear()
    np.testing.assert_allclose(count_tiles_naive(predict, images, (2, 2), overlap=16), [48, 96], atol=1e-3)
    assert calls == [1] * 8
    calls.clear()
    for merge in ("core", "average"):
        np.testing.assert_allclose(count_tiles_batched(predict, images, (2, 2), 16, merge=merge), [48, 96], atol=1e-3)
    assert calls == [8, 8]
    calls.clear()
    counts = count_tiles_batched(predict, images, (2, 2), 16, batch_size=3)
    np.testing.assert_allclose(counts, [48, 96], atol=1e-3)
    assert calls == [3, 3, 2]
    # differently sized images, one by one
    np.testing.assert_allclose(count_whole(_sum_pool, [images[0], images[1, :, :64, :80]]),
                               [48, float(images[1, 0, :64, :80].sum())], atol=1e-3)


def test_resized_counts_are_not_rescaled() -> None:
    seen: list[tuple[int, int]] = []

    def fixed_count(batch: torch.Tensor) -> torch.Tensor:  # a perfectly scale-invariant counter of 50 heads
        seen.append(tuple(batch.shape[-2:]))
        cells = batch.new_ones(batch.shape[0], 1, batch.shape[-2] // 8, batch.shape[-1] // 8)
        return cells * 50 / cells[0].numel()

    np.testing.assert_allclose(count_resized(fixed_count, _images(), (48, 64)), [50, 50])
    np.testing.assert_allclose(count_resized(fixed_count, _images(), (208, 240)), [50, 50])
    assert seen == [(48, 64), (208, 240)]
    with pytest.raises(ValueError, match="multiples of 8"):
        count_resized(fixed_count, _images(), (50, 64))


def test_a_counter_and_its_fp32_predictor_plug_in() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = create_model("csrnet_quarter", init="kaiming").eval()
    images = torch.randn(1, 3, H, W)
    density = tiled_density(model, images, (2, 2), overlap=16)
    assert density.shape == (1, 1, 13, 15)
    predictor = quantize(model, "fp32", input_size=(96, 96))
    np.testing.assert_allclose(count_tiles_batched(predictor, images, (2, 2), 16),
                               count_tiles_naive(model, images, (2, 2), 16), rtol=1e-4)
    assert count_whole(model, images).shape == (1,)


def test_padding_rounds_each_side_up_to_the_multiple() -> None:
    assert padded_size(80, 112, 32) == (96, 128) and padded_size(64, 64, 32) == (64, 64)
    padded, padding = pad_to_multiple(torch.ones(1, 3, 80, 112), 32)
    assert padded.shape[-2:] == (96, 128) and padding == (16, 16) and padded.sum() == 3 * 80 * 112
