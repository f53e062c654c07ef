"""The seed paper's four headline claims, each tested on a study's own results with the engine's numbers.

A claim "holds" only when the study's tests support it (significant changes where it says change, TOST
equivalence where it says stable), is "contradicted" when a test supports the opposite, and is "not settled"
otherwise, with the numbers that say how far the study could see. The rules are stated beside each verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthmix.analysis.comparisons import compare_seeds
from synthmix.analysis.stats import adjust_pvalues
from synthmix.report.findings import _p_text
from synthmix.report.tables import ReportTable, StudyFrames, fmt, fmt_pct, share_label

REASONING = ("math", "gsm")
RETRIEVAL = ("reading", "squad", "factual", "nq", "trivia")
STABLE_UP_TO = 0.2
DEGRADES_FROM = 0.3


@dataclass(frozen=True)
class ClaimResult:
    """One claim: what the seed says, what the study shows (numbers), the verdict and the rule behind it."""

    claim: str
    seed_says: str
    shows: str
    verdict: str
    rule: str


def main_curves(cells: pd.DataFrame, metric: str = "score") -> pd.DataFrame:
    """The first trained iteration's ``replace`` cells of the model measured on the most tasks."""
    c = cells.loc[(cells["metric"] == metric) & (cells["iteration"] > 0) & (cells["regime"] == "replace")]
    if c.empty:
        return c
    it = int(c["iteration"].min())
    c = c.loc[c["iteration"] == it]
    model = c.groupby("model")["task"].nunique().sort_values(kind="stable").index[-1]
    return c.loc[c["model"] == model]


def _verdict_counts(rows: pd.DataFrame) -> dict[str, int]:
    """How many comparisons read worse / better / equivalent / inconclusive."""
    v = rows["verdict"].fillna("")
    return {"worse": int((v == "worse").sum()), "better": int((v == "better").sum()),
            "equivalent": int(v.str.startswith("equivalent").sum()), "inconclusive": int(v.str.startswith("inconclusive").sum())}


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "none tested"


def claim_threshold(cells: pd.DataFrame) -> ClaimResult:
    """'Stable up to 20 %, degradation accelerates beyond 30 %' on the main model's share curves."""
    seed_says = "models keep their performance up to 20 % synthetic data; degradation accelerates beyond 30 %"
    rule = ("holds: no task worse at ≤ 20 % and at least half of those comparisons TOST-equivalent, and some task worse "
            "at ≥ 30 %; contradicted: a task significantly worse at ≤ 20 %, or every ≥ 30 % comparison equivalent")
    c = main_curves(cells)
    tested = c.loc[(c["share"] > 0) & c["verdict"].astype(bool)] if not c.empty else c
    if tested.empty:
        return ClaimResult("1. threshold", seed_says, "no share-vs-0 comparison of the primary score", "not settled", rule)
    low, high = tested.loc[tested["share"] <= STABLE_UP_TO + 1e-9], tested.loc[tested["share"] >= DEGRADES_FROM - 1e-9]
    lc, hc = _verdict_counts(low), _verdict_counts(high)
    means = tested.groupby("share")["relative_change"].mean()
    where = f"{c['model'].iloc[0]}, iteration {int(c['iteration'].iloc[0])}, {c['task'].nunique()} tasks"
    shows = (f"{where}: at ≤ 20 %: {_counts_text(lc)}; at ≥ 30 %: {_counts_text(hc)} (of {len(low)} and {len(high)} "
             "comparisons). Mean relative change over tasks: "
             + ", ".join(f"{share_label(s)} {fmt_pct(v)}" for s, v in means.items()) + ".")
    if lc["worse"] > 0 or (len(high) and hc["equivalent"] == len(high)):
        verdict = "contradicted"
    elif len(low) and lc["equivalent"] * 2 >= len(low) and hc["worse"] > 0:
        verdict = "holds"
    else:
        verdict = "not settled"
    return ClaimResult("1. threshold", seed_says, shows, verdict, rule)


def _grid_term(grid: ReportTable | None, prefix: str) -> pd.DataFrame:
    """Rows of the grid model's table whose quantity starts with ``prefix`` (first trained iteration, replace)."""
    if grid is None:
        return pd.DataFrame()
    d = grid.data.loc[grid.data["quantity"].str.startswith(prefix) & (grid.data["regime"] == "replace")]
    return d.loc[d["iteration"] == d["iteration"].min()] if not d.empty else d


def claim_scale(grid: ReportTable | None, table2: ReportTable | None) -> ClaimResult:
    """'Larger models are more robust' from the grid model's share × log10 size interaction."""
    seed_says = "larger models (6.9B–12B) tolerate synthetic data better than smaller ones (410M–1.4B)"
    rule = ("holds: the grid model's share × log10 size slope > 0 with p < 0.05; contradicted: < 0 with p < 0.05; "
            "else not settled")
    t = _grid_term(grid, "share × log10 size")
    point = ""
    if table2 is not None:
        d = table2.data.loc[np.isfinite(table2.data["relative_change"].astype(float))]
        d = d.loc[d["iteration"] == d["iteration"].min()] if len(d) else d
        for task, g in d.groupby("task"):
            if g["model"].nunique() >= 3:
                g = g.sort_values("n_params")
                point += (f" {task} at {share_label(g['share'].iloc[0])} (point estimates, small → large): " + ", ".join(
                    f"{r.model} {fmt_pct(r.relative_change)}" for r in g.itertuples()) + ".")
    if t.empty:
        return ClaimResult("2. scale", seed_says, "the grid model could not test a size interaction." + point, "not settled", rule)
    r = t.iloc[0]
    shows = (f"share × log10 size = {fmt(r['estimate'])} per unit share per decade of parameters "
             f"[{fmt(r['low'])}, {fmt(r['high'])}], p {_p_text(r['pvalue'])} (iteration {int(r['iteration'])}, "
             f"{r['n_obs']} run means).{point}")
    verdict = ("holds" if r["pvalue"] < 0.05 and r["estimate"] > 0 else
               "contradicted" if r["pvalue"] < 0.05 else "not settled")
    return ClaimResult("2. scale", seed_says, shows, verdict, rule)


def _first_worse(rows: pd.DataFrame) -> float:
    """The smallest share whose comparison reads 'worse' (inf when none)."""
    worse = rows.loc[rows["verdict"] == "worse", "share"]
    return float(worse.min()) if len(worse) else math.inf


def claim_calibration(cells: pd.DataFrame, warning: list[str]) -> ClaimResult:
    """'Calibration degradation precedes accuracy loss': on each curve, which turns significantly worse at a smaller share."""
    seed_says = "calibration (ECE) degrades before accuracy does, so ECE is an early-warning signal"
    rule = ("per share curve (model, task, iteration, regime), the smallest share at which ECE and at which the score is "
            "significantly worse; holds: ECE first on more curves than the score and on at least one; contradicted: "
            "the score first on more curves; else not settled")
    counts = {"ece first": 0, "score first": 0, "same share": 0, "neither": 0}
    key = ["model", "task", "iteration", "regime"]
    both = cells.loc[cells["metric"].isin(["score", "ece"]) & (cells["share"] > 0)]
    for _, g in both.groupby(key):
        e, s = _first_worse(g.loc[g["metric"] == "ece"]), _first_worse(g.loc[g["metric"] == "score"])
        counts["neither" if e == s == math.inf else "same share" if e == s else "ece first" if e < s else "score first"] += 1
    n = sum(counts.values())
    if n == 0:
        return ClaimResult("3. calibration first", seed_says, "no curve has both ECE and score comparisons", "not settled", rule)
    shows = f"{n} share curves: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + "." + (" " + " ".join(warning) if warning else "")
    verdict = ("holds" if counts["ece first"] > counts["score first"] and counts["ece first"] > 0 else
               "contradicted" if counts["score first"] > counts["ece first"] else "not settled")
    return ClaimResult("3. calibration first", seed_says, shows, verdict, rule)


def _kind(task: str, words: tuple[str, ...]) -> bool:
    return any(w in task.lower() for w in words)


def _seed_relative(scores: pd.DataFrame, key: dict, share: float) -> pd.Series:
    """Per seed: (y_share − y_0) / y_0 of the primary score of one (model, task, iteration, regime)."""
    s = scores.loc[(scores["metric"] == "score") & np.logical_and.reduce([scores[k] == v for k, v in key.items()])]
    w = s.pivot_table(index="seed", columns="share", values="value", aggfunc="mean")
    if 0.0 not in w.columns or share not in w.columns:
        return pd.Series(dtype=float)
    return ((w[share] - w[0.0]) / w[0.0]).dropna()


def _joint_text(grid: ReportTable | None) -> str:
    """' Grid model: share × task (all) F = 4.1 on (4, 60) df, p = 0.005.' (first trained iteration), or ''."""
    j = _grid_term(grid, "share × task (all)")
    if j.empty:
        return ""
    r = j.iloc[0]
    return f" Grid model, tasks differ in slope: F = {r['statistic']:.2f} on ({r['df']}) df, p {_p_text(r['pvalue'])}."


def claim_tasks(frames: StudyFrames, cells: pd.DataFrame, grid: ReportTable | None = None) -> ClaimResult:
    """'Reasoning degrades faster than retrieval': paired seed contrasts of the relative change at the largest share."""
    seed_says = "reasoning tasks (GSM8K) degrade faster than retrieval tasks (SQuAD, Natural Questions)"
    rule = ("per retrieval task, the paired seed contrast of relative changes (reasoning − retrieval) at the largest "
            "share, Holm over the retrieval tasks; holds: reasoning's change significantly more negative for every "
            "retrieval task; contradicted: significantly less negative for any; else not settled")
    c = main_curves(cells)
    if c.empty:
        return ClaimResult("4. task order", seed_says, "no share curves", "not settled", rule)
    tasks = sorted(c["task"].unique())
    reasoning = [t for t in tasks if _kind(t, REASONING)]
    retrieval = [t for t in tasks if _kind(t, RETRIEVAL)]
    if not reasoning or not retrieval:
        return ClaimResult("4. task order", seed_says, "needs a reasoning and a retrieval task on one model", "not settled", rule)
    share = float(c["share"].max())
    key = dict(model=c["model"].iloc[0], iteration=int(c["iteration"].iloc[0]), regime="replace")
    r = _seed_relative(frames.scores, {**key, "task": reasoning[0]}, share)
    parts, pvals, signs = [], [], []
    for task in retrieval:
        q = _seed_relative(frames.scores, {**key, "task": task}, share)
        seeds = sorted(set(r.index) & set(q.index))
        if len(seeds) < 2:
            continue
        st = compare_seeds(q.loc[seeds].to_numpy(float), r.loc[seeds].to_numpy(float), 0.0)
        diff = float(r.loc[seeds].mean() - q.loc[seeds].mean())
        parts.append((task, float(q.loc[seeds].mean()), diff, st.get("diff_low", math.nan), st.get("diff_high", math.nan)))
        pvals.append(st.get("pvalue", math.nan))
        signs.append(diff)
    if not parts:
        return ClaimResult("4. task order", seed_says, "fewer than 2 seeds in both tasks", "not settled", rule)
    finite = [p if np.isfinite(p) else 1.0 for p in pvals]
    adj = adjust_pvalues(finite, "holm")
    shows = (f"{key['model']}, iteration {key['iteration']}, {share_label(share)}: {reasoning[0]} "
             f"{fmt_pct(float(r.mean()))}; " + "; ".join(
                 f"{t} {fmt_pct(m)}, difference {d * 100:+.1f} pp [{lo * 100:+.1f}, {hi * 100:+.1f}], Holm p {_p_text(p)}"
                 for (t, m, d, lo, hi), p in zip(parts, adj.pvalues, strict=True)) + "." + _joint_text(grid))
    sig = list(zip(adj.reject, signs, strict=True))
    verdict = ("holds" if all(rej and d < 0 for rej, d in sig) else
               "contradicted" if any(rej and d > 0 for rej, d in sig) else "not settled")
    return ClaimResult("4. task order", seed_says, shows, verdict, rule)


def paper_claims(frames: StudyFrames, cells: pd.DataFrame, tables: dict[str, ReportTable], warning: list[str]) -> list[ClaimResult]:
    """The four claims, in the seed's order."""
    return [claim_threshold(cells), claim_scale(tables.get("grid_model"), tables.get("table2")),
            claim_calibration(cells, warning), claim_tasks(frames, cells, tables.get("grid_model"))]
