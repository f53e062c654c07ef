"""The early-warning rule scored: does a signal at iteration t predict a significant score drop at t+1?

A unit is (model, task, regime, share > 0). At iteration t it is *at risk* when its score has not yet
dropped significantly at any observed iteration ≤ t and iteration t+1 exists; the *event* is a
significant drop at t+1 (so never one already significant at t). Significance comes from
`drop_test` alone, which asks the comparison engine (`synthmix.analysis.comparisons`): a paired t-test
on seed values with ≥ 2 seeds, or, with one seed, exact McNemar on per-example 0/1 rows and a paired
permutation test on other per-example scores ("test-set noise only"); two-sided at ``alpha`` per comparison.

Both baselines are available (`BASELINES`): the paper's — the unit's own model at iteration 0 — and
the same iteration's 0 % arm. The baseline sets both what a drop is measured against and what a
signal's ratio is taken to. Each rule (ECE warn and critical, OC gap, Self-BLEU, perplexity, the
trivial "share ≥ 0.3") is scored by precision, recall and false-alarm rate with Wilson intervals and
counts, and its false-alarm rate between identically trained arms (every pair of seeds of one cell).
Thresholds are parameters chosen before the study is seen (the seed's §4.4 for ECE), never fitted here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthmix.analysis.comparisons import SEED_TEST, compare_examples, compare_seeds
from synthmix.analysis.stats import CI, wilson_interval
from synthmix.config import AnalysisSettings
from synthmix.errors import DataError

UNIT = ["model", "task", "regime", "share"]
ARM = ["model", "task", "regime", "iteration", "share"]
BASELINES = {
    "iteration0": "the unit's model at iteration 0 (the seed paper's baseline)",
    "same_iteration": "the 0 % arm at the same iteration",
}


@dataclass(frozen=True)
class Signal:
    """A candidate warning: fire when the metric moves against the baseline by the threshold (ratio or difference)."""

    name: str
    metric: str
    kind: str  # "ratio": value / baseline; "difference": value − baseline
    threshold: float  # ratio ≥ threshold (or ≤ 1/threshold when falling); difference ≥ threshold (≤ −threshold)
    rises: bool = True  # the direction that warns: True when a rise of the metric is the bad sign


DEFAULT_SIGNALS = (
    Signal("ECE ≥ 1.5× (warn)", "ece", "ratio", 1.5),
    Signal("ECE ≥ 2× (critical)", "ece", "ratio", 2.0),
    Signal("OC gap +0.05", "oc_gap", "difference", 0.05),
    Signal("Self-BLEU ≥ 1.1×", "self_bleu", "ratio", 1.1),
    Signal("perplexity ≥ 1.1×", "perplexity", "ratio", 1.1),
)


@dataclass(frozen=True)
class DropTest:
    """Whether an arm's score fell significantly below its reference, with the test that decided it."""

    significant: bool
    pvalue: float
    degradation: float  # mean reference − arm (arm − reference for a lower-is-better metric): > 0 is worse
    n: int
    test: str


@dataclass(frozen=True)
class RuleScore:
    """One rule against the events: confusion counts, precision, recall and false-alarm rate (Wilson CIs)."""

    rule: str
    tp: int
    fp: int
    fn: int
    tn: int
    precision: CI
    recall: CI
    false_alarm: CI  # fp / (fp + tn): how often it fires on a unit that does not drop next
    identical_false_alarm: CI | None = None  # how often it fires between two seeds of one cell


@dataclass(frozen=True)
class EarlyWarning:
    """The scored rules of one study under one baseline, with the risk set they were scored on."""

    baseline: str
    alpha: float
    risk_set: pd.DataFrame  # one row per (unit, t) at risk: event, and each rule's firing
    rules: tuple[RuleScore, ...]
    tests: tuple[str, ...]  # the drop tests used
    missing: tuple[str, ...]  # signals with no values in the study


def drop_test(reference: Sequence[float], arm: Sequence[float], *, per_example: bool = False,
              higher_is_better: bool = True, alpha: float = 0.05) -> DropTest:
    """Is `arm` significantly worse than `reference`? Paired seed values (t-test) or one seed's 0/1 examples (McNemar)."""
    ref, val = np.asarray(reference, dtype=float), np.asarray(arm, dtype=float)
    if ref.shape != val.shape or ref.ndim != 1:
        raise DataError(f"reference and arm must be paired 1-D arrays (got shapes {ref.shape} and {val.shape})")
    sign = 1.0 if higher_is_better else -1.0
    degradation = float(sign * (ref.mean() - val.mean())) if ref.size else float("nan")
    settings = AnalysisSettings(alpha=alpha)
    stats = compare_examples(ref, val, 0.0, settings) if per_example else compare_seeds(ref, val, 0.0, settings)
    if "pvalue" not in stats or not np.isfinite(stats["pvalue"]):
        return DropTest(False, float("nan"), degradation, int(ref.size), "untestable: < 2 seeds or constant differences")
    p = float(stats["pvalue"])
    return DropTest(bool(p <= alpha and degradation > 0), p, degradation, int(ref.size), stats["test"] if stats["test"] == SEED_TEST else f"{stats['test']}, {stats['label']}")


def _select(frame: pd.DataFrame, key: dict) -> pd.DataFrame:
    """Rows of `frame` whose columns equal the key (shares compared with tolerance)."""
    mask = np.ones(len(frame), dtype=bool)
    for col, val in key.items():
        mask &= np.isclose(frame[col].astype(float), float(val)) if col == "share" else (frame[col] == val).to_numpy()
    return frame[mask]


def _reference_key(key: dict, baseline: str) -> dict:
    """The arm a unit at an iteration is compared with under a baseline choice."""
    if baseline not in BASELINES:
        raise DataError(f"baseline: must be one of {sorted(BASELINES)} (got {baseline!r})")
    return {**key, "share": 0.0, "iteration": 0 if baseline == "iteration0" else key["iteration"]}


def _seed_series(scores: pd.DataFrame, metric: str, key: dict) -> pd.Series:
    """Seed → value of one metric in one arm (mean over duplicate rows)."""
    rows = _select(scores[scores["metric"] == metric], key)
    return rows.groupby("seed")["value"].mean()


def _example_pair(examples: pd.DataFrame | None, ref_key: dict, key: dict, seed: object) -> tuple[np.ndarray, np.ndarray] | None:
    """One seed's per-example 0/1 scores of the reference and the arm, aligned by example id; None when unusable."""
    if examples is None or examples.empty:
        return None
    a = _select(examples[examples["seed"] == seed], ref_key).set_index("example_id")["score"]
    b = _select(examples[examples["seed"] == seed], key).set_index("example_id")["score"]
    both = pd.concat([a, b], axis=1, join="inner").dropna()
    if both.empty or not np.isin(both.to_numpy(), (0.0, 1.0)).all():
        return None
    return both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float)


def arm_drops(scores: pd.DataFrame, examples: pd.DataFrame | None = None, *, baseline: str = "iteration0",
              metric: str = "score", higher_is_better: bool = True, alpha: float = 0.05) -> pd.DataFrame:
    """Per (unit, iteration ≥ 1) with share > 0: the drop test against the chosen baseline."""
    rows = scores[(scores["metric"] == metric) & (scores["share"] > 0) & (scores["iteration"] >= 1)]
    records = []
    for vals in rows[ARM].drop_duplicates().itertuples(index=False):
        key = dict(zip(ARM, vals))
        ref_key = _reference_key(key, baseline)
        ref, arm = _seed_series(scores, metric, ref_key), _seed_series(scores, metric, key)
        seeds = sorted(set(ref.index) & set(arm.index))
        if not seeds:
            continue
        pair = _example_pair(examples, ref_key, key, seeds[0]) if len(seeds) == 1 and metric == "score" else None
        result = (drop_test(*pair, per_example=True, higher_is_better=higher_is_better, alpha=alpha) if pair is not None
                  else drop_test(ref.loc[seeds], arm.loc[seeds], higher_is_better=higher_is_better, alpha=alpha))
        records.append({**key, "dropped": result.significant, "pvalue": result.pvalue,
                        "degradation": result.degradation, "n": result.n, "test": result.test})
    return pd.DataFrame.from_records(records, columns=[*ARM, "dropped", "pvalue", "degradation", "n", "test"])


def risk_set(drops: pd.DataFrame) -> pd.DataFrame:
    """Units at iteration t that have not dropped at any iteration ≤ t and have iteration t+1; event = drop at t+1.

    Arms whose drop could not be tested (one seed without 0/1 examples, constant differences) are left out:
    whether they dropped is unknown, so they are neither events nor non-events.
    """
    records = []
    testable = drops[drops["pvalue"].notna()] if "pvalue" in drops else drops
    for unit, g in testable.groupby(UNIT, sort=True):
        by_t = dict(zip(g["iteration"].astype(int), g["dropped"].astype(bool)))
        for t in sorted(by_t):
            if any(by_t[s] for s in by_t if s <= t):
                break
            if t + 1 in by_t:
                records.append({**dict(zip(UNIT, unit)), "iteration": t, "event": by_t[t + 1]})
    return pd.DataFrame.from_records(records, columns=[*UNIT, "iteration", "event"])


def _fires(value: np.ndarray, reference: np.ndarray, signal: Signal) -> np.ndarray:
    """Whether a signal fires for values against their references (NaN where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if signal.kind == "ratio":
            ratio = np.where(reference > 0, value / reference, np.nan)
            hit = ratio >= signal.threshold if signal.rises else ratio <= 1 / signal.threshold
            defined = np.isfinite(ratio)
        else:
            diff = value - reference
            hit = diff >= signal.threshold if signal.rises else diff <= -signal.threshold
            defined = np.isfinite(diff)
    return np.where(defined, hit, np.nan)


def signal_fires(scores: pd.DataFrame, at_risk: pd.DataFrame, signal: Signal, baseline: str) -> np.ndarray:
    """Per risk-set row: whether the signal (seed means) fires against the baseline at iteration t (NaN: no value)."""
    means = scores[scores["metric"] == signal.metric].groupby(ARM)["value"].mean()
    value, reference = [], []
    for r in at_risk.itertuples(index=False):
        key = {c: getattr(r, c) for c in ARM}
        ref = _reference_key(key, baseline)
        value.append(means.get(tuple(key[c] for c in ARM), np.nan))
        reference.append(means.get(tuple(ref[c] for c in ARM), np.nan))
    return _fires(np.asarray(value, float), np.asarray(reference, float), signal)


def identical_arm_false_alarms(scores: pd.DataFrame, signal: Signal) -> CI | None:
    """How often the signal fires between two seeds of one cell (identically trained): seed j against seed i < j."""
    rows = scores[scores["metric"] == signal.metric]
    if "seed" not in rows or rows.empty:
        return None
    fired = total = 0
    for _, cell in rows.groupby(ARM):
        by_seed = cell.groupby("seed")["value"].mean()
        for i, j in itertools.combinations(by_seed.index, 2):
            hit = _fires(np.array([by_seed[j]]), np.array([by_seed[i]]), signal)[0]
            if np.isfinite(hit):
                fired, total = fired + int(hit), total + 1
    return wilson_interval(fired, total) if total else None


def score_rule(rule: str, predicted: Sequence[bool], event: Sequence[bool], identical: CI | None = None) -> RuleScore:
    """Confusion counts, precision, recall and false-alarm rate of boolean predictions against boolean events."""
    p, e = np.asarray(predicted, dtype=bool), np.asarray(event, dtype=bool)
    if p.shape != e.shape:
        raise DataError(f"predicted and event must be paired (got {p.size} and {e.size})")
    tp, fp = int(np.sum(p & e)), int(np.sum(p & ~e))
    fn, tn = int(np.sum(~p & e)), int(np.sum(~p & ~e))
    return RuleScore(rule, tp, fp, fn, tn, wilson_interval(tp, tp + fp), wilson_interval(tp, tp + fn),
                     wilson_interval(fp, fp + tn), identical)


def score_early_warning(scores: pd.DataFrame, examples: pd.DataFrame | None = None, *, baseline: str = "iteration0",
                        signals: Sequence[Signal] = DEFAULT_SIGNALS, trivial_share: float = 0.3, metric: str = "score",
                        higher_is_better: bool = True, alpha: float = 0.05) -> EarlyWarning:
    """Score every signal and the trivial rule 'share ≥ trivial_share' on the study's risk set under one baseline."""
    absent = [c for c in (*ARM, "seed", "metric", "value") if c not in scores]
    if absent:
        raise DataError(f"scores: missing column(s) {absent}; the early-warning rule needs seed-level rows of a study")
    drops = arm_drops(scores, examples, baseline=baseline, metric=metric, higher_is_better=higher_is_better, alpha=alpha)
    at_risk = risk_set(drops)
    if at_risk.empty:
        raise DataError("scores: no unit (model, task, regime, share > 0) has a score at both iteration t ≥ 1 and t+1; "
                        "the early-warning rule needs ≥ 2 iterations with synthetic data")
    trivial = at_risk["share"] >= trivial_share - 1e-12
    at_risk[f"share ≥ {trivial_share:g} (trivial)"] = trivial
    rules = [score_rule(f"share ≥ {trivial_share:g} (trivial)", trivial, at_risk["event"])]
    missing = []
    for sig in signals:
        fires = signal_fires(scores, at_risk, sig, baseline)
        defined = np.isfinite(fires)
        if not defined.any():
            missing.append(sig.name)
            continue
        at_risk[sig.name] = fires
        rules.append(score_rule(sig.name, fires[defined] == 1, at_risk["event"].to_numpy(bool)[defined],
                                identical_arm_false_alarms(scores, sig)))
    tests = tuple(sorted(set(drops["test"])))
    return EarlyWarning(baseline, alpha, at_risk, tuple(rules), tests, tuple(missing))
