"""Calibration metrics against netcal and a plain reference loop."""

import numpy as np
import pytest
from netcal.metrics import ECE

from synthmix.metrics import MetricInputError
from synthmix.metrics.calibration import (
    adaptive_calibration_error,
    brier_score,
    debiased_expected_calibration_error,
    expected_calibration_error,
    expected_calibration_error_ci,
    expected_calibration_error_resampled,
    overconfidence_gap,
    reliability_table,
)


def reference_ece(confidence, correct, n_bins=10):
    """The textbook loop: bin m holds m/M <= c < (m+1)/M, the last bin also holds 1.0."""
    total = 0.0
    for m in range(n_bins):
        low, high = m / n_bins, (m + 1) / n_bins
        members = [i for i, c in enumerate(confidence) if low <= c < high or (m == n_bins - 1 and c == 1.0)]
        if members:
            accuracy = sum(correct[i] for i in members) / len(members)
            mean_conf = sum(confidence[i] for i in members) / len(members)
            total += len(members) / len(confidence) * abs(accuracy - mean_conf)
    return total


@pytest.fixture
def predictions():
    rng = np.random.default_rng(7)
    confidence = rng.uniform(0.2, 1.0, 5000)
    correct = (rng.uniform(size=5000) < confidence**1.5).astype(float)
    return confidence, correct


def test_expected_calibration_error_equals_netcal(predictions):
    confidence, correct = predictions
    ours = expected_calibration_error(confidence, correct, n_bins=10)
    theirs = ECE(bins=10).measure(confidence, correct)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_expected_calibration_error_equals_reference_loop_on_edges():
    confidence = [0.0, 0.1, 0.25, 0.5, 0.5, 0.95, 1.0, 1.0, 0.999]
    correct = [0, 1, 0, 1, 0, 1, 1, 0, 1]
    assert expected_calibration_error(confidence, correct, 10) == pytest.approx(
        reference_ece(confidence, correct, 10), abs=1e-12
    )


def test_expected_calibration_error_exact_one_lands_in_last_bin():
    table = reliability_table([1.0, 0.95], [1, 0], n_bins=10)
    assert table.count.tolist() == [0] * 9 + [2]
    assert expected_calibration_error([1.0], [1]) == 0.0


def test_reliability_table_keeps_every_bin_with_edges(predictions):
    confidence, correct = predictions
    table = reliability_table(confidence, correct, n_bins=10)
    assert table.edges.tolist() == pytest.approx(np.linspace(0, 1, 11).tolist())
    assert table.count.sum() == 5000
    assert table.count[:2].tolist() == [0, 0]
    assert np.isnan(table.accuracy[0]) and np.isnan(table.confidence[1])
    weights = table.count[2:] / 5000
    recomposed = float(np.sum(weights * np.abs(table.accuracy[2:] - table.confidence[2:])))
    assert recomposed == pytest.approx(expected_calibration_error(confidence, correct), abs=1e-12)


def test_overconfidence_gap_and_brier_score_on_hand_values():
    assert overconfidence_gap([0.9, 0.8, 0.7, 0.6], [1, 0, 0, 1]) == pytest.approx(0.25)
    assert brier_score([1.0, 0.5], [1, 0]) == pytest.approx(0.125)


def test_adaptive_calibration_error_uses_equal_mass_bins():
    confidence = [0.1, 0.2, 0.3, 0.9]
    correct = [0, 0, 1, 1]
    # two bins of two items: {0.1, 0.2} acc 0, {0.3, 0.9} acc 1
    expected = 0.5 * abs(0 - 0.15) + 0.5 * abs(1 - 0.6)
    assert adaptive_calibration_error(confidence, correct, n_bins=2) == pytest.approx(expected, abs=1e-12)


def test_debiased_expected_calibration_error_is_smaller_for_a_calibrated_model():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 400)
    correct = (rng.uniform(size=400) < confidence).astype(float)
    plain = expected_calibration_error(confidence, correct)
    debiased = debiased_expected_calibration_error(confidence, correct, seed=1)
    assert debiased < plain
    assert debiased == debiased_expected_calibration_error(confidence, correct, seed=1)


@pytest.mark.parametrize(
    ("confidence", "correct", "message"),
    [
        ([], [], "confidence is empty"),
        ([0.5, float("nan")], [1, 0], r"confidence\[1\] = nan is not finite"),
        ([0.1, 0.2, 0.3, 1.3], [1, 0, 1, 0], r"confidence\[3\] = 1.3 is outside \[0, 1\]"),
        ([0.1, 0.2], [1, 0, 1], "confidence has 2, correct has 3"),
        ([0.1, 0.2], [1, 2], r"correct\[1\] = 2.0 is not 0 or 1"),
    ],
)
def test_expected_calibration_error_rejects_invalid_input(confidence, correct, message):
    with pytest.raises(MetricInputError, match=message):
        expected_calibration_error(confidence, correct)
    assert issubclass(MetricInputError, ValueError)


def test_expected_calibration_error_rejects_zero_bins():
    with pytest.raises(MetricInputError, match="n_bins = 0"):
        expected_calibration_error([0.5], [1], n_bins=0)


def test_expected_calibration_error_resampled_matches_one_call_per_resample() -> None:
    rng = np.random.default_rng(1)
    conf = rng.uniform(0, 1, 300)
    correct = (rng.uniform(0, 1, 300) < conf - 0.05).astype(int)
    idx = rng.integers(0, 300, (20, 300))
    loop = [expected_calibration_error(conf[r], correct[r]) for r in idx]
    np.testing.assert_allclose(expected_calibration_error_resampled(conf, correct, idx), loop, atol=1e-12)


def test_expected_calibration_error_ci_is_the_percentile_interval_of_resampled_reference_eces(predictions) -> None:
    confidence, correct = predictions[0][:300], predictions[1][:300]
    low, high = expected_calibration_error_ci(confidence, correct, n_resamples=200, level=0.9, seed=3)
    idx = np.random.default_rng(3).integers(0, 300, size=(200, 300))
    eces = [reference_ece(confidence[i].tolist(), correct[i].tolist()) for i in idx]
    assert (low, high) == pytest.approx((np.quantile(eces, 0.05), np.quantile(eces, 0.95)), abs=1e-12)
    assert low < expected_calibration_error(confidence, correct) < high


def test_expected_calibration_error_ci_rejects_a_level_outside_0_1() -> None:
    with pytest.raises(MetricInputError, match="level"):
        expected_calibration_error_ci([0.5, 0.7], [1, 0], level=1.0)
