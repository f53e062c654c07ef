"""Claims audit: recompute a paper's derived claims from its own published tables and say which hold.

The checks are generic functions over tidy tables (relative drops, ranks, cross-table agreement, a
fitted formula and its R², "within X % up to Y %" and range statements). Printed numbers are
compared with rounding in mind: a cell printed as 24.1 may be anything in [24.05, 24.15], and a
claim holds when the printed value is reachable from some values within rounding of the inputs.
`audit_seed` runs the seed paper's claims (its text and Tables 1–4, section 4.2) on the transcriptions;
a claim the tables cannot settle is listed with ``holds = None`` ("can't tell") and why. `audit_paths`
is what ``synthmix audit [TABLES…]`` calls.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthmix.analysis.fits import fit_breakpoint, fit_polynomial_share, fit_safe_share, r_squared, safe_share_from_curve
from synthmix.analysis.tables_io import published_dir, read_tidy_table
from synthmix.errors import DataError

CELL_HALF_UNIT = 0.05  # tables print one decimal: a cell is within ±0.05 of its printed value
PERCENT_HALF_UNIT = 0.5  # derived percentages are printed as integers


@dataclass(frozen=True)
class ClaimCheck:
    """One claim, what the paper reports, what its own numbers give, and whether it holds (None: not checkable)."""

    claim_id: str
    source: str
    statement: str
    reported: str
    recomputed: str
    holds: bool | None
    detail: str = ""

    def __post_init__(self) -> None:
        """Store numpy booleans as plain bools so `holds is False` reads as written."""
        if self.holds is not None:
            object.__setattr__(self, "holds", bool(self.holds))


def _slug(source: object) -> str:
    """A claim-id fragment naming the table a claim comes from ('Table 2' → 'table2')."""
    return "".join(str(source).lower().split())


def _drop_bounds(y0: float, yp: float, half: float = CELL_HALF_UNIT) -> tuple[float, float, float]:
    """Relative drop (y0 − yp)/y0 in percent, with its min and max over inputs within rounding."""
    corners = [100 * (a - b) / a for a, b in itertools.product((y0 - half, y0 + half), (yp - half, yp + half))]
    return 100 * (y0 - yp) / y0, min(corners), max(corners)


def _cell(table: pd.DataFrame, **where: object) -> float:
    """The single value matching the given column values (raises KeyError when absent or ambiguous)."""
    mask = np.ones(len(table), dtype=bool)
    for col, val in where.items():
        mask &= np.isclose(table[col].astype(float), float(val)) if col == "share" else (table[col] == val).to_numpy()
    rows = table[mask]
    if len(rows) != 1:
        raise KeyError(f"{len(rows)} rows match {where}")
    return float(rows["value"].iloc[0])


def _score_curve(table: pd.DataFrame, model: str, task: str, iteration: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Shares and primary scores of one (model, task, iteration), sorted by share."""
    rows = table[(table.metric == "score") & (table.model == model) & (table.task == task) & (table.iteration == iteration)]
    rows = rows.sort_values("share")
    return rows["share"].to_numpy(float), rows["value"].to_numpy(float)


def check_relative_drops(table: pd.DataFrame) -> list[ClaimCheck]:
    """Recompute every printed relative degradation (`rel_degradation_reported`) from the score cells beside it."""
    checks = []
    for _, r in table[table.metric == "rel_degradation_reported"].iterrows():
        key = dict(model=r.model, task=r.task, iteration=r.iteration)
        y0, yp = _cell(table, metric="score", share=0.0, **key), _cell(table, metric="score", share=r.share, **key)
        drop, lo, hi = _drop_bounds(y0, yp)
        printed = -float(r.value)
        holds = lo - PERCENT_HALF_UNIT <= printed <= hi + PERCENT_HALF_UNIT
        checks.append(ClaimCheck(
            f"rel-drop:{_slug(r.get('source', ''))}:{r.model}:{r.task}:{r.share:g}", str(r.get("source", "")),
            f"{r.task} ({r.model}) loses {printed:g}% of its baseline at {r.share:.0%}",
            f"{r.value:g}%", f"-{drop:.1f}% (rounding range {-hi:.1f} to {-lo:.1f})", bool(holds),
            f"({y0:g} − {yp:g}) / {y0:g}",
        ))
    return checks


def check_absolute_drops(table: pd.DataFrame) -> list[ClaimCheck]:
    """Recompute every printed absolute degradation in percentage points (`abs_degradation_reported`)."""
    checks = []
    for _, r in table[table.metric == "abs_degradation_reported"].iterrows():
        key = dict(model=r.model, task=r.task, iteration=r.iteration)
        y0, yp = _cell(table, metric="score", share=0.0, **key), _cell(table, metric="score", share=r.share, **key)
        holds = abs((yp - y0) - float(r.value)) <= 2 * CELL_HALF_UNIT + 1e-9
        checks.append(ClaimCheck(
            f"abs-drop:{_slug(r.get('source', ''))}:{r.model}:{r.task}:{r.share:g}", str(r.get("source", "")),
            f"{r.task} ({r.model}) loses {-float(r.value):g} pp at {r.share:.0%}", f"{r.value:g} pp",
            f"{yp - y0:+.1f} pp", bool(holds),
        ))
    return checks


def check_ranking(table: pd.DataFrame) -> list[ClaimCheck]:
    """Check a printed sensitivity ranking (`sensitivity_rank_reported`, 1 = largest relative drop) against the cells."""
    ranks = table[table.metric == "sensitivity_rank_reported"]
    if ranks.empty:
        return []
    rows = []
    for _, r in ranks.iterrows():
        key = dict(model=r.model, task=r.task, iteration=r.iteration)
        y0, yp = _cell(table, metric="score", share=0.0, **key), _cell(table, metric="score", share=r.share, **key)
        rows.append((r.task, int(r.value), *_drop_bounds(y0, yp)))
    by_reported = sorted(rows, key=lambda t: t[1])
    violations = []
    for (ta, _, da, lo_a, hi_a), (tb, _, db, lo_b, hi_b) in itertools.combinations(by_reported, 2):
        if hi_a < lo_b:  # ranked more sensitive, yet its drop is smaller even allowing for rounding
            violations.append(f"{ta} is ranked above {tb} but drops {da:.1f}% < {db:.1f}%")
    recomputed_order = [t for t, *_ in sorted(rows, key=lambda t: -t[2])]
    src = str(ranks["source"].iloc[0]) if "source" in ranks else ""
    return [ClaimCheck(
        "ranking", src, "tasks ranked by relative degradation (1 = most sensitive)",
        " > ".join(t for t, *_ in by_reported), " > ".join(f"{t} ({d:.1f}%)" for t, _, d, *_ in sorted(rows, key=lambda t: -t[2])),
        not violations, "; ".join(violations) or f"order {recomputed_order} is consistent within rounding",
    )]


def _canonical_metric(task: str, metric: str) -> str:
    """Map a table's metric label onto the primary `score` where they are the same number (accuracy on math/commonsense)."""
    return "score" if metric == "accuracy" and task in ("math", "commonsense") else metric


def check_cross_table_agreement(tables: list[pd.DataFrame]) -> list[ClaimCheck]:
    """Every condition printed in more than one table must carry the same value in each."""
    frame = pd.concat(tables, ignore_index=True)
    frame = frame[frame["share"].notna() & ~frame.metric.str.endswith("_reported")].copy()
    frame["canon"] = [_canonical_metric(t, m) for t, m in zip(frame.task, frame.metric)]
    checks = []
    for (model, task, share, iteration, metric), grp in frame.groupby(["model", "task", "share", "iteration", "canon"]):
        if grp["source"].nunique() < 2:
            continue
        values = dict(zip(grp["source"], grp["value"]))
        holds = float(np.ptp(grp["value"].to_numpy(float))) <= 1e-9
        checks.append(ClaimCheck(
            f"agree:{model}:{task}:{share:g}:{iteration}:{metric}", " / ".join(values),
            f"{task} {metric} at {share:.0%}, iteration {iteration} ({model}) is the same number in every table",
            ", ".join(f"{s}: {v:g}" for s, v in values.items()), "equal" if holds else "differ", holds,
        ))
    return checks


def check_safe_share_formula(safe: pd.DataFrame) -> list[ClaimCheck]:
    """Does the printed formula a + b·log10(N/1e9) fit its own safe shares, with the printed R²? And the OLS refit."""
    pts = safe[safe.metric == "safe_share"]
    coef = {m: _cell(safe, metric=m) for m in ("formula_intercept", "formula_slope", "formula_r2")}
    n, s = pts["n_params"].to_numpy(float), pts["value"].to_numpy(float)
    predicted = coef["formula_intercept"] + coef["formula_slope"] * np.log10(n / 1e9)
    r2_printed_formula = r_squared(s, predicted)
    fit = fit_safe_share(n, s)
    formula = f"{coef['formula_intercept']:g}% + {coef['formula_slope']:g}% × log10(N/1e9)"
    src = str(pts["source"].iloc[0])
    in_ci = fit.a_ci.low <= coef["formula_intercept"] <= fit.a_ci.high and fit.b_ci.low <= coef["formula_slope"] <= fit.b_ci.high
    return [
        ClaimCheck(
            "formula-fits-points", src, f"{formula} fits the four safe shares with R² = {coef['formula_r2']:g}",
            f"R² = {coef['formula_r2']:g}",
            f"R² = {r2_printed_formula:.2f}; predicts {', '.join(f'{p:.1f}' for p in predicted)} for {', '.join(f'{v:g}' for v in s)}",
            abs(r2_printed_formula - coef["formula_r2"]) <= 0.05,
        ),
        ClaimCheck(
            "formula-refit", src, "OLS of the four safe shares on log10(N/1e9) gives the printed coefficients",
            formula,
            f"{fit.a:.1f}% [{fit.a_ci.low:.1f}, {fit.a_ci.high:.1f}] + {fit.b:.2f}% [{fit.b_ci.low:.1f}, {fit.b_ci.high:.1f}] "
            f"× log10(N/1e9), R² = {fit.r2:.3f}",
            bool(in_ci), "both printed coefficients inside the refit's 95% CIs" if in_ci else "a printed coefficient lies outside the refit's 95% CI",
        ),
    ]


def check_safe_share_against_curve(safe: pd.DataFrame, curve: pd.DataFrame, model: str, task: str) -> ClaimCheck:
    """Does a printed safe share agree with the one interpolated from the same model's score-vs-share curve?"""
    printed = _cell(safe, metric="safe_share", model=model)
    shares, scores = _score_curve(curve, model, task)
    found = safe_share_from_curve(shares, scores)
    ok = (not found.censored) and abs(100 * found.value - printed) <= 1.0
    return ClaimCheck(
        f"safe-share-curve:{model}:{task}", f"{safe['source'].iloc[0]} / {curve['source'].iloc[0]}",
        f"{model} is safe (< 10% relative degradation) up to about {printed:g}% on {task}",
        f"{printed:g}%", f"{found.label()} (interpolated from {', '.join(f'{v:g}' for v in scores)})", ok,
    )


def check_max_drop_up_to(table: pd.DataFrame, max_share: float, limit_pct: float, claim_id: str, statement: str) -> ClaimCheck:
    """'Within limit % of baseline up to max_share' over every task in the table; also reports the pp reading."""
    worst, worst_pp, worst_task = -np.inf, -np.inf, ""
    for (model, task, it), _ in table[table.metric == "score"].groupby(["model", "task", "iteration"]):
        shares, scores = _score_curve(table, model, task, it)
        for sh, v in zip(shares, scores):
            if 0 < sh <= max_share + 1e-12:
                drop = 100 * (scores[0] - v) / scores[0]
                worst_pp = max(worst_pp, scores[0] - v)
                if drop > worst:
                    worst, worst_task = drop, f"{task} at {sh:.0%}"
    return ClaimCheck(
        claim_id, str(table["source"].iloc[0]), statement, f"< {limit_pct:g}%", f"worst {worst:.1f}% ({worst_task})",
        worst < limit_pct, f"largest absolute drop {worst_pp:.1f} pp (the claim holds only if read as percentage points)"
        if worst >= limit_pct and worst_pp < limit_pct else "",
    )


def check_drop_range(table: pd.DataFrame, share: float, low: float, high: float, claim_id: str, statement: str) -> ClaimCheck:
    """'At share, relative drops range from low % to high %' over every task in the table."""
    drops = {}
    for (model, task, it), _ in table[table.metric == "score"].groupby(["model", "task", "iteration"]):
        shares, scores = _score_curve(table, model, task, it)
        k = np.flatnonzero(np.isclose(shares, share))
        if k.size:
            drops[task] = 100 * (scores[0] - scores[k[0]]) / scores[0]
    lo_t, hi_t = min(drops, key=drops.get), max(drops, key=drops.get)
    ok = abs(drops[lo_t] - low) <= PERCENT_HALF_UNIT + 0.1 and abs(drops[hi_t] - high) <= PERCENT_HALF_UNIT + 0.1
    return ClaimCheck(
        claim_id, str(table["source"].iloc[0]), statement, f"{low:g}–{high:g}%",
        f"{drops[lo_t]:.1f}% ({lo_t}) – {drops[hi_t]:.1f}% ({hi_t})", ok,
        ", ".join(f"{t} {d:.1f}%" for t, d in sorted(drops.items(), key=lambda kv: kv[1])),
    )


def check_inflection(table: pd.DataFrame, low: float, high: float, slopes_below: tuple[float, float],
                     slopes_above: tuple[float, float]) -> list[ClaimCheck]:
    """Polynomial inflection points in [low, high] and slopes below/above (pp per pp) per task."""
    cubic, hinge = {}, {}
    for (model, task, it), _ in table[table.metric == "score"].groupby(["model", "task", "iteration"]):
        shares, scores = _score_curve(table, model, task, it)
        cubic[task] = fit_polynomial_share(shares, scores, degree=3).inflection
        hinge[task] = fit_breakpoint(shares, scores, n_resamples=0)
    src = str(table["source"].iloc[0])
    infl_ok = all(v is not None and low <= v <= high for v in cubic.values())
    below = {t: -h.slope_below / 100 for t, h in hinge.items()}  # per unit share → pp per pp
    above = {t: -h.slope_above / 100 for t, h in hinge.items()}
    slopes_ok = all(slopes_below[0] <= v <= slopes_below[1] for v in below.values()) and all(
        slopes_above[0] <= v <= slopes_above[1] for v in above.values())
    fmt = lambda d: ", ".join(f"{t} {v:.2f}" for t, v in d.items())  # noqa: E731
    return [
        ClaimCheck(
            "inflection", src, f"polynomial fits put the inflection point at {low:.0%}–{high:.0%} for every task",
            f"{low:.0%}–{high:.0%}", "cubic: " + ", ".join(f"{t} {'none' if v is None else f'{v:.0%}'}" for t, v in cubic.items()),
            infl_ok, "two-segment breakpoints: " + ", ".join(f"{t} {h.breakpoint:.0%}" for t, h in hinge.items()),
        ),
        ClaimCheck(
            "slopes", src, "degradation is 0.1–0.2 pp per pp below the inflection and 0.4–0.8 above",
            f"{slopes_below[0]:g}–{slopes_below[1]:g} / {slopes_above[0]:g}–{slopes_above[1]:g}",
            f"below: {fmt(below)}; above: {fmt(above)}", slopes_ok, "slopes of the two-segment fit",
        ),
    ]


def check_ratio(claim_id: str, source: str, statement: str, new: float, old: float, reported_pct: float,
                tolerance_pct: float = 1.0) -> ClaimCheck:
    """A printed relative change (new/old − 1, in percent) against the numbers it was computed from."""
    change = 100 * (new / old - 1)
    return ClaimCheck(claim_id, source, statement, f"{reported_pct:+g}%", f"{change:+.1f}%", abs(change - reported_pct) <= tolerance_pct)


def check_relative_range(drops: dict[str, tuple[float, float, float]], low: float, high: float, claim_id: str,
                         source: str, statement: str) -> ClaimCheck:
    """'Relative drops lie between low % and high %' for the named conditions, allowing for rounding of the cells."""
    outside = [k for k, (_, lo, hi) in drops.items() if hi < low - PERCENT_HALF_UNIT or lo > high + PERCENT_HALF_UNIT]
    return ClaimCheck(claim_id, source, statement, f"{low:g}–{high:g}%",
                      ", ".join(f"{k} {d:.1f}%" for k, (d, _, _) in drops.items()), not outside,
                      f"outside even within rounding: {', '.join(outside)}" if outside else "every drop within rounding of the range")


def _drops_at(table: pd.DataFrame, share: float, by: str) -> dict[str, tuple[float, float, float]]:
    """Relative drop (with its rounding range) at one share for every curve of a table, keyed by `by`."""
    out = {}
    for _, r in table[(table.metric == "score") & np.isclose(table.share.astype(float), share)].iterrows():
        y0 = _cell(table, metric="score", share=0.0, model=r.model, task=r.task, iteration=r.iteration)
        out[str(r[by]).removeprefix("EleutherAI/")] = _drop_bounds(y0, float(r.value))
    return out


def check_hierarchy(table: pd.DataFrame, order: list[str], share: float, claim_id: str, source: str, statement: str) -> ClaimCheck:
    """A stated order of tasks from most to least sensitive against the relative drops at one share."""
    drops = _drops_at(table, share, "task")
    inversions = [f"{a} ({drops[a][0]:.1f}%) before {b} ({drops[b][0]:.1f}%)"
                  for a, b in itertools.combinations(order, 2) if drops[a][2] < drops[b][1]]
    recomputed = " > ".join(f"{t} {d[0]:.1f}%" for t, d in sorted(drops.items(), key=lambda kv: -kv[1][0]))
    return ClaimCheck(claim_id, source, statement, " > ".join(order), recomputed, not inversions,
                      "inverted even within rounding: " + "; ".join(inversions) if inversions else "order consistent within rounding")


def check_fold(claim_id: str, source: str, statement: str, high: tuple[float, float, float], low: tuple[float, float, float],
               reported: float, tolerance: float = 0.5) -> ClaimCheck:
    """'About reported× more' for two relative drops, with the ratio's range over rounding of the cells."""
    ratio, lo, hi = high[0] / low[0], high[1] / low[2], high[2] / low[1]
    holds = lo - tolerance <= reported <= hi + tolerance
    return ClaimCheck(claim_id, source, statement, f"≈ {reported:g}×", f"{ratio:.1f}× (rounding range {lo:.1f}–{hi:.1f}×)",
                      holds, f"read as {reported:g} ± {tolerance:g}")


def check_ece_lead(t4: pd.DataFrame, low: int, high: int, claim_id: str, source: str, statement: str,
                   warn_ratio: float = 1.5, drop_pct: float = 3.0) -> ClaimCheck:
    """How many iterations ECE ≥ warn_ratio × iteration 0 comes before accuracy falls > drop_pct % below iteration 0."""
    acc = t4[t4.metric == "accuracy"].set_index("iteration")["value"].sort_index()
    ece = t4[t4.metric == "ece"].set_index("iteration")["value"].sort_index()
    warn = next((int(t) for t, v in ece.items() if t > 0 and v >= warn_ratio * ece.loc[0]), None)
    drop = next((int(t) for t, v in acc.items() if t > 0 and 100 * (acc.loc[0] - v) / acc.loc[0] > drop_pct), None)
    if warn is None or drop is None:
        return ClaimCheck(claim_id, source, statement, f"{low}–{high}", "no warning or no drop in Table 4", None)
    lead = drop - warn
    return ClaimCheck(claim_id, source, statement, f"{low}–{high} iterations", f"{lead} (ECE ≥ {warn_ratio:g}× at iteration "
                      f"{warn}; accuracy > {drop_pct:g}% below iteration 0 at iteration {drop})", low <= lead <= high,
                      "Table 4 is the only table with iterations (one unit: 6.9B, math, 30%)")


def _more_than_fold(claim_id: str, source: str, statement: str, high: tuple[float, float, float],
                    low: tuple[float, float, float], fold: float) -> ClaimCheck:
    """'More than fold× more' for two relative drops: holds when even the smallest ratio within rounding exceeds it."""
    ratio, lo, hi = high[0] / low[0], high[1] / low[2], high[2] / low[1]
    return ClaimCheck(claim_id, source, statement, f"> {fold:g}×", f"{ratio:.1f}× (rounding range {lo:.1f}–{hi:.1f}×)", lo > fold)


def _iteration1_insignificant(t1: pd.DataFrame) -> ClaimCheck:
    """§4.4's 'insignificant 1.2 % drop at iteration 1' against Table 1's cell and significance mark for the same condition."""
    row = t1[(t1.metric == "score") & (t1.task == "math") & np.isclose(t1.share.astype(float), 0.3) & (t1.iteration == 1)].iloc[0]
    starred = str(row.get("marker", "")).strip() == "*"
    holds = abs(float(row.value) - 23.8) <= 1e-9 and not starred
    return ClaimCheck("iter1-insignificant", "§4.4 / Table 1",
                      "at iteration 1 with 30% synthetic, math accuracy falls an insignificant 1.2% (24.1 → 23.8)",
                      "23.8%, not significant", f"Table 1 prints {float(row.value):g}% for the same condition (6.9B, math, 30%, "
                      f"iteration 1){', marked * (significant after Bonferroni)' if starred else ''}", holds,
                      "the text and Table 4 contradict Table 1 (Tables 2 and 3 print Table 1's value)" if not holds else "")


def _scale_robustness(size_drops: dict[str, tuple[float, float, float]], abs_drops: dict[str, float]) -> ClaimCheck:
    """Abstract: 6.9B–12B are more robust than 410M–1.4B, read as relative drops (and what the absolute drops say)."""
    large, small = ("pythia-6.9b", "pythia-12b"), ("pythia-410m", "pythia-1.4b")
    holds = max(size_drops[m][2] for m in large) < min(size_drops[m][1] for m in small)
    pp = {m.removeprefix("EleutherAI/"): v for m, v in abs_drops.items()}
    return ClaimCheck("scale-robustness", "abstract / Table 2", "larger models (6.9B–12B) are more robust than smaller (410M–1.4B)",
                      "more robust", ", ".join(f"{m} {size_drops[m][0]:.1f}%" for m in (*small, *large)), holds,
                      "in absolute terms the larger models lose more: " + ", ".join(f"{m} {pp[m]:.1f} pp" for m in (*small, *large)))


def _run_counts() -> ClaimCheck:
    """§3.5's '~300 runs (180 / 60 / 60)' against the design the same section describes (arithmetic on the text)."""
    counted = {"main": 5 * 6 * 3, "scale": 3 * 3 * 3, "iteration": 2 * 3 * 2 * 3}
    stated = {"main": 180, "scale": 60, "iteration": 60}
    iteration0 = (5 + 3) * 3  # 6.9B on 5 tasks and 3 other sizes on math, 3 seeds each
    holds = all(abs(counted[k] - stated[k]) <= 0.1 * stated[k] for k in stated)
    return ClaimCheck("run-counts", "§3.5 (text only)", "about 300 training runs: 180 main, 60 scale, 60 iteration",
                      "≈ 180 / 60 / 60", " / ".join(str(v) for v in counted.values()) + f" = {sum(counted.values())} "
                      f"({sum(counted.values()) + iteration0} with the {iteration0} iteration-0 fine-tunes)", holds,
                      "5 tasks × 6 shares × 3 seeds; 3 sizes × 3 shares (0, 20, 30%) × 3 seeds; 2 tasks × 3 shares × "
                      "iterations 2–3 × 3 seeds, as §3.5 describes them")


def text_claims(t: dict[str, pd.DataFrame]) -> list[ClaimCheck]:
    """The quantitative claims of the seed's text that its tables can confirm, refute, or cannot settle (holds None)."""
    t1, t2, t3, t4 = t["table1"], t["table2"], t["table3"], t["table4"]
    size_drops = _drops_at(t2, 0.3, "model")
    task_drops = _drops_at(t3, 0.3, "task")
    abs_drops = {m: float(-v) for m, v in zip(t2[t2.metric == "abs_degradation_reported"].model, t2[t2.metric == "abs_degradation_reported"].value)}
    acc = t4[t4.metric == "accuracy"].set_index("iteration")["value"]
    checks = [
        check_relative_range({k: v for k, v in size_drops.items() if k in ("pythia-6.9b", "pythia-12b")}, 8, 15, "larger-8-15",
                             "§1.3 / §6 / Table 2", "beyond 30% synthetic, degradation is 8–15% even in larger models (6.9B–12B)"),
        ClaimCheck("abs-3.1-4.8", "§4.2 / Table 2", "absolute degradation at 30% ranges from 3.1 to 4.8 pp across scales",
                   "3.1–4.8 pp", f"{min(abs_drops.values()):.1f}–{max(abs_drops.values()):.1f} pp",
                   abs(min(abs_drops.values()) - 3.1) <= 0.05 and abs(max(abs_drops.values()) - 4.8) <= 0.05),
        _more_than_fold("two-fold-410m-12b", "§4.2 / Table 2", "410M loses 38% and 12B 16%: a more than two-fold difference",
                        size_drops["pythia-410m"], size_drops["pythia-12b"], 2.0),
        check_fold("four-fold-tasks", "§4.3 / Table 3", "roughly 4× difference in sensitivity between most and least vulnerable tasks",
                   max(task_drops.values()), min(task_drops.values()), 4.0),
        check_relative_range({k: task_drops[k] for k in ("math", "code")}, 20, 22, "math-code-20-22", "§4.3 / §5.3 / Table 3",
                             "mathematical reasoning and code generation degrade 20–22% at 30%"),
        check_relative_range({k: task_drops[k] for k in ("commonsense", "reading")}, 5, 7, "commonsense-reading-5-7", "§4.3 / Table 3",
                             "commonsense reasoning and reading comprehension degrade only 5–7% at 30%"),
        check_hierarchy(t3, ["math", "code", "factual", "reading", "commonsense"], 0.3, "hierarchy-1.3", "§1.3 / Table 3",
                        "sensitivity: math most, then code, factual, reading, commonsense"),
        _iteration1_insignificant(t1),
        ClaimCheck(
            "oc-doubling", "§4.4 (text only)", "the overconfidence gap rises from 0.05 to 0.11, more than doubling", "> 2×",
            f"{0.11 / 0.05:.1f}× from the two printed values", 0.11 / 0.05 > 2, "no table prints the OC gap, so only the arithmetic is checked"),
        ClaimCheck("ece-precision-recall", "§4.4", "ECE increases of 50%+ at t predict a significant drop at t+1 with 91% precision and 87% recall",
                   "91% / 87%", "not recomputable", None,
                   "no table prints ECE and accuracy per unit and iteration with significance; Table 4 is one unit with one event"),
        check_ece_lead(t4, 2, 3, "ece-lead-2-3", "§1.3 / Table 4", "ECE increases 2–3 generations before accuracy drops"),
        check_ece_lead(t4, 1, 2, "ece-lead-1-2", "§6 / Table 4", "calibration degradation precedes accuracy loss by 1–2 iterations"),
    ]
    checks.append(check_drop_range(t1, 0.2, 2, 3, "range-at-20", "at 20% synthetic, drops increase to 2–3% (§4.1)"))
    checks.append(_scale_robustness(size_drops, abs_drops))
    checks.append(_run_counts())
    checks += [
        ClaimCheck("effect-size-10", "§4.1", "at 10% synthetic the effects are negligible (Cohen's d < 0.2)", "d < 0.2",
                   "not recomputable", None, "d needs seed-level values; the tables print means of three seeds only"),
        ClaimCheck("significance-stars", "§4.1 / Table 1", "every task degrades significantly at 30% and 50% (Bonferroni)",
                   "* at 30% and 50%", "not recomputable", None,
                   "the tables print neither seed values, p-values nor the family size, so no test can be rerun"),
    ]
    steps = [(0, 1, 0.3), (1, 2, 2.5), (2, 3, 2.4)]
    for a, b, pp in steps:
        got = acc.loc[a] - acc.loc[b]
        checks.append(ClaimCheck(f"iter-step-{a}-{b}", "§4.5 / Table 4", f"from iteration {a} to {b} accuracy decreases by {pp:g} pp",
                                 f"{pp:g} pp", f"{got:.1f} pp", abs(got - pp) <= 2 * CELL_HALF_UNIT + 1e-9))
    d12, d23 = acc.loc[1] - acc.loc[2], acc.loc[2] - acc.loc[3]
    checks.append(ClaimCheck("rate-stabilises", "§4.5 / Table 4", "the per-iteration loss slows from 1→2 to 2→3 (stabilising, not accelerating)",
                             "slower", f"{d12:.1f} pp then {d23:.1f} pp", None if abs(d12 - d23) <= 4 * CELL_HALF_UNIT else d23 < d12,
                             "the difference is within the rounding of the printed cells (±0.2 pp)"))
    for model in ("EleutherAI/pythia-410m", "EleutherAI/pythia-1.4b", "EleutherAI/pythia-12b"):
        y0, y3 = (_cell(t2, metric="score", model=model, share=sh) for sh in (0.0, 0.3))
        linear = 0.3 * 10 / (100 * (y0 - y3) / y0)
        printed = _cell(t["section4_2_safe_shares"], metric="safe_share", model=model)
        checks.append(ClaimCheck(f"safe-share-unprinted:{model}", "§4.2 / Table 2",
                                 f"{model.removeprefix('EleutherAI/')} is safe up to about {printed:g}%", f"{printed:g}%",
                                 f"{100 * linear:.1f}% if linear between the printed 0% and 30% cells", None,
                                 "only 0% and 30% are printed for this size; the safe share depends on the unprinted curve"))
    return checks


def audit_table(table: pd.DataFrame) -> list[ClaimCheck]:
    """The generic checks one tidy table supports on its own (printed drops and ranks)."""
    return check_relative_drops(table) + check_absolute_drops(table) + check_ranking(table)


SEED_TABLES = ("table1", "table2", "table3", "table4", "section4_2_safe_shares")


def load_seed_tables(folder: Path | None = None) -> dict[str, pd.DataFrame]:
    """The seed paper's transcribed tables by file stem."""
    base = folder or published_dir()
    return {name: read_tidy_table(base / f"{name}.csv") for name in SEED_TABLES}


def _table_files(paths: Sequence[Path]) -> list[Path]:
    """The table files named by paths: a file as given, a folder as its CSV and Parquet files."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted([*p.glob("*.csv"), *p.glob("*.parquet")])
            if not found:
                raise DataError(f"{p}: folder holds no .csv or .parquet table; pass tidy tables or a folder of them")
            files += found
        else:
            files.append(p)
    return files


def read_claim_tables(paths: Sequence[Path]) -> dict[str, pd.DataFrame]:
    """Tidy tables by file stem, each row's `source` defaulting to its file name (stems must be unique)."""
    tables: dict[str, pd.DataFrame] = {}
    for f in _table_files(paths):
        if f.stem in tables:
            raise DataError(f"{f}: a second table named {f.stem!r}; table names (file stems) must be unique")
        t = read_tidy_table(f)
        src = t["source"].astype(str).str.strip() if "source" in t else pd.Series("", index=t.index)
        tables[f.stem] = t.assign(source=src.where(src != "", f.name))
    return tables


def audit_tables(tables: dict[str, pd.DataFrame]) -> list[ClaimCheck]:
    """Every claim the tables support: the seed's text and tables when all five seed tables are given, else the generic checks."""
    if set(SEED_TABLES) <= set(tables):
        return audit_seed({n: tables[n] for n in SEED_TABLES})
    checks = [c for t in tables.values() for c in audit_table(t)]
    if len(tables) >= 2:
        checks += check_cross_table_agreement(list(tables.values()))
    for t in tables.values():
        if {"safe_share", "formula_intercept", "formula_slope", "formula_r2"} <= set(t["metric"]):
            checks += check_safe_share_formula(t)
    return checks


def audit_paths(paths: Sequence[Path] = ()) -> list[ClaimCheck]:
    """`synthmix audit`: the claims of the given tables (files or folders), by default the seed's transcribed tables."""
    return audit_tables(read_claim_tables(paths) if paths else load_seed_tables())


def audit_seed(tables: dict[str, pd.DataFrame] | None = None) -> list[ClaimCheck]:
    """Every checkable claim of the seed paper, recomputed from its own Tables 1–4 and section 4.2."""
    t = tables or load_seed_tables()
    t1, t4, safe = t["table1"], t["table4"], t["section4_2_safe_shares"]
    acc = lambda it: _cell(t4, metric="accuracy", iteration=it)  # noqa: E731
    ece = lambda it: _cell(t4, metric="ece", iteration=it)  # noqa: E731
    checks = audit_table(t["table2"]) + audit_table(t["table3"])
    checks += check_cross_table_agreement([t1, t["table2"], t["table3"], t4])
    checks += check_safe_share_formula(safe)
    checks.append(check_safe_share_against_curve(safe, t1, "EleutherAI/pythia-6.9b", "math"))
    checks.append(check_max_drop_up_to(t1, 0.1, 2, "within-2pct-at-10", "at 10% synthetic every task drops by less than 2% (§4.1)"))
    checks.append(check_max_drop_up_to(t1, 0.2, 3, "within-3pct-to-20", "performance stays within 3% of baseline up to 20% synthetic (§1.3, §6)"))
    checks.append(check_drop_range(t1, 0.3, 5, 20, "range-at-30", "at 30% drops range from 5% (reading) to 20% (math) (§4.1)"))
    checks.append(check_drop_range(t1, 0.5, 15, 41, "range-at-50", "at 50% losses are 15–41% depending on task (§4.1)"))
    checks += check_inflection(t1, 0.20, 0.25, (0.1, 0.2), (0.4, 0.8))
    s410, s12 = _cell(safe, metric="safe_share", model="EleutherAI/pythia-410m"), _cell(safe, metric="safe_share", model="EleutherAI/pythia-12b")
    checks.append(ClaimCheck("twice-share", "§1.3 / §4.2", "12B tolerates about twice the synthetic share of 410M",
                             "≈ 2×", f"{s12:g}% / {s410:g}% = {s12 / s410:.2f}×", abs(s12 / s410 - 2) <= 0.25))
    checks.append(check_ratio("ece-75", "§4.4 / Table 4", "ECE rises 75% at iteration 1 (0.08 → 0.14)", ece(1), ece(0), 75))
    checks.append(check_ratio("acc-1.2", "§4.4 / Table 4", "accuracy falls an insignificant 1.2% at iteration 1", acc(1), acc(0), -1.2, 0.1))
    checks.append(check_ratio("acc-10.5", "§4.4 / Table 4", "accuracy drops 10.5% at iteration 2 (relative to iteration 1)", acc(2), acc(1), -10.5, 0.1))
    return checks + text_claims(t)
