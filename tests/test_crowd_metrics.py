"""Counting metrics and the competition score, on values computed by hand."""

from __future__ import annotations

import math

import pytest

from lib.crowd.metrics import competition_score, counting_metrics, density_levels
from lib.data.crowd import NWPU_SCENE_EDGES

PRED = [10.0, 0.0, 5.0, 130.0]
GT = [12, 0, 10, 100]
# |p - g| = 2, 0, 5, 30


def test_mae_rmse_nae_by_hand() -> None:
    m = counting_metrics(PRED, GT)
    assert m["mae"] == pytest.approx(37 / 4)
    assert m["rmse"] == pytest.approx(math.sqrt((4 + 0 + 25 + 900) / 4))  # the papers' "MSE" is this root
    assert m["nae"] == pytest.approx((2 / 12 + 5 / 10 + 30 / 100) / 3)  # the image with no heads is left out
    assert (m["n"], m["n_nae"]) == (4, 3)
    assert "level_mae" not in m


def test_per_level_mae() -> None:
    m = counting_metrics(PRED, GT, level_edges=NWPU_SCENE_EDGES)
    assert m["level_mae"] == {0: 0.0, 1: pytest.approx(37 / 3)}  # 100 heads is still level 1: (0, 100]
    assert m["level_n"] == {0: 1, 1: 3}
    assert m["level_mae_mean"] == pytest.approx((0 + 37 / 3) / 2)
    given = counting_metrics(PRED, GT, levels=[2, 0, 2, 4])
    assert given["level_mae"] == {0: 0.0, 2: 3.5, 4: 30.0}
    assert density_levels([0, 1, 100, 101, 500, 501, 5000, 5001], NWPU_SCENE_EDGES).tolist() == [0, 1, 1, 2, 2, 3, 3, 4]


def test_all_empty_images_give_nan_nae() -> None:
    m = counting_metrics([0.5, 0.0], [0, 0])
    assert math.isnan(m["nae"]) and m["n_nae"] == 0 and m["mae"] == pytest.approx(0.25)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="one prediction per image"):
        counting_metrics([1.0], [1, 2])
    with pytest.raises(ValueError, match="at least one image"):
        counting_metrics([], [])
    with pytest.raises(ValueError, match="NaN"):
        counting_metrics([math.nan], [1])
    with pytest.raises(ValueError, match="one level per image"):
        counting_metrics(PRED, GT, levels=[0, 1])
    with pytest.raises(ValueError, match="not both"):
        counting_metrics(PRED, GT, levels=[0] * 4, level_edges=NWPU_SCENE_EDGES)
    with pytest.raises(ValueError, match="increase strictly"):
        density_levels([1], [0, 100, 100])


def test_competition_score_by_hand() -> None:
    # (250 - 10)·0.2 + (500 - 20)·0.1 + (0.4 - 0.1)·200 + (2 - 0.5)·100 = 48 + 48 + 60 + 150
    assert competition_score(10, 20, 0.1, 0.5) == pytest.approx(306.0)
    assert competition_score(250, 500, 0.4, 2.0) == pytest.approx(0.0)
    assert competition_score(300, 600, 0.5, 3.0) == pytest.approx(-10 - 10 - 20 - 100)
