"""The early-warning rule and how well it, and its rivals, predict an accuracy drop one iteration ahead.

A unit is (model, task, regime, share > 0) at iteration t. The ECE rule warns when ECE_t ≥ 1.5 × the
ECE of the 0 % arm at the same iteration (critical at 2×). The event it should predict: a significant
drop of the primary score at t+1 that was not already significant at t (significance comes from
`compare_shares`, Bonferroni within its family). Each rule — ECE warn, ECE critical, the trivial
"share ≥ 0.3", OC, Self-BLEU, perplexity — is scored by precision and recall with Wilson CIs.
Thresholds are parameters: choose them before looking at the study that scores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthmix.analysis.stats import CI, wilson_interval
from synthmix.errors import DataError

UNIT = ["model", "task", "regime", "share"]


@dataclass(frozen=True)
class Signal:
    """A candidate warning: fire when metric vs the 0 % arm (ratio or difference) reaches the threshold."""

    name: str
    metric: str
    kind: str  # "ratio" (metric / metric at 0 %) or "difference" (metric − metric at 0 %)
    threshold: float


DEFAULT_SIGNALS = (
    Signal("ECE ≥ 1.5× (warn)", "ece", "ratio", 1.5),
    Signal("ECE ≥ 2× (critical)", "ece", "ratio", 2.0),
    Signal("OC gap +0.05", "oc_gap", "difference", 0.05),
    Signal("Self-BLEU ≥ 1.1×", "self_bleu", "ratio", 1.1),
    Signal("perplexity ≥ 1.1×", "perplexity", "ratio", 1.1),
)


@dataclass(frozen=True)
class RuleScore:
    """Confusion counts of one rule against the events, with precision and recall (Wilson CIs)."""

    rule: str
    tp: int
    fp: int
    fn: int
    tn: int
    precision: CI
    recall: CI


def score_rule(rule: str, predicted: Sequence[bool], event: Sequence[bool]) -> RuleScore:
    """Precision and recall of boolean predictions against boolean events."""
    p, e = np.asarray(predicted, dtype=bool), np.asarray(event, dtype=bool)
    if p.shape != e.shape:
        raise DataError(f"predicted and event must be paired (got {p.size} and {e.size})")
    tp, fp = int(np.sum(p & e)), int(np.sum(p & ~e))
    fn, tn = int(np.sum(~p & e)), int(np.sum(~p & ~e))
    return RuleScore(rule, tp, fp, fn, tn, wilson_interval(tp, tp + fp), wilson_interval(tp, tp + fn))


def signal_table(scores: pd.DataFrame, signal: Signal) -> pd.DataFrame:
    """Per unit and iteration: the signal's value against the 0 % arm at the same iteration (seed means)."""
    rows = scores[scores.metric == signal.metric]
    means = rows.groupby(["model", "task", "regime", "iteration", "share"])["value"].mean().reset_index()
    base = means[np.isclose(means.share, 0)].drop(columns="share").rename(columns={"value": "baseline"})
    arms = means[~np.isclose(means.share, 0)].merge(base, on=["model", "task", "regime", "iteration"])
    with np.errstate(divide="ignore", invalid="ignore"):
        arms["signal"] = arms.value / arms.baseline if signal.kind == "ratio" else arms.value - arms.baseline
    arms["fires"] = arms["signal"] >= signal.threshold
    return arms


def warning_events(comparisons: pd.DataFrame, metric: str = "score") -> pd.DataFrame:
    """Units at iteration t with the event 'significant drop at t+1, not already significant at t'."""
    c = comparisons[comparisons.metric == metric].copy()
    c["drop"] = c["significant"].fillna(False).astype(bool) & (c["difference"] < 0)
    cur = c[UNIT + ["iteration", "drop"]]
    nxt = cur.assign(iteration=cur.iteration - 1).rename(columns={"drop": "drop_next"})
    out = cur.merge(nxt, on=UNIT + ["iteration"], how="inner")
    out["event"] = out["drop_next"] & ~out["drop"]
    return out


def evaluate_early_warning(scores: pd.DataFrame, comparisons: pd.DataFrame,
                           signals: Sequence[Signal] = DEFAULT_SIGNALS, trivial_share: float = 0.3) -> list[RuleScore]:
    """Score each signal and the trivial rule 'share ≥ trivial_share' on the units that have an iteration t+1."""
    events = warning_events(comparisons)
    if events.empty:
        raise DataError("comparisons: no unit has both iteration t and t+1; early warning needs ≥ 2 iterations")
    results = [score_rule(f"share ≥ {trivial_share:g} (trivial)", events.share >= trivial_share, events.event)]
    for sig in signals:
        table = signal_table(scores, sig)
        if table.empty:
            continue
        merged = events.merge(table[UNIT + ["iteration", "fires"]], on=UNIT + ["iteration"], how="left")
        results.append(score_rule(sig.name, merged["fires"].fillna(False).astype(bool), merged.event))
    return results
