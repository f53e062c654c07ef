"""Cross-checks of synthmix.analysis.stats against scipy and statsmodels on the same data."""

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint

from synthmix.analysis import stats
from synthmix.errors import DataError


@pytest.fixture
def paired():
    rng = np.random.default_rng(7)
    a = rng.normal(0.6, 0.2, 200)
    b = a - 0.03 + rng.normal(0, 0.1, 200)
    return a, b


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_ci_matches_scipy_bootstrap(paired, method):
    x = paired[0]
    ours = stats.bootstrap_ci(x, n_resamples=1000, seed=3, method=method)
    ref = sps.bootstrap((x,), np.mean, n_resamples=1000, method=method, rng=np.random.default_rng(3))
    assert ours.low == pytest.approx(ref.confidence_interval.low, abs=1e-9)
    assert ours.high == pytest.approx(ref.confidence_interval.high, abs=1e-9)
    assert ours.estimate == pytest.approx(x.mean(), abs=1e-12)
    assert ours.n == 200


def test_bootstrap_ci_chunked_draw_equals_single_draw():
    x = np.random.default_rng(0).random(50_000)  # 1000 x 50k indices is drawn in several chunks
    ours = stats.bootstrap_distribution(x, 100, seed=1)
    idx = np.random.default_rng(1).integers(0, x.size, (100, x.size))
    np.testing.assert_allclose(ours, x[idx].mean(axis=1), rtol=0, atol=1e-12)


def test_bootstrap_ci_rejects_nan_naming_index():
    with pytest.raises(DataError, match=r"values\[2\]"):
        stats.bootstrap_ci([0.1, 0.2, float("nan")])


def test_paired_t_test_matches_ttest_rel(paired):
    a, b = paired
    ours = stats.paired_t_test(a, b)
    ref = sps.ttest_rel(a, b)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-9)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-9)


def test_paired_t_test_rejects_unequal_lengths():
    with pytest.raises(DataError, match="equal lengths"):
        stats.paired_t_test([1, 2, 3], [1, 2])


def test_cohens_dz_times_sqrt_n_is_t(paired):
    a, b = paired
    assert stats.cohens_dz(a, b) * np.sqrt(a.size) == pytest.approx(sps.ttest_rel(a, b).statistic, abs=1e-9)


@pytest.mark.parametrize("exact", [True, False])
def test_mcnemar_matches_statsmodels(exact):
    rng = np.random.default_rng(5)
    a = (rng.random(300) < 0.6).astype(int)
    b = np.where(rng.random(300) < 0.15, 1 - a, a)
    ours = stats.mcnemar(a, b, exact=exact)
    table = [[np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
             [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))]]
    ref = sm_mcnemar(table, exact=exact, correction=True)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-9)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-9)


def test_mcnemar_rejects_non_binary():
    with pytest.raises(DataError, match=r"b\[1\]: must be 0 or 1"):
        stats.mcnemar([0, 1], [1, 0.5])


@pytest.mark.parametrize("ours,name", [(stats.bonferroni, "bonferroni"), (stats.holm, "holm")])
def test_adjustments_match_multipletests(ours, name):
    p = np.array([0.001, 0.02, 0.04, 0.3, 0.011, 0.5, 0.049])
    res = ours(p, alpha=0.05)
    reject, adj, _, _ = multipletests(p, alpha=0.05, method=name)
    np.testing.assert_allclose(res.pvalues, adj, atol=1e-12)
    assert res.reject == tuple(reject)
    assert res.m == 7


def test_paired_bootstrap_is_bootstrap_of_differences(paired):
    a, b = paired
    res = stats.paired_bootstrap(a, b, seed=2)
    ref = sps.bootstrap((b - a,), np.mean, n_resamples=1000, method="percentile", rng=np.random.default_rng(2))
    assert res.ci.low == pytest.approx(ref.confidence_interval.low, abs=1e-9)
    assert res.ci.high < 0 and res.pvalue < 0.01


def test_two_level_bootstrap_one_seed_equals_paired_bootstrap_width_order(paired):
    a, b = paired
    rng = np.random.default_rng(1)
    seed_shift = rng.normal(0, 0.05, (3, 1))
    A = np.stack([a, a, a])
    B = np.stack([b, b, b]) + seed_shift
    ci = stats.two_level_bootstrap(A, B, seed=0)
    single = stats.paired_bootstrap(a, b + seed_shift[0], seed=0).ci
    assert ci.estimate == pytest.approx((B - A).mean(), abs=1e-12)
    assert (ci.high - ci.low) > (single.high - single.low)  # seed variance widens the interval
    assert ci.n == 3


def test_minimum_detectable_effect_matches_statsmodels_power():
    mde = stats.minimum_detectable_effect(1319, sd=0.5, alpha=0.05, power=0.8, m=5)
    es = NormalIndPower().solve_power(nobs1=1319, alpha=0.05 / 5, power=0.8, ratio=0)
    # statsmodels adds the (negligible) power of the opposite tail; the closed form omits it
    assert mde == pytest.approx(es * 0.5, rel=1e-4)


def test_wilson_interval_matches_statsmodels():
    ci = stats.wilson_interval(17, 23)
    lo, hi = proportion_confint(17, 23, alpha=0.05, method="wilson")
    assert (ci.low, ci.high) == pytest.approx((lo, hi), abs=1e-12)


def test_reliability_warnings_flags_small_ece_sample():
    assert any("unreliable" in w for w in stats.reliability_warnings("ece", 164))
    assert stats.reliability_warnings("ece", 1319) == []
    assert stats.seed_label(1) == "test-set noise only"
