"""The early-warning rule scored on simulated studies drawn from a known model: with and without a planted lead-lag."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from synthmix.analysis.warning import (
    DEFAULT_SIGNALS,
    Signal,
    drop_test,
    identical_arm_false_alarms,
    risk_set,
    score_early_warning,
    score_rule,
)
from synthmix.errors import DataError

SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
DROP = 0.08  # planted accuracy drop, far above the paired seed noise (sd 0.007)


def simulate_study(lead_lag: bool, seed: int = 0) -> pd.DataFrame:
    """2 models × 4 tasks × 6 shares × iterations 0–3 × 3 seeds; a unit degrades from onset k with probability 1.6·share.

    Accuracy falls by DROP from iteration k+1. With `lead_lag`, ECE doubles from iteration k (one iteration
    earlier); without it, ECE doubles from an onset drawn independently with the same law. Self-BLEU rises 1.2× from k+1, concurrent with the drop
    (the seed's §4.4: no lead time). Seed effects are shared across arms, so arms pair by seed.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for model in ("m1", "m2"):
        for task, base in (("a", 0.6), ("b", 0.45), ("c", 0.3), ("d", 0.7)):
            seed_effect = rng.normal(0, 0.03, 3)
            for share in SHARES:
                onset = int(rng.integers(1, 4)) if rng.random() < 1.6 * share else 99
                other = int(rng.integers(1, 4)) if rng.random() < 1.6 * share else 99
                ece_onset = onset if lead_lag else other
                for it in range(4):
                    if it == 0 and share > 0:
                        continue
                    for s in range(3):
                        acc = base + seed_effect[s] - (DROP if it >= onset + 1 else 0) + rng.normal(0, 0.005)
                        ece = 0.05 * (2.0 if it >= ece_onset else 1.0) * (1 + rng.normal(0, 0.1))
                        bleu = 0.3 * (1.2 if it >= onset + 1 else 1.0) * (1 + rng.normal(0, 0.02))
                        for metric, value in (("score", acc), ("ece", ece), ("self_bleu", bleu)):
                            rows.append(dict(model=model, task=task, regime="replace", iteration=it, share=share,
                                             seed=s, metric=metric, value=value))
    return pd.DataFrame(rows)


def _rules(result):
    return {r.rule: r for r in result.rules}


def test_score_early_warning_planted_lead_lag_recovered():
    result = score_early_warning(simulate_study(lead_lag=True))
    r = _rules(result)
    ece = r["ECE ≥ 1.5× (warn)"]
    assert (ece.tp, ece.fp, ece.fn, ece.tn) == (12, 0, 2, 56)
    assert ece.precision.estimate == 1.0 and ece.recall.estimate == pytest.approx(12 / 14)
    assert ece.precision.low == pytest.approx(0.7575, abs=1e-4)  # Wilson lower bound at 12 of 12
    assert ece.false_alarm.estimate == 0.0
    bleu = r["Self-BLEU ≥ 1.1×"]
    assert bleu.tp == 0 and bleu.recall.high < 0.25  # concurrent with the drop: never ahead of it
    trivial = r["share ≥ 0.3 (trivial)"]
    assert trivial.precision.estimate < ece.precision.estimate
    assert len(result.risk_set) == 70 and int(result.risk_set["event"].sum()) == 14
    assert result.tests == ("paired t (seeds)",)
    assert set(result.missing) == {"OC gap +0.05", "perplexity ≥ 1.1×"}


def test_score_early_warning_without_lead_lag_false_alarms_only():
    result = score_early_warning(simulate_study(lead_lag=False))
    ece = _rules(result)["ECE ≥ 1.5× (warn)"]
    assert (ece.tp, ece.fp, ece.fn, ece.tn) == (1, 12, 13, 44)  # ECE rises as often, but ahead of nothing
    assert ece.false_alarm.estimate == pytest.approx(12 / 56) and ece.precision.estimate == pytest.approx(1 / 13)
    assert ece.recall.high < 0.34


def test_score_early_warning_identical_arms_false_alarm_rate():
    ece = _rules(score_early_warning(simulate_study(lead_lag=False)))["ECE ≥ 1.5× (warn)"]
    fa = ece.identical_false_alarm
    assert fa.n == 3 * 2 * 4 * (6 * 3 + 1)  # 3 seed pairs per cell; cells: 6 shares × iterations 1–3, plus iteration 0
    assert fa.estimate == pytest.approx(1 / fa.n)  # 10 % seed noise: the 1.5× ratio fires between two seeds once


def test_score_early_warning_baselines_differ_and_are_checked():
    study = simulate_study(lead_lag=True)
    same = score_early_warning(study, baseline="same_iteration")
    assert same.baseline == "same_iteration" and len(same.risk_set) > 0
    with pytest.raises(DataError, match="baseline: must be one of"):
        score_early_warning(study, baseline="paper")


def test_score_early_warning_single_iteration_refused():
    study = simulate_study(lead_lag=True)
    with pytest.raises(DataError, match="needs ≥ 2 iterations"):
        score_early_warning(study[study["iteration"] <= 1])


def test_drop_test_seeds_match_scipy_ttest_rel():
    ref, arm = [0.50, 0.52, 0.49], [0.41, 0.45, 0.40]
    result = drop_test(ref, arm)
    assert result.pvalue == pytest.approx(sps.ttest_rel(arm, ref).pvalue)
    assert result.significant and result.degradation == pytest.approx(0.25 / 3)
    lower_better = drop_test(ref, arm, higher_is_better=False)
    assert not lower_better.significant and lower_better.degradation < 0  # a fall of a loss is no drop


def test_drop_test_examples_match_statsmodels_mcnemar():
    rng = np.random.default_rng(3)
    ref = (rng.random(400) < 0.6).astype(float)
    arm = np.where(rng.random(400) < 0.15, 0.0, ref)
    result = drop_test(ref, arm, per_example=True)
    table = pd.crosstab(ref, arm).reindex(index=[0.0, 1.0], columns=[0.0, 1.0], fill_value=0).to_numpy()
    assert result.pvalue == pytest.approx(sm_mcnemar(table, exact=True).pvalue)
    assert result.significant and "test-set noise only" in result.test


def test_risk_set_stops_after_first_drop():
    drops = pd.DataFrame(dict(model="m", task="t", regime="replace", share=0.3, iteration=[1, 2, 3],
                              dropped=[False, True, False]))
    rs = risk_set(drops)
    assert rs[["iteration", "event"]].values.tolist() == [[1, True]]  # at t=2 it has dropped: out of the risk set


def test_identical_arm_false_alarms_counts_seed_pairs():
    scores = pd.DataFrame(dict(model="m", task="t", regime="replace", iteration=1, share=0.0, seed=[0, 1, 2],
                               metric="ece", value=[0.05, 0.08, 0.05]))
    fa = identical_arm_false_alarms(scores, DEFAULT_SIGNALS[0])
    assert (fa.n, fa.estimate) == (3, pytest.approx(1 / 3))  # only 0.08 / 0.05 (seed 1 against seed 0) reaches 1.5×


def test_signal_falling_direction():
    scores = pd.DataFrame(dict(model="m", task="t", regime="replace", iteration=1, share=0.0, seed=[0, 1],
                               metric="diversity", value=[0.5, 0.3]))
    falls = Signal("diversity ≤ 1/1.5×", "diversity", "ratio", 1.5, rises=False)
    assert identical_arm_false_alarms(scores, falls).estimate == 1.0


def test_score_rule_counts():
    r = score_rule("x", [True, True, False, False], [True, False, True, False])
    assert (r.tp, r.fp, r.fn, r.tn) == (1, 1, 1, 1) and r.precision.estimate == 0.5 and r.false_alarm.estimate == 0.5


def test_score_early_warning_one_seed_uses_mcnemar_on_examples():
    """One seed: the drop is tested on paired 0/1 examples; a 0.6 → 0.4 drop over 300 items is found, no change is not."""
    rng = np.random.default_rng(5)
    rows, examples = [], []
    for share, onset in ((0.0, 99), (0.3, 99), (0.5, 1)):
        for it in range(4):
            if it == 0 and share > 0:
                continue
            p = 0.4 if it >= onset + 1 else 0.6
            hits = (rng.random(300) < p).astype(float)
            key = dict(model="m", task="a", regime="replace", iteration=it, share=share, seed=0)
            examples += [dict(key, example_id=f"x{i}", score=h) for i, h in enumerate(hits)]
            rows += [dict(key, metric="score", value=hits.mean()),
                     dict(key, metric="ece", value=0.1 if it >= onset else 0.05)]
    result = score_early_warning(pd.DataFrame(rows), pd.DataFrame(examples))
    ece = _rules(result)["ECE ≥ 1.5× (warn)"]
    assert result.tests == ("exact McNemar (examples), test-set noise only",)
    assert (ece.tp, ece.fp, ece.fn, ece.tn) == (1, 0, 0, 2)  # 50 % fires at t=1 before its drop at 2; 30 % never drops


def test_risk_set_leaves_out_untestable_arms():
    drops = pd.DataFrame(dict(model="m", task="t", regime="replace", share=0.3, iteration=[1, 2, 3],
                              dropped=[False, False, True], pvalue=[0.5, np.nan, 0.01]))
    assert risk_set(drops).empty  # iteration 2 is unknown, so neither t=1 (next unknown) nor t=2 is scored
