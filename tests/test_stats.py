"""Bootstrap intervals of mIoU and paired differences, and speed-ratio spreads, on constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from lib.metrics import miou_from_matrix
from lib.stats import Interval, bootstrap_miou, bootstrap_miou_difference, bootstrap_paired_difference, ratio_spread, verdict


def confusion(correct: int, wrong: int, classes: int = 3, cls: int = 0) -> np.ndarray:
    """One image: ``correct`` pixels of class ``cls`` right, ``wrong`` of them predicted as the next class."""
    matrix = np.zeros((classes, classes))
    matrix[cls, cls] = correct
    matrix[cls, (cls + 1) % classes] = wrong
    return matrix


def test_identical_images_give_a_zero_width_interval() -> None:
    images = np.stack([confusion(80, 20) + confusion(50, 50, cls=1) for _ in range(10)])
    interval = bootstrap_miou(images)
    assert interval.estimate == pytest.approx(miou_from_matrix(images.sum(axis=0)))
    assert interval.low == pytest.approx(interval.estimate) and interval.high == pytest.approx(interval.estimate)
    assert interval.n == 10


def test_varied_images_give_an_interval_around_the_estimate() -> None:
    rng = np.random.default_rng(0)
    images = np.stack([confusion(int(c), 100 - int(c)) + confusion(60, 40, cls=2) for c in rng.integers(10, 100, 30)])
    interval = bootstrap_miou(images, resamples=3000)
    assert interval.low < interval.estimate < interval.high
    assert interval.high - interval.low > 0.02


def test_same_predictions_differ_by_nothing_and_read_within_noise() -> None:
    rng = np.random.default_rng(1)
    images = np.stack([confusion(int(c), 100 - int(c)) for c in rng.integers(10, 100, 20)])
    difference = bootstrap_miou_difference(images, images.copy())
    assert difference.estimate == 0 and difference.low == 0 and difference.high == 0
    assert "within noise" in verdict(difference, "A", "B")


def test_a_model_better_on_every_image_is_ahead_outside_the_noise() -> None:
    rng = np.random.default_rng(2)
    counts = rng.integers(40, 90, 25)
    worse = np.stack([confusion(int(c), 100 - int(c)) for c in counts])
    better = np.stack([confusion(int(c) + 10, 90 - int(c)) for c in counts])
    difference = bootstrap_miou_difference(better, worse)
    assert difference.excludes_zero and difference.low > 0
    assert difference.estimate == pytest.approx(miou_from_matrix(better.sum(0)) - miou_from_matrix(worse.sum(0)))
    assert "A is ahead" in verdict(difference, "A", "B")


def test_a_small_difference_on_few_noisy_images_is_within_noise() -> None:
    rng = np.random.default_rng(3)
    a = np.stack([confusion(int(c), 100 - int(c)) for c in rng.integers(10, 100, 6)])
    b = np.stack([confusion(int(c), 100 - int(c)) for c in rng.integers(10, 100, 6)])
    assert not bootstrap_miou_difference(a, b).excludes_zero


def test_mismatched_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="same images"):
        bootstrap_miou_difference(np.zeros((3, 2, 2)), np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="N×C×C"):
        bootstrap_miou(np.zeros((2, 2)))


def test_ratio_spread_pairs_rounds() -> None:
    spread = ratio_spread([100, 110, 300], [50, 55, 100])
    assert spread.median == pytest.approx(2.0) and spread.low == pytest.approx(2.0) and spread.high == pytest.approx(3.0)
    assert spread.rounds == 3
    with pytest.raises(ValueError):
        ratio_spread([1.0], [])


def test_interleaved_rounds_rotate_the_order_and_pair_with_ratio_spread(monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.bench import timing

    clock = {"now": 0.0}
    order: list[str] = []

    def costs(name: str, seconds: float):
        def run() -> None:
            order.append(name)
            clock["now"] += seconds
        return run

    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock["now"])
    samples = timing.interleaved_rounds({"fp32": costs("fp32", 0.3), "int8": costs("int8", 0.1)}, rounds=4, warmup=1)
    assert order[:2] == ["fp32", "int8"]  # warm-up
    assert order[2:] == ["fp32", "int8", "int8", "fp32", "fp32", "int8", "int8", "fp32"]
    assert samples["fp32"] == pytest.approx([300.0] * 4) and samples["int8"] == pytest.approx([100.0] * 4)
    assert ratio_spread(samples["fp32"], samples["int8"]).median == pytest.approx(3.0)
    assert timing.summarize(samples["int8"]).median_ms == pytest.approx(100.0)


def _f1(rows: np.ndarray) -> np.ndarray:
    tp, fp, fn = rows[:, 0], rows[:, 1], rows[:, 2]
    return 2 * tp / (2 * tp + fp + fn)


def test_paired_difference_of_identical_units_is_exactly_zero() -> None:
    stats = np.array([[3, 1, 0], [2, 0, 1], [4, 1, 1]])
    d = bootstrap_paired_difference(stats, stats, _f1, resamples=200)
    assert (d.estimate, d.low, d.high, d.n) == (0.0, 0.0, 0.0, 3)


def test_paired_difference_sums_the_units_before_the_metric_and_sees_a_consistent_gap() -> None:
    perfect = np.array([[5, 0, 0]] * 20)
    misses = np.array([[4, 0, 1]] * 20)  # one miss in every unit: F1 8/9 whichever units are drawn
    d = bootstrap_paired_difference(perfect, misses, _f1, resamples=300)
    assert d.estimate == pytest.approx(1 - 8 / 9) and d.low == pytest.approx(1 - 8 / 9) and d.excludes_zero
    noisy = np.array([[5, 0, 0]] * 19 + [[0, 0, 5]])  # all the difference in one unit of 20: within noise
    wide = bootstrap_paired_difference(perfect, noisy, _f1, resamples=2000)
    assert wide.estimate == pytest.approx(1 - 190 / 195) and wide.low == 0.0 and not wide.excludes_zero


def test_paired_difference_refuses_unpaired_statistics() -> None:
    with pytest.raises(ValueError, match="same shape"):
        bootstrap_paired_difference(np.ones((3, 3)), np.ones((4, 3)), _f1)
    with pytest.raises(ValueError, match="N×K"):
        bootstrap_paired_difference(np.ones(3), np.ones(3), _f1)


@pytest.mark.parametrize(("low", "high", "expected"), [
    (-0.019, 0.015, "within"),     # the whole interval inside ±2 points
    (-0.02, 0.02, "within"),       # the bounds count as inside
    (-0.01, 0.03, "undecided"),    # straddles +2 points: too few units to tell
    (-0.05, 0.05, "undecided"),    # wider than the margin on both sides
    (0.021, 0.08, "beyond"),       # wholly above +2 points
    (-0.09, -0.03, "beyond"),      # wholly below -2 points
    (float("nan"), float("nan"), "undecided"),
])
def test_margin_verdict_asks_the_whole_interval_to_lie_inside_the_margin(low: float, high: float, expected: str) -> None:
    estimate = 0.0 if np.isnan(low) else (low + high) / 2
    assert Interval(estimate, low, high, n=30).margin_verdict(0.02) == expected
