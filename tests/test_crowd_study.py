"""Notebook 05's helpers: calibration choice, the paired MAE bootstrap, the variants, records and Pareto front."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib.crowd.calibration import CALIBRATION_METHODS, check_disjoint, select_calibration
from lib.crowd.metrics import bootstrap_mae_difference
from lib.crowd.study import (
    REFERENCE,
    Variant,
    calibration_batches,
    count_all,
    deployed_variant,
    fp32_variants,
    mae_sentence,
    pareto_front,
    speed_sentence,
    study_records,
    tile_plan,
    time_all,
    whole_calibration_batches,
)
from lib.data.crowd import load_nwpu
from lib.profiles import load_profile

COUNTS = [5, 120, 40, 700, 300, 0, 80, 220]


def test_calibration_methods() -> None:
    assert select_calibration(COUNTS, "densest", 4) == [3]
    diverse = select_calibration(COUNTS, "diverse", 3)
    assert min(COUNTS[i] for i in diverse) == 0 and max(COUNTS[i] for i in diverse) == 700
    random = select_calibration(COUNTS, "random", 5, seed=1)
    assert len(set(random)) == 5 and random == select_calibration(COUNTS, "random", 5, seed=1)
    assert select_calibration(COUNTS, "random", 50) == list(range(len(COUNTS)))
    with pytest.raises(ValueError, match="unknown calibration"):
        select_calibration(COUNTS, "class-balanced", 2)
    with pytest.raises(ValueError):
        select_calibration([], "densest", 1)


def test_calibration_images_are_never_scored(tmp_path) -> None:
    from lib.data.crowd import generate_crowd_dataset

    generate_crowd_dataset(tmp_path, images=10, height=64, width=64, seed=0, val_fraction=0.0, test_fraction=0.3)
    train, test = load_nwpu(tmp_path, "train"), load_nwpu(tmp_path, "test")
    for method in CALIBRATION_METHODS:
        chosen = [train[i].name for i in select_calibration([it.count for it in train], method, 4)]
        check_disjoint(chosen, [it.name for it in test])
        assert not set(chosen) & {it.name for it in test}
    with pytest.raises(ValueError, match="also scored"):
        check_disjoint([train[0].name, test[0].name], [it.name for it in test])


def test_paired_bootstrap_of_mae_difference() -> None:
    rng = np.random.default_rng(0)
    gt = rng.uniform(10, 500, 40)
    noise = rng.normal(0, 5, 40)
    better, worse = gt + noise, gt + noise + 20  # B is off by exactly 20 more heads on every image
    diff = bootstrap_mae_difference(better, worse, gt, resamples=500)
    assert diff.estimate == pytest.approx(np.abs(noise).mean() - np.abs(noise + 20).mean())
    assert diff.high < 0 and diff.excludes_zero and diff.n == 40
    same = bootstrap_mae_difference(better, better, gt, resamples=100)
    assert same.estimate == same.low == same.high == 0.0
    swapped = bootstrap_mae_difference(gt + noise, gt - noise, gt, resamples=500)  # same |error| per image
    assert swapped.estimate == pytest.approx(0.0) and not swapped.excludes_zero
    assert "within noise" in mae_sentence(swapped, "A", "B")
    assert "A is more accurate" in mae_sentence(diff, "A", "B")
    with pytest.raises(ValueError):
        bootstrap_mae_difference([1, 2], [1], [1, 2])


def toy_counter(batch: torch.Tensor) -> torch.Tensor:
    """A density at stride 8 that depends on the pixels only: tiles and whole images give the same sums."""
    return F.avg_pool2d(batch[:, :1].abs(), 8) * 0.01


def test_variants_records_and_front() -> None:
    images = torch.randn(3, 3, 96, 128)
    plan = tile_plan(96, 128, (2, 2), 32)
    assert plan.tile[0] % 32 == 0 and plan.tile[1] % 32 == 0
    assert [b.shape for b in calibration_batches(images, [0, 2], plan)] == [(4, 3, *plan.tile)] * 2
    variants = fp32_variants(toy_counter, "toy", plan)
    variants.append(Variant("bf16-batched-tiles", "toy", "none", None, skipped="no native bf16"))
    counts = count_all(variants, images)
    assert np.allclose(counts[REFERENCE], counts["fp32-batched-tiles"], rtol=1e-5)
    assert np.allclose(counts["fp32-whole"], counts["fp32-batched-tiles"], rtol=1e-4)
    samples = time_all(variants, images[:1], rounds=2, warmup=0)
    assert set(samples) == {v.key for v in variants if v.count is not None}
    gt = counts["fp32-whole"] + 1.0
    records = study_records(variants, counts, gt, samples, 1, (0, 100, 500))
    assert [r["variant"] for r in records][-1] == "bf16-batched-tiles" and records[-1]["mae"] is None
    reference = next(r for r in records if r["variant"] == REFERENCE)
    assert reference["speedup_vs_naive_fp32"] == pytest.approx(1.0) and reference["mae"] == pytest.approx(1.0)
    assert all(r["seconds_per_image"] > 0 and r["score"] is not None for r in records[:-1])
    assert pareto_front([1, 2, 3, 1], [3, 1, 2, 4]).tolist() == [True, True, False, False]
    assert "faster" in speed_sentence([4.0, 4.0], [1.0, 1.0], "slow", "fast")


def test_a_whole_image_predictor_counts_like_eager_whole_images() -> None:
    from lib.models import create_model

    torch.manual_seed(0)
    model = create_model("csrnet_quarter_bn").eval()
    images = torch.randn(2, 3, 80, 112)  # padded to 96×128 by the predictor's caller
    plan = tile_plan(80, 112, (2, 2), 32)
    assert [b.shape for b in whole_calibration_batches(images, [1])] == [(1, 3, 96, 128)]
    whole = deployed_variant(model, "toy", "fp32", plan, "none", None, whole=True)
    assert whole.variant == "fp32-whole" and whole.count is not None
    eager = next(v for v in fp32_variants(model, "toy", plan) if v.variant == "fp32-whole")
    with torch.no_grad():
        assert np.allclose(whole.count(list(images)), eager.count(list(images)), rtol=1e-4)


def test_crowd_profiles_load_and_are_checked(tmp_path) -> None:
    for name in ("smoke", "cpu", "cpu-long"):
        crowd = load_profile(name).crowd
        assert crowd.models[0] == "csrnet_quarter_bn" and len(crowd.steps) == len(crowd.models)
    assert load_profile("cpu-long").crowd.backends == load_profile("cpu").crowd.backends
    assert load_profile("smoke", {"crowd": {"max_side": None}}).crowd.max_side is None
    bad = {"models": ["unet_resnet18"]}, {"backends": ["tensorrt"]}, {"height": 100}, {"steps": [0, 1]}, \
        {"steps": [10]}, {"lr": [0.001]}, {"calibration": "class-balanced"}, {"rounds": 0}, {"crop": [60, 64]}, \
        {"grid": [0, 2]}, {"whole_backends": ["tensorrt"]}, {"max_side": 100}, {"max_side": 0}, \
        {"count_correction": "yes"}, {"backend_options": {"tensorrt": {}}}, {"backend_options": {"ov-int8": "minmax"}}, \
        {"backend_options": {"ort-int8": {"activation_ranges": "minmax"}}}
    for override in bad:
        with pytest.raises(ValueError, match="crowd"):
            load_profile("smoke", {"crowd": override})
