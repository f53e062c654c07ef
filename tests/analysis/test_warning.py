"""The early-warning rule scored on a study table written here, where ECE rises one iteration before accuracy falls."""

import numpy as np
import pandas as pd
import pytest

from synthmix.analysis.comparisons import compare_shares
from synthmix.analysis.warning import DEFAULT_SIGNALS, evaluate_early_warning, score_rule, signal_table, warning_events


def _study():
    """Shares 0/.2/.4 over iterations 1-3, 3 seeds: share .4 loses accuracy at iteration 3, its ECE doubles at 2."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(3):
        for it in (1, 2, 3):
            for share in (0.0, 0.2, 0.4):
                bad = share == 0.4
                acc = 0.5 - (0.1 if bad and it == 3 else 0.0) + rng.normal(0, 0.005)
                ece = 0.05 * (2.2 if bad and it >= 2 else 1.0) + rng.normal(0, 0.001)
                for metric, value in (("score", acc), ("ece", ece)):
                    rows.append(dict(model="m", task="math", share=share, iteration=it, seed=seed,
                                     regime="replace", metric=metric, value=value))
    return pd.DataFrame(rows)


def test_warning_events_mark_first_significant_drop():
    comps = compare_shares(_study(), n_resamples=100)
    ev = warning_events(comps)
    hit = ev[(ev.share == 0.4) & (ev.iteration == 2)]
    assert bool(hit.event.iloc[0]) and not ev[ev.share == 0.2].event.any()


def test_ece_rule_beats_trivial_rule_on_leading_signal():
    scores = _study()
    results = {r.rule: r for r in evaluate_early_warning(scores, compare_shares(scores, n_resamples=100))}
    ece = results["ECE ≥ 1.5× (warn)"]
    assert (ece.tp, ece.fn) == (1, 0)
    assert ece.fp == 0 and ece.precision.estimate == 1.0  # ECE fires at t=2 only, the iteration before the drop
    trivial = results["share ≥ 0.3 (trivial)"]
    assert trivial.recall.estimate == 1.0 and trivial.precision.estimate == 0.5  # it also fires at t=1


def test_signal_table_ratio_against_zero_arm():
    table = signal_table(_study(), DEFAULT_SIGNALS[0])
    r = table[(table.share == 0.4) & (table.iteration == 2)].iloc[0]
    assert r.signal == pytest.approx(2.2, rel=0.05) and r.fires


def test_score_rule_counts():
    r = score_rule("x", [True, True, False, False], [True, False, True, False])
    assert (r.tp, r.fp, r.fn, r.tn) == (1, 1, 1, 1) and r.precision.estimate == 0.5
