"""The comparison engine on tidy tables written here, cross-checked against scipy and statsmodels."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import ttost_paired

from synthmix.analysis.comparisons import NO_TEST, compare_cells, compare_shares
from synthmix.analysis.stats import TEST_SET_NOISE_ONLY, mcnemar
from synthmix.config import AnalysisSettings


def _scores(seeds=(0, 1, 2), metric="score"):
    rng = np.random.default_rng(0)
    rows = []
    for task, base in (("math", 0.3), ("commonsense", 0.6)):
        for seed in seeds:
            for share in (0.0, 0.2, 0.4):
                value = base - 0.2 * share**2 * 3 + rng.normal(0, 0.01)
                rows.append(dict(model="m", task=task, share=share, iteration=1, seed=seed, regime="replace", metric=metric, value=value))
    return pd.DataFrame(rows)


def _arm(scores, task, share):
    return scores[(scores.task == task) & (scores.share == share)].sort_values("seed")["value"].to_numpy()


def test_compare_shares_seed_level_matches_ttest_rel_t_interval_and_multipletests():
    scores = _scores()
    out = compare_shares(scores)
    assert len(out) == 4 and (out["family_m"] == 4).all()
    r = out[(out.task == "math") & (out.share == 0.4)].iloc[0]
    a, b = _arm(scores, "math", 0.0), _arm(scores, "math", 0.4)
    assert r.pvalue == pytest.approx(sps.ttest_rel(b, a).pvalue, abs=1e-12)
    lo, hi = sps.t.interval(0.95, 2, loc=(b - a).mean(), scale=sps.sem(b - a))
    assert (r.diff_low, r.diff_high) == pytest.approx((lo, hi), abs=1e-12)
    assert r.test == "paired t (seeds)" and r.n_seeds == 3 and r.label == "seed-level (3 seeds)"
    assert r.relative_change == pytest.approx((b.mean() - a.mean()) / a.mean(), abs=1e-15)
    assert r.degradation == pytest.approx(-r.relative_change, abs=1e-15)
    _, adj, _, _ = multipletests(out["pvalue"], method="bonferroni")
    np.testing.assert_allclose(out["p_adjusted"], adj, atol=1e-12)


@pytest.mark.parametrize(("correction", "statsmodels_name"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_compare_shares_holm_and_bh_match_multipletests(correction, statsmodels_name):
    out = compare_shares(_scores(), settings=AnalysisSettings(correction=correction))
    _, adj, _, _ = multipletests(out["pvalue"], method=statsmodels_name)
    np.testing.assert_allclose(out["p_adjusted"], adj, atol=1e-12)
    assert (out["correction"] == correction).all()


def test_compare_shares_cell_interval_is_the_t_interval_of_seed_means():
    scores = _scores()
    cells = compare_cells(scores)
    r = cells[(cells.task == "commonsense") & (cells.share == 0.2)].iloc[0]
    v = _arm(scores, "commonsense", 0.2)
    lo, hi = sps.t.interval(0.95, 2, loc=v.mean(), scale=sps.sem(v))
    assert (r["mean"], r.low, r.high) == pytest.approx((v.mean(), lo, hi), abs=1e-12)


def test_compare_shares_equivalence_is_statsmodels_ttost_paired_with_a_relative_margin():
    scores = _scores()
    out = compare_shares(scores, settings=AnalysisSettings(equivalence_margin=0.05))
    r = out[(out.task == "commonsense") & (out.share == 0.2)].iloc[0]
    a, b = _arm(scores, "commonsense", 0.0), _arm(scores, "commonsense", 0.2)
    margin = 0.05 * a.mean()
    assert r.p_equivalence == pytest.approx(ttost_paired(b, a, -margin, margin)[0], abs=1e-12)
    assert r.equivalent == (r.p_equivalence < 0.05)


def test_compare_shares_non_significant_rows_carry_the_mde_at_the_family_level():
    scores = _scores()
    out = compare_shares(scores)
    r = out[(out.task == "commonsense") & (out.share == 0.2)].iloc[0]
    assert not r.significant and r.verdict.startswith("inconclusive (MDE ")
    a, b = _arm(scores, "commonsense", 0.0), _arm(scores, "commonsense", 0.2)
    d = r.mde / np.std(b - a, ddof=1)
    assert TTestPower().power(effect_size=d, nobs=3, alpha=0.05 / 4) == pytest.approx(0.8, abs=1e-6)
    assert r.mde_relative == pytest.approx(r.mde / a.mean())


def test_compare_shares_d_z_and_pooled_d_follow_their_definitions():
    scores = _scores()
    r = compare_shares(scores).query("task == 'math' and share == 0.2").iloc[0]
    a, b = _arm(scores, "math", 0.0), _arm(scores, "math", 0.2)
    assert r.d_z == pytest.approx((b - a).mean() / (b - a).std(ddof=1))
    assert r.d_pooled == pytest.approx((b.mean() - a.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))
    nc_low, nc_high = r.d_z_low * np.sqrt(3), r.d_z_high * np.sqrt(3)
    t_obs = r.d_z * np.sqrt(3)
    assert sps.nct.sf(t_obs, 2, nc_low) == pytest.approx(0.025, abs=1e-8)
    assert sps.nct.sf(t_obs, 2, nc_high) == pytest.approx(0.975, abs=1e-8)


def test_compare_shares_lower_is_better_metric_degrades_when_it_rises():
    scores = _scores(metric="ece").assign(value=lambda f: 0.1 + f["share"] * 0.2 + f["seed"] * 0.001)
    out = compare_shares(scores)
    assert (out["relative_change"] > 0).all() and (out["degradation"] == out["relative_change"]).all()


def test_compare_shares_never_tests_bookkeeping_metrics():
    scores = pd.concat([_scores(), _scores(metric="n_eval"), _scores(metric="share_examples")])
    assert set(compare_cells(scores)["metric"]) == {"score"}


def test_compare_shares_single_seed_uses_exact_mcnemar_and_labels_noise():
    scores = _scores(seeds=(0,))
    rng = np.random.default_rng(1)
    ex = []
    for task in ("math", "commonsense"):
        for share in (0.0, 0.2, 0.4):
            correct = (rng.random(400) < 0.5 - share / 2).astype(int)
            ex += [dict(model="m", task=task, share=share, iteration=1, seed=0, regime="replace",
                        example_id=f"q{i:03d}", score=float(c)) for i, c in enumerate(correct)]
    examples = pd.DataFrame(ex)
    out = compare_shares(scores, examples)
    r = out[(out.task == "math") & (out.share == 0.4)].iloc[0]
    assert r.label == TEST_SET_NOISE_ONLY and r.test == "exact McNemar (examples)" and r.n_pairs == 400
    a = examples[(examples.task == "math") & (examples.share == 0.0)].sort_values("example_id")["score"]
    b = examples[(examples.task == "math") & (examples.share == 0.4)].sort_values("example_id")["score"]
    assert r.pvalue == pytest.approx(mcnemar(a, b).pvalue, abs=1e-12)
    cell = compare_cells(scores, examples).query("task == 'math' and share == 0.0").iloc[0]
    assert cell.interval == "t over 400 examples (test-set noise only)"


def test_compare_shares_single_seed_continuous_scores_use_the_permutation_test():
    scores = _scores(seeds=(0,))
    rng = np.random.default_rng(2)
    ex = [dict(model="m", task="math", share=share, iteration=1, seed=0, regime="replace", example_id=f"q{i}",
               score=float(v)) for share in (0.0, 0.2, 0.4) for i, v in enumerate(rng.random(12) - share)]
    out = compare_shares(scores[scores.task == "math"], pd.DataFrame(ex))
    r = out[out.share == 0.4].iloc[0]
    a = np.array([e["score"] for e in ex if e["share"] == 0.0])
    b = np.array([e["score"] for e in ex if e["share"] == 0.4])
    ref = sps.permutation_test((b - a,), np.mean, permutation_type="samples", n_resamples=np.inf, vectorized=False)
    assert r.test == "paired permutation (examples)" and r.pvalue == pytest.approx(ref.pvalue, abs=1e-12)


def test_compare_shares_means_only_has_no_test():
    scores = _scores(seeds=(0,)).drop(columns="seed")
    out = compare_shares(scores)
    assert (out["test"] == NO_TEST).all() and out["pvalue"].isna().all() and (out["family_m"] == 0).all()
    assert not out["significant"].any()


def test_compare_cells_zero_baseline_has_no_relative_scale():
    rows = [dict(model="m", task="t", regime="replace", iteration=1, seed=s, share=share, metric="score", value=v)
            for s in range(3) for share, v in [(0.0, 0.0), (0.5, 0.1 + 0.05 * s)]]
    cells = compare_cells(pd.DataFrame(rows))
    arm = cells.loc[cells["share"] == 0.5].iloc[0]
    assert np.isnan(arm["relative_change"]) and np.isnan(arm["mde_relative"]) and np.isnan(arm["degradation"])
    assert arm["difference"] == pytest.approx(0.15)
