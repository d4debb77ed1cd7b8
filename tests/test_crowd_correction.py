"""The linear count correction: recovers a known line, clips at zero, refuses what cannot define a line."""

import numpy as np
import pytest
import torch

from lib.crowd import study
from lib.crowd.correction import CountCorrection, fit_count_correction
from lib.crowd.inference import count_whole


def test_fit_recovers_a_known_line_and_inverts_a_scale_error():
    true = np.array([3.0, 40.0, 250.0, 900.0])
    predicted = 1.5 * true + 20.0  # a counter that overcounts by half and adds 20 phantom heads
    correction = fit_count_correction(predicted, true)
    assert correction.slope == pytest.approx(1 / 1.5) and correction.intercept == pytest.approx(-20 / 1.5)
    assert correction.images == 4
    assert np.allclose(correction(predicted), true)


def test_identity_by_default_and_never_negative():
    assert np.array_equal(CountCorrection()([0.0, 7.5]), [0.0, 7.5])
    assert np.array_equal(CountCorrection(slope=1.0, intercept=-10.0)([4.0, 30.0]), [0.0, 20.0])


@pytest.mark.parametrize(("predicted", "true", "message"), [
    ([1.0, 2.0], [1.0], "2 predicted counts for 1"),
    ([5.0], [4.0], "at least two images"),
    ([5.0, 5.0, 5.0], [1.0, 2.0, 3.0], "different predicted counts"),
    ([1.0, np.nan], [1.0, 2.0], "NaN"),
])
def test_bad_inputs(predicted, true, message):
    with pytest.raises(ValueError, match=message):
        fit_count_correction(predicted, true)


def test_training_correction_and_count_all_apply_it():
    """An "identity counter" (density = first channel) that counts twice the truth is halved back."""
    images = torch.rand(3, 3, 64, 64)
    predict = lambda batch: batch[:, :1]  # noqa: E731
    true = images[:, 0].double().sum(dim=(1, 2)).numpy() / 2
    correction = study.training_correction(predict, images, true)
    assert correction.slope == pytest.approx(0.5) and correction.intercept == pytest.approx(0.0, abs=1e-6)
    variant = study.Variant("fp32-whole", "identity", "none", lambda batch: count_whole(predict, batch))
    assert np.allclose(study.count_all([variant], images, correction=correction)["fp32-whole"], true)
