"""compare_shares on tidy tables written here: seed-level tests, per-example tests, families and their size m."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from synthmix.analysis.comparisons import NO_TEST, compare_shares
from synthmix.analysis.stats import TEST_SET_NOISE_ONLY, mcnemar


def _scores(seeds=(0, 1, 2)):
    rng = np.random.default_rng(0)
    rows = []
    for task, base in (("math", 0.3), ("commonsense", 0.6)):
        for seed in seeds:
            for share in (0.0, 0.2, 0.4):
                value = base - 0.2 * share**2 * 3 + rng.normal(0, 0.01)
                rows.append(dict(model="m", task=task, share=share, iteration=1, seed=seed, regime="replace", metric="score", value=value))
    return pd.DataFrame(rows)


def test_compare_shares_seed_level_matches_ttest_rel_and_multipletests():
    scores = _scores()
    out = compare_shares(scores, n_resamples=200)
    assert len(out) == 4 and (out["m"] == 4).all()
    r = out[(out.task == "math") & (out.share == 0.4)].iloc[0]
    a = scores[(scores.task == "math") & (scores.share == 0.0)].sort_values("seed")["value"].to_numpy()
    b = scores[(scores.task == "math") & (scores.share == 0.4)].sort_values("seed")["value"].to_numpy()
    assert r.pvalue == pytest.approx(sps.ttest_rel(b, a).pvalue, abs=1e-9)
    assert r.test == "paired t (seeds)" and r.n_seeds == 3
    _, adj, _, _ = multipletests(out["pvalue"], method="bonferroni")
    np.testing.assert_allclose(out["p_bonferroni"], adj, atol=1e-12)


def test_compare_shares_single_seed_uses_examples_and_labels_noise():
    scores = _scores(seeds=(0,))
    rng = np.random.default_rng(1)
    ex = []
    for task in ("math", "commonsense"):
        for share in (0.0, 0.2, 0.4):
            correct = (rng.random(400) < 0.5 - share / 2).astype(int)
            for i, c in enumerate(correct):
                ex.append(dict(model="m", task=task, share=share, iteration=1, seed=0, regime="replace",
                               example_id=f"q{i:03d}", score=float(c), correct=int(c), confidence=0.5, prediction=""))
    examples = pd.DataFrame(ex)
    out = compare_shares(scores, examples, n_resamples=200)
    r = out[(out.task == "math") & (out.share == 0.4)].iloc[0]
    assert r.label == TEST_SET_NOISE_ONLY and r.test == "McNemar (examples)"
    a = examples[(examples.task == "math") & (examples.share == 0.0)].sort_values("example_id")["correct"]
    b = examples[(examples.task == "math") & (examples.share == 0.4)].sort_values("example_id")["correct"]
    assert r.pvalue == pytest.approx(mcnemar(a, b).pvalue, abs=1e-12)


def test_compare_shares_means_only_has_no_test():
    scores = _scores(seeds=(0,)).drop(columns="seed")
    out = compare_shares(scores)
    assert (out["test"] == NO_TEST).all() and out["pvalue"].isna().all() and (out["m"] == 0).all()
    assert not out["significant"].any()
