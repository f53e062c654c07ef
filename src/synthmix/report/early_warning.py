"""The report's early-warning section: ECE against the 0 % arm, and the rule scored by `analysis.warning`.

This module only groups, calls and formats; the risk set, the drop tests and the precision/recall come
from ``synthmix.analysis.warning``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthmix.analysis.warning import BASELINES, EarlyWarning, RuleScore, score_early_warning
from synthmix.errors import DataError
from synthmix.report.tables import Omitted, ReportTable, StudyFrames, _seed_means, fmt, share_label


def table_early_warning(frames: StudyFrames, warn_ratio: float = 1.5, critical_ratio: float = 2.0) -> ReportTable | Omitted:
    """ECE of each (model, task, share, regime, iteration) against the 0 % arm at the same iteration, with the warning level."""
    from synthmix.analysis.monitor import level_for

    title = "Early warning: ECE ratio to the 0 % arm"
    wide = _seed_means(frames, ["ece", "score"])
    if wide.empty or "ece" not in wide:
        return Omitted("early_warning", title, "no ECE values in the database")
    base = wide.loc[wide["share"] == 0, ["model", "task", "regime", "iteration", "ece", "score"]]
    merged = wide.loc[wide["share"] > 0].merge(base, on=["model", "task", "regime", "iteration"], suffixes=("", "_0"))
    merged = merged.loc[np.isfinite(merged["ece"]) & (merged["ece_0"] > 0)]
    if merged.empty:
        return Omitted("early_warning", title, "needs ECE for a non-zero share and its 0 % arm at the same iteration")
    merged["ece_ratio"] = merged["ece"] / merged["ece_0"]
    merged["level"] = [level_for(r, warn_ratio, critical_ratio) for r in merged["ece_ratio"]]
    data = merged[["model", "task", "regime", "share", "iteration", "ece_0", "ece", "ece_ratio", "score_0", "score", "level"]]
    data = data.sort_values(["model", "task", "regime", "share", "iteration"]).reset_index(drop=True)
    display = pd.DataFrame({
        "model": data["model"], "task": data["task"], "regime": data["regime"], "share": data["share"].map(share_label),
        "iteration": data["iteration"], "ECE (0%)": data["ece_0"].map(fmt), "ECE": data["ece"].map(fmt),
        "ratio": data["ece_ratio"].map(lambda r: fmt(r, 2)), "score (0%)": data["score_0"].map(fmt),
        "score": data["score"].map(fmt), "level": data["level"],
    })
    caption = (f"Warn at ratio ≥ {warn_ratio}, critical at ≥ {critical_ratio} (docs/architecture.md's rule, not fitted on this study). "
               "How well the rule predicts a drop is scored in the next table.")
    return ReportTable("early_warning", title, caption, data, display)


def _ci_text(ci: object) -> str:
    """'0.857 [0.601, 0.960]' or '—' for an interval over zero units."""
    if ci is None or not np.isfinite(ci.estimate):
        return "—"
    return f"{ci.estimate:.3f} [{ci.low:.3f}, {ci.high:.3f}]"


def _rule_row(baseline: str, rule: RuleScore) -> dict:
    """One scored rule as a tidy row."""
    fa = rule.identical_false_alarm
    return dict(baseline=baseline, rule=rule.rule, tp=rule.tp, fp=rule.fp, fn=rule.fn, tn=rule.tn,
                precision=rule.precision.estimate, precision_low=rule.precision.low, precision_high=rule.precision.high,
                recall=rule.recall.estimate, recall_low=rule.recall.low, recall_high=rule.recall.high,
                false_alarm=rule.false_alarm.estimate, false_alarm_low=rule.false_alarm.low,
                false_alarm_high=rule.false_alarm.high,
                identical_false_alarm=fa.estimate if fa else np.nan, identical_pairs=fa.n if fa else 0)


def table_warning_scores(frames: StudyFrames, higher_is_better: bool = True, alpha: float = 0.05) -> ReportTable | Omitted:
    """Precision, recall and false alarms of the ECE rule and its rivals, under both baselines."""
    title = "Early warning scored: does a signal at iteration t predict a significant drop at t+1?"
    results: list[EarlyWarning] = []
    try:
        for baseline in BASELINES:
            results.append(score_early_warning(frames.scores, frames.examples, baseline=baseline,
                                               higher_is_better=higher_is_better, alpha=alpha))
    except DataError as e:
        return Omitted("warning_scores", title, str(e))
    data = pd.DataFrame([_rule_row(r.baseline, rule) for r in results for rule in r.rules])
    display = pd.DataFrame({
        "baseline": data["baseline"], "rule": data["rule"],
        "TP/FP/FN/TN": [f"{r.tp}/{r.fp}/{r.fn}/{r.tn}" for r in data.itertuples()],
        "precision [95% CI]": [_ci_text(r.precision) for r in _rules(results)],
        "recall [95% CI]": [_ci_text(r.recall) for r in _rules(results)],
        "false alarms [95% CI]": [_ci_text(r.false_alarm) for r in _rules(results)],
        "between seeds": [_ci_text(r.identical_false_alarm) for r in _rules(results)],
    })
    first = results[0]
    sizes = "; ".join(f"{r.baseline}: {len(r.risk_set)} unit-iterations at risk, {int(r.risk_set['event'].sum())} events"
                      for r in results)
    caption = (
        "A unit is (model, task, regime, share > 0). At iteration t it is at risk when its score has not dropped "
        "significantly at any iteration ≤ t and iteration t+1 exists; the event is a significant drop at t+1 "
        f"({', '.join(first.tests)}; two-sided, α = {first.alpha:g} per comparison, uncorrected; arms it cannot test "
        "are left out). "
        f"Baselines: iteration0 = {BASELINES['iteration0']}; same_iteration = {BASELINES['same_iteration']}; each "
        "sets both the drop's reference and the signal's ratio. Thresholds were set before this study (the seed's §4.4 "
        "for ECE), not fitted on it. Intervals are Wilson 95 %; false alarms = FP / (FP + TN); \"between seeds\" = how "
        "often the signal fires between two seeds of one cell (identically trained; pairs share seeds, so that interval "
        f"is optimistic). {sizes}.")
    notes = [f"No values for: {', '.join(first.missing)} (not scored)."] if first.missing else []
    return ReportTable("warning_scores", title, caption, data, display, notes)


def _rules(results: list[EarlyWarning]) -> list[RuleScore]:
    """Every scored rule in table order."""
    return [rule for r in results for rule in r.rules]


def early_warning_tables(frames: StudyFrames) -> list[ReportTable | Omitted]:
    """The early-warning section: the ECE ratio table and the scored rules."""
    return [table_early_warning(frames), table_warning_scores(frames)]


def warning_finding(early: ReportTable | None, scored: ReportTable | None = None) -> list[str]:
    """How many units the ECE rule flagged, the largest ratio, and how well the rule predicted drops."""
    out = []
    if early is not None:
        d = early.data
        flagged = d.loc[d["level"] != "ok"]
        top = d.loc[d["ece_ratio"].idxmax()]
        out.append(f"ECE early warning: {len(flagged)} of {len(d)} (share, iteration) units reached warn or critical; the "
                   f"largest ECE ratio to the 0 % arm was {fmt(top['ece_ratio'], 2)} ({top['task']}, "
                   f"{share_label(top['share'])}, iteration {top['iteration']}).")
    if scored is not None:
        for r in scored.data.loc[scored.data["rule"] == "ECE ≥ 1.5× (warn)"].itertuples():
            events = r.tp + r.fn
            where = f"Scored against significant drops one iteration later (baseline {r.baseline}): "
            if events == 0:
                out.append(where + f"no unit at risk dropped, so the ECE warn rule's recall is undefined; it fired "
                           f"{r.fp} of {r.fp + r.tn} times, each a false alarm.")
                continue
            out.append(where + f"the ECE warn rule fired before {r.tp} of {events} drops and {r.fp} times before none "
                       f"(precision {fmt(r.precision)} [{fmt(r.precision_low)}, {fmt(r.precision_high)}], recall "
                       f"{fmt(r.recall)} [{fmt(r.recall_low)}, {fmt(r.recall_high)}]).")
    return out
