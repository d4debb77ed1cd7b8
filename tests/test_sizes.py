"""The one size rule: positive multiples of the models' output stride, and the nearest valid size."""

from __future__ import annotations

import pytest
import torch

from lib.models.common import OUTPUT_STRIDE, check_input_size
from lib.sizes import STRIDE, check_size, is_valid_size, nearest_valid_size


def test_valid_sizes_are_positive_multiples_of_the_stride() -> None:
    assert OUTPUT_STRIDE == STRIDE == 32
    assert is_valid_size(32, 64) and is_valid_size(512, 1024)
    assert not is_valid_size(0, 64) and not is_valid_size(-32, 64) and not is_valid_size(30, 64)
    assert check_size([512.0, 1024]) == (512, 1024)


@pytest.mark.parametrize("size", [(30, 64), (0, 64), (64, -32)])
def test_check_size_names_the_value_and_a_valid_one(size: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=r"crop .*: both sides must be positive multiples of 32.*e\.g\. \d+x\d+"):
        check_size(size, "crop")
    with pytest.raises(ValueError, match=r"must be \(height, width\)"):
        check_size((32, 64, 3))


def test_nearest_valid_size_rounds_ties_up_and_never_below_one_stride() -> None:
    assert [nearest_valid_size(s) for s in (10, 47, 48, 80, 100, 511.9, 512.2)] == [32, 32, 64, 96, 96, 512, 512]


def test_the_models_and_the_deployment_paths_apply_the_same_rule() -> None:
    with pytest.raises(ValueError, match=r"multiples of 32, got 60×128; resize or pad to e\.g\. 64×128"):
        check_input_size(torch.zeros(1, 3, 60, 128), "m")
    check_input_size(torch.zeros(1, 3, 64, 128), "m")
