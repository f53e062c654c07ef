"""Cross-checks of synthmix.analysis.stats against scipy and statsmodels on the same data."""

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests
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


def test_two_level_bootstrap_one_seed_equals_paired_bootstrap_width_order(paired):
    a, b = paired
    rng = np.random.default_rng(1)
    seed_shift = rng.normal(0, 0.05, (3, 1))
    A = np.stack([a, a, a])
    B = np.stack([b, b, b]) + seed_shift
    ci = stats.two_level_bootstrap(A, B, seed=0)
    single = stats.two_level_bootstrap(A[:1], B[:1], seed=0)
    assert ci.estimate == pytest.approx((B - A).mean(), abs=1e-12)
    assert (ci.high - ci.low) > (single.high - single.low)  # seed variance widens the interval
    assert ci.n == 3


def test_wilson_interval_matches_statsmodels():
    ci = stats.wilson_interval(17, 23)
    lo, hi = proportion_confint(17, 23, alpha=0.05, method="wilson")
    assert (ci.low, ci.high) == pytest.approx((lo, hi), abs=1e-12)


def test_reliability_warnings_flags_small_ece_sample():
    assert any("unreliable" in w for w in stats.reliability_warnings("ece", 164))
    assert stats.reliability_warnings("ece", 1319) == []


def test_t_interval_equals_scipy_t_interval():
    from synthmix.analysis.stats import t_interval

    x = np.array([0.61, 0.58, 0.64])
    ci = t_interval(x)
    lo, hi = sps.t.interval(0.95, 2, loc=x.mean(), scale=sps.sem(x))
    assert (ci.estimate, ci.low, ci.high, ci.n, ci.method) == (pytest.approx(x.mean()), pytest.approx(lo, abs=1e-14),
                                                               pytest.approx(hi, abs=1e-14), 3, "t")
    with pytest.raises(DataError, match=r"values: a t interval needs at least 2 values \(got 1\)"):
        t_interval([0.5])


def test_benjamini_hochberg_and_adjust_pvalues_equal_statsmodels():
    from statsmodels.stats.multitest import multipletests

    from synthmix.analysis.stats import adjust_pvalues, benjamini_hochberg

    p = np.array([0.001, 0.04, 0.03, 0.2, 0.011, 0.5])
    np.testing.assert_allclose(benjamini_hochberg(p).pvalues, multipletests(p, method="fdr_bh")[1], atol=1e-15)
    for ours, theirs in (("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh")):
        adj = adjust_pvalues(p, ours)
        np.testing.assert_allclose(adj.pvalues, multipletests(p, method=theirs)[1], atol=1e-15)
        assert list(adj.reject) == list(multipletests(p, method=theirs)[0])
    with pytest.raises(DataError, match=r"correction: unknown 'sidak'; use one of bonferroni, holm, bh"):
        adjust_pvalues(p, "sidak")


def test_tost_paired_equals_statsmodels_ttost_paired():
    from statsmodels.stats.weightstats import ttost_paired

    from synthmix.analysis.stats import tost_paired

    rng = np.random.default_rng(3)
    a, b = rng.normal(0.6, 0.02, 5), rng.normal(0.6, 0.02, 5)
    for low, high in ((-0.018, 0.018), (-0.05, 0.01)):
        assert tost_paired(a, b, low, high).pvalue == pytest.approx(ttost_paired(a, b, low, high)[0], abs=1e-14)
    with pytest.raises(DataError, match=r"low < high"):
        tost_paired(a, b, 0.1, -0.1)


def test_minimum_detectable_effect_t_has_the_asked_power_by_statsmodels():
    from statsmodels.stats.power import TTestPower

    from synthmix.analysis.stats import minimum_detectable_effect_t

    for n, alpha in ((5, 0.05), (400, 0.05 / 4)):
        d = minimum_detectable_effect_t(n, 1.0, alpha)
        assert TTestPower().power(effect_size=d, nobs=n, alpha=alpha) == pytest.approx(0.8, abs=1e-6)
    # with 2 seeds statsmodels' power is nan this far in the noncentral t's tail; its solver finds the same effect
    for alpha in (0.05, 0.05 / 6):
        assert minimum_detectable_effect_t(2, 1.0, alpha) == pytest.approx(
            TTestPower().solve_power(nobs=2, alpha=alpha, power=0.8), rel=1e-6)
    # with 3 seeds at alpha/6 statsmodels' solver stops short (power 0.69), so simulate paired t-tests instead
    d = minimum_detectable_effect_t(3, 1.0, 0.05 / 6)
    x = np.random.default_rng(0).normal(d, 1.0, (40_000, 3))
    rejected = sps.ttest_1samp(x, 0.0, axis=1).pvalue < 0.05 / 6
    assert rejected.mean() == pytest.approx(0.8, abs=0.01)
    assert minimum_detectable_effect_t(5, 0.02, 0.05) == pytest.approx(0.02 * minimum_detectable_effect_t(5, 1.0, 0.05))
    with pytest.raises(DataError, match=r"n: a paired t-test needs at least 2 pairs \(got 1\)"):
        minimum_detectable_effect_t(1, 1.0)


def test_paired_permutation_test_equals_scipy_exact_and_approaches_it_by_monte_carlo():
    from synthmix.analysis.stats import paired_permutation_test

    rng = np.random.default_rng(4)
    a, b = rng.random(12), rng.random(12) - 0.2
    exact = sps.permutation_test((a - b,), np.mean, permutation_type="samples", n_resamples=np.inf, vectorized=False)
    assert paired_permutation_test(a, b).pvalue == pytest.approx(exact.pvalue, abs=1e-12)
    a, b = rng.random(40), rng.random(40) - 0.1
    mc = paired_permutation_test(a, b, n_resamples=20_000, seed=1).pvalue
    ref = sps.permutation_test((a - b,), np.mean, permutation_type="samples", n_resamples=20_000, vectorized=True,
                               random_state=2).pvalue
    assert mc == pytest.approx(ref, abs=0.01)


def test_cohens_dz_ci_inverts_the_noncentral_t_and_pooled_d_uses_both_arms():
    from synthmix.analysis.stats import cohens_dz_ci, pooled_d

    a, b = np.array([0.52, 0.55, 0.49, 0.57]), np.array([0.50, 0.50, 0.48, 0.51])
    ci = cohens_dz_ci(a, b)
    t_obs = ci.estimate * 2.0
    assert ci.estimate == pytest.approx(sps.ttest_rel(a, b).statistic / 2.0)
    assert sps.nct.sf(t_obs, 3, ci.low * 2.0) == pytest.approx(0.025, abs=1e-9)
    assert sps.nct.sf(t_obs, 3, ci.high * 2.0) == pytest.approx(0.975, abs=1e-9)
    assert pooled_d(a, b) == pytest.approx((a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))
    with pytest.raises(DataError, match="both arms are constant"):
        pooled_d([1.0, 1.0], [0.0, 0.0])
