"""The report's tables (the seed's Tables 1–4, fits, early warning, pools) as tidy frames, computed from the results DB.

Every table is a ``ReportTable``: a tidy ``data`` frame (exported as CSV, every number as stored or
computed) and a ``display`` frame of formatted cells (exported as Markdown, LaTeX booktabs and HTML).
A table the study cannot support is an ``Omitted`` with the reason, never an exception. Statistics
come from ``synthmix.analysis``; this module only groups, calls and formats.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthmix.analysis.comparisons import compare_cells, curve_safe_shares, power_by_family
from synthmix.analysis.fits import (
    fit_breakpoint,
    fit_polynomial_share,
    fit_power_law,
    fit_safe_share,
    fit_support,
)
from synthmix.config import AnalysisSettings
from synthmix.errors import DataError
from synthmix.metrics.registry import metric_info
from synthmix.plan import CONDITION_COLUMNS

CELL = ["model", "task", "regime", "iteration", "share"]  # a condition without its seed
FAMILY = ["model", "iteration", "regime"]  # docs/architecture.md: one table = one model × iteration (× regime) across tasks
REFERENCE_SHARE = 0.3  # the seed's Tables 2 and 3 compare at 30 % synthetic data
LOW_PARSE_RATE = 0.5
CORRECTION_NAMES = {"bonferroni": "Bonferroni", "holm": "Holm", "bh": "Benjamini–Hochberg (FDR)"}


@dataclass
class StudyFrames:
    """The results database as pandas frames, plus recorded failures (artifact id → error)."""

    runs: pd.DataFrame
    scores: pd.DataFrame
    examples: pd.DataFrame
    samples: pd.DataFrame
    mixes: pd.DataFrame
    artifacts: pd.DataFrame
    failures: dict[str, str] = field(default_factory=dict)
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)

    def metric(self, name: str) -> pd.DataFrame:
        """Rows of one metric: condition columns and ``value``."""
        s = self.scores
        return s.loc[s["metric"] == name, [*CONDITION_COLUMNS, "value"]].reset_index(drop=True)

    def has_metric(self, name: str) -> bool:
        """Whether any condition has a value of this metric."""
        return bool((self.scores["metric"] == name).any())


@dataclass
class ReportTable:
    """A table: tidy data for CSV, formatted cells for Markdown/LaTeX/HTML, a caption and notes."""

    key: str
    title: str
    caption: str
    data: pd.DataFrame
    display: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass
class Omitted:
    """A table or figure the study cannot support, with the reason."""

    key: str
    title: str
    reason: str


def load_frames(study: Any) -> StudyFrames:
    """Read every results table of a study's database (read-only use)."""
    from synthmix.driver import open_db

    db = open_db(study)
    try:
        frames = {t: db.frame(t) for t in ("runs", "scores", "examples", "samples", "mixes", "artifacts")}
        failures = db.failed()
    finally:
        db.close()
    return StudyFrames(**frames, failures=failures, settings=study.analysis)


# ---------------------------------------------------------------- condition status and cell summaries


def condition_status(frames: StudyFrames, metric: str = "score") -> pd.DataFrame:
    """Every planned or scored condition with its status: done, failed, skipped, pending or missing."""
    runs = frames.runs
    planned = runs.loc[runs["role"] == "evaluate", [*CONDITION_COLUMNS, "status", "artifact_id"]] if not runs.empty else None
    scored = frames.metric(metric)[list(CONDITION_COLUMNS)].assign(scored=True)
    if planned is None or planned.empty:
        out = scored.assign(status="done", artifact_id=None)
    else:
        out = planned.merge(scored, on=list(CONDITION_COLUMNS), how="outer")
    out["scored"] = out["scored"].fillna(False).astype(bool)
    out["status"] = np.where(out["scored"], "done", out["status"].fillna("missing").replace({"done": "missing", "running": "pending"}))
    return out.drop(columns="scored").sort_values(list(CONDITION_COLUMNS)).reset_index(drop=True)


def cell_summary(frames: StudyFrames, metric: str = "score") -> pd.DataFrame:
    """One row per (model, task, regime, iteration, share): the engine's numbers (``compare_cells``) for ``metric``
    plus each cell's planned seeds and state (done, partial, failed, skipped, pending, missing)."""
    status = condition_status(frames, metric)
    if status.empty:
        return pd.DataFrame()
    state = status.groupby(CELL, sort=True)["status"].agg(
        n_planned="size", n_done=lambda st: int((st == "done").sum()),
        state=lambda st: "done" if (st == "done").all() else
        ("partial" if (st == "done").any() else st.loc[st != "done"].iloc[0])).reset_index()
    scores = frames.scores.loc[frames.scores["metric"] == metric]
    engine = compare_cells(scores, frames.examples, frames.settings).drop(columns="metric")
    cells = state.merge(engine.astype({c: state[c].dtype for c in CELL}), on=CELL, how="left").drop(columns="n_done")
    cells["metric"] = metric
    cells["n_seeds"] = cells["n_seeds"].fillna(0).astype(int)
    for col in ("interval", "test", "label", "verdict"):
        cells[col] = cells[col].fillna("")
    cells["family_m"] = cells["family_m"].fillna(0).astype(int)
    cells["significant"] = cells["significant"].astype("boolean").fillna(False).astype(bool)
    cells["equivalent"] = cells["equivalent"].astype("boolean").fillna(False).astype(bool)
    return cells


# ---------------------------------------------------------------- formatting helpers


def fmt(x: float, digits: int = 3) -> str:
    """A number as the report prints it (fixed decimals), or an em dash when undefined."""
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def fmt_pct(x: float, digits: int = 1) -> str:
    """A fraction as a signed percentage."""
    return "—" if x is None or not np.isfinite(x) else f"{100 * x:+.{digits}f}%"


def share_label(share: float) -> str:
    """A share as a column header: 0.3 → '30%'."""
    return f"{100 * share:g}%"


STATE_MARKS = {"failed": "✗ failed", "skipped": "✗ skipped (upstream failed)", "pending": "… pending",
               "missing": "… missing"}


def format_cell(c: pd.Series) -> str:
    """'0.583 [0.561, 0.602]*' for a done cell; a mark for a failed or missing one; seeds done noted when partial."""
    if not np.isfinite(c["mean"]):
        return STATE_MARKS.get(c["state"], c["state"])
    text = fmt(c["mean"])
    if np.isfinite(c["low"]):
        text += f" [{fmt(c['low'])}, {fmt(c['high'])}]"
    if c.get("significant", False):
        text += "*"
    if c["state"] == "partial":
        text += f" ({c['n_seeds']}/{c['n_planned']} seeds)"
    return text


def _seed_note(cells: pd.DataFrame) -> str:
    """How the intervals were obtained, from the number of seeds."""
    intervals = sorted({i for i in cells["interval"] if isinstance(i, str) and i})
    return "Intervals: " + "; ".join(intervals) + "." if intervals else "No intervals (single values)."


# ---------------------------------------------------------------- Table 1


def family_text(cells: pd.DataFrame) -> str:
    """The families exactly: what each holds (model × iteration × regime, its tasks and shares) and its size m."""
    tested = cells.loc[cells["family_m"] > 0] if "family_m" in cells else cells.iloc[0:0]
    tested = tested.loc[tested["share"] > 0]
    parts = []
    for (model, it, regime), fam in tested.groupby(FAMILY):
        tasks = ", ".join(sorted(map(str, fam["task"].unique())))
        shares = ", ".join(share_label(x) for x in sorted(fam["share"].unique()))
        parts.append(f"{model}, t={it}, {regime}: {tasks} × {shares} vs 0 % (m={int(fam['family_m'].iloc[0])})")
    return "; ".join(parts) or "none (no testable comparisons)"


def correction_name(cells: pd.DataFrame) -> str:
    """The multiplicity correction the engine applied, as the report names it."""
    used = cells["correction"].dropna().unique() if "correction" in cells else []
    return CORRECTION_NAMES.get(str(used[0]), str(used[0])) if len(used) else CORRECTION_NAMES["bonferroni"]


def table_performance(cells: pd.DataFrame, metric: str = "score", alpha: float = 0.05) -> ReportTable | Omitted:
    """Table 1: performance × share per task with the engine's intervals and family-corrected significance marks."""
    if cells.empty:
        return Omitted("table1", "Table 1: performance × share", "no scored or planned conditions in the database")
    display = cells.assign(cell=cells.apply(format_cell, axis=1), share_col=cells["share"].map(share_label))
    order = [share_label(s) for s in sorted(cells["share"].unique())]
    wide = display.pivot_table(index=["model", "iteration", "regime", "task"], columns="share_col", values="cell",
                               aggfunc="first").reindex(columns=order).fillna("—").reset_index()
    wide.columns.name = None
    caption = (f"Primary metric ({metric}: {metric_info(metric).meaning}) per task and synthetic share: seed mean "
               "[95 % t interval over seeds, or over "
               "test examples where a cell has one seed (see the note)]. "
               f"* = differs from the 0 % arm of the same model, task, regime and iteration (paired t-test on seed "
               f"means; exact McNemar or permutation test on examples with one seed) at adjusted p < {alpha:g}, "
               f"{correction_name(cells)} within each family. Families: {family_text(cells)}.")
    return ReportTable("table1", "Table 1: performance × synthetic share", caption, cells, wide, [_seed_note(cells)])


# ---------------------------------------------------------------- Tables 2 and 3


def reference_share(shares: list[float]) -> float | None:
    """The share Tables 2 and 3 compare at: 30 % when the study has it, else its largest non-zero share."""
    nonzero = sorted(s for s in shares if s > 0)
    if not nonzero:
        return None
    return REFERENCE_SHARE if REFERENCE_SHARE in nonzero else nonzero[-1]


def model_sizes(frames: StudyFrames) -> dict[str, float]:
    """Model name → parameter count (the ``n_params`` metric of its fine-tunes)."""
    n = frames.metric("n_params")
    return {str(m): float(g["value"].max()) for m, g in n.groupby("model")}


def _safe_text(row: pd.Series, top: float) -> str:
    """'0.23 [0.18, 0.31]' or '> 0.50'; an upper bound at the largest share is written '> max'."""
    if not np.isfinite(row["safe_share"]):
        return "—"
    point = ("> " if row["safe_censored"] else "") + fmt(row["safe_share"], 2)
    if not np.isfinite(row["safe_low"]):
        return point + " (no CI: one seed)"
    high = f"> {fmt(top, 2)}" if row["safe_high"] >= top else fmt(row["safe_high"], 2)
    return f"{point} [{fmt(row['safe_low'], 2)}, {high}]"


def table_tolerance(cells: pd.DataFrame, sizes: dict[str, float], safe: pd.DataFrame | None = None) -> ReportTable | Omitted:
    """Table 2: tolerance by model size at the reference share: change with its test, safe share with its CI, and
    the largest share shown equivalent to 0 % (TOST) — from the engine's ``compare_cells`` and ``curve_safe_shares``."""
    title = "Table 2: synthetic-data tolerance by model size"
    ref = reference_share(list(cells["share"].unique())) if not cells.empty else None
    if ref is None:
        return Omitted("table2", title, "no non-zero share in the study")
    key = ["model", "task", "regime", "iteration"]
    at = cells.loc[(cells["share"] == ref) & np.isfinite(cells["mean"].astype(float))]
    at = at.loc[at.groupby(["task", "regime", "iteration"])["model"].transform("nunique") >= 2]
    if at.empty:
        return Omitted("table2", title, "needs at least two model sizes on the same task, regime and iteration; "
                                        f"this study has {cells['model'].nunique()} model(s) per task")
    data = at[[*key, "share", "baseline", "mean", "difference", "relative_change", "degradation", "p_adjusted",
               "significant", "verdict", "d_z", "d_z_low", "d_z_high", "d_pooled"]].rename(columns={"mean": "score"})
    data = data.assign(n_params=data["model"].map(sizes).astype(float))
    empty = pd.DataFrame(columns=[*key, "safe_share", "safe_censored", "safe_low", "safe_high", "equivalent_up_to"])
    data = data.merge(safe if safe is not None and not safe.empty else empty, on=key, how="left")
    data = data.sort_values(["task", "regime", "iteration", "n_params"]).reset_index(drop=True)
    top = float(cells["share"].max())
    display = pd.DataFrame({
        "task": data["task"], "iteration": data["iteration"], "regime": data["regime"], "model": data["model"],
        "parameters": data["n_params"].map(lambda n: "—" if not np.isfinite(n) else f"{n:,.0f}"),
        "0%": data["baseline"].map(fmt), share_label(ref): data["score"].map(fmt) + data["significant"].map(lambda s: "*" if s else ""),
        "abs. change": data["difference"].map(fmt), "rel. change": data["relative_change"].map(fmt_pct),
        "verdict": data["verdict"].fillna(""),
        "d_z [95% CI]": [f"{fmt(d, 2)} [{fmt(lo, 2)}, {fmt(hi, 2)}]" if np.isfinite(d) else "—"
                         for d, lo, hi in zip(data["d_z"], data["d_z_low"], data["d_z_high"], strict=True)],
        "pooled d": data["d_pooled"].map(lambda d: fmt(d, 2)),
        "safe share [95% CI]": [_safe_text(r, top) for _, r in data.iterrows()],
        "equivalent up to": data["equivalent_up_to"].map(lambda v: "—" if pd.isna(v) else ("none" if v == 0 else share_label(v))),
    })
    caption = (f"At {share_label(ref)} synthetic data. Relative change = (y_p − y_0)/y_0; * and the verdict come from the "
               "Table 1 test. d_z = mean paired difference / its SD (95 % CI by the noncentral t); pooled d = difference of "
               "the arm means / their pooled SD. Safe share = largest share with < 10 % relative degradation of the seed-mean curve, "
               "interpolated ('>' = never crossed), with a 95 % CI from resampling seeds. Equivalent up to = the largest "
               "share up to which every share is equivalent to the 0 % arm by TOST within the declared margin.")
    return ReportTable("table2", title, caption, data, display)


def table_sensitivity(cells: pd.DataFrame) -> ReportTable | Omitted:
    """Table 3: tasks ordered by relative change at the reference share (rank 1 = largest drop; point estimates)."""
    title = "Table 3: task sensitivity ranking"
    ref = reference_share(list(cells["share"].unique())) if not cells.empty else None
    if ref is None:
        return Omitted("table3", title, "no non-zero share in the study")
    at = cells.loc[(cells["share"] == ref) & np.isfinite(cells["relative_change"].astype(float))]
    if at.empty or at.groupby(FAMILY)["task"].nunique().max() < 2:
        return Omitted("table3", title, f"needs at least two tasks scored at {share_label(ref)} and at 0 % "
                                        "for the same model, iteration and regime")
    parts = []
    for _, g in at.groupby(FAMILY):
        g = g.sort_values("relative_change").assign(rank=range(1, len(g) + 1))
        parts.append(g)
    data = pd.concat(parts)[[*FAMILY, "task", "share", "baseline", "mean", "difference", "relative_change",
                             "significant", "rank"]]
    data = data.rename(columns={"mean": "score"}).reset_index(drop=True)
    display = pd.DataFrame({
        "model": data["model"], "iteration": data["iteration"], "regime": data["regime"], "rank": data["rank"],
        "task": data["task"], "0%": data["baseline"].map(fmt),
        share_label(ref): data["score"].map(fmt) + data["significant"].map(lambda s: "*" if s else ""),
        "rel. change": data["relative_change"].map(fmt_pct),
    })
    caption = (f"Tasks ordered by relative change at {share_label(ref)} synthetic data (rank 1 = largest drop). The "
               "order is of point estimates: no test says one task degrades more than another.")
    return ReportTable("table3", title, caption, data, display)


def table_power(cells: pd.DataFrame, alpha: float = 0.05) -> ReportTable | Omitted:
    """The power table: per family, its size m, seeds, and the minimum detectable relative effect at 80 % power."""
    title = "Power: minimum detectable effect per family"
    data = power_by_family(cells.assign(metric=cells.get("metric", "score"))) if "pvalue" in cells else pd.DataFrame()
    if data.empty:
        return Omitted("power", title, "no comparison was tested (needs ≥ 2 paired seeds, or per-example rows)")
    display = pd.DataFrame({
        "model": data["model"], "iteration": data["iteration"], "regime": data["regime"], "metric": data["metric"],
        "m": data["family_m"], "pairs": data["n_pairs"], "inference": data["label"],
        "MDE (relative), median [min, max]": [f"{fmt_pct(md).lstrip('+')} [{fmt_pct(lo).lstrip('+')}, {fmt_pct(hi).lstrip('+')}]"
                                             for md, lo, hi in zip(data["mde_relative_median"], data["mde_relative_min"],
                                                                   data["mde_relative_max"], strict=True)],
        "significant": data["n_significant"], "equivalent": data["n_equivalent"], "inconclusive": data["n_inconclusive"],
    })
    caption = (f"The smallest true change (relative to the 0 % arm) each comparison's paired t-test detects with 80 % "
               f"power at the family's level alpha/m (alpha = {alpha:g}), from the observed SD of the paired differences. "
               "A comparison that is neither significant nor equivalent is inconclusive: changes smaller than its MDE "
               "cannot be told from none.")
    return ReportTable("power", title, caption, data, display)


# ---------------------------------------------------------------- Table 4


def table_iterations(frames: StudyFrames) -> ReportTable | Omitted:
    """Table 4: accuracy, ECE and diversity (1 − Self-BLEU) across iterations per model × task × share × regime."""
    title = "Table 4: evolution across iterations"
    wide = _seed_means(frames, ["score", "ece", "self_bleu"])
    if wide.empty or wide.groupby(["model", "task", "regime", "share"])["iteration"].nunique().max() < 2:
        return Omitted("table4", title, "needs a condition measured at two or more iterations")
    if "self_bleu" in wide:
        wide["diversity"] = 1 - wide["self_bleu"]
    cols = [c for c in ("score", "ece", "diversity") if c in wide]
    data = wide[["model", "task", "regime", "share", "iteration", *cols]].sort_values(
        ["model", "task", "regime", "share", "iteration"]).reset_index(drop=True)
    display = data.copy()
    display["share"] = display["share"].map(share_label)
    for c in cols:
        display[c] = data[c].map(fmt)
    display = display.rename(columns={"score": "score", "ece": "ECE", "diversity": "1 − Self-BLEU"})
    caption = ("Seed means per iteration (iteration 0 = external data only). ECE: 10 equal-width bins; "
               "diversity: 1 − Self-BLEU of the evaluation outputs.")
    return ReportTable("table4", title, caption, data, display)


def _seed_means(frames: StudyFrames, metrics: list[str]) -> pd.DataFrame:
    """Seed means of some metrics, one column each, per (model, task, regime, share, iteration)."""
    s = frames.scores.loc[frames.scores["metric"].isin(metrics)]
    if s.empty:
        return pd.DataFrame()
    out = s.groupby([*CELL, "metric"])["value"].mean().unstack("metric").reset_index()
    out.columns.name = None
    return out


# ---------------------------------------------------------------- fits


def _omitted_fit(fit: str, over: str, key: dict[str, Any], why: str) -> dict[str, Any]:
    """A fits-table row that says why a fit is not reported (instead of a fit through too few points)."""
    return dict(fit=fit, over=over, **key, estimate=math.nan, low=math.nan, high=math.nan, r2=math.nan, a=math.nan,
                detail="", omitted=why)


def _share_curve_fits(key: tuple, g: pd.DataFrame) -> list[dict[str, Any]]:
    """Breakpoint and cubic fits of one score-vs-share curve of seed means, or rows saying why not."""
    label = "/".join(map(str, key))
    ids = dict(zip(["model", "task", "regime", "iteration"], key, strict=True))
    xs, ys = g["share"].to_numpy(float), g["mean"].to_numpy(float)
    rows = []
    why = fit_support(np.unique(xs).size, 4, ys)
    if why:
        rows.append(_omitted_fit("breakpoint", label, ids, why))
    else:
        bp = fit_breakpoint(xs, ys, n_resamples=200)
        ci = bp.breakpoint_ci
        rows.append(dict(fit="breakpoint", over=label, **ids, estimate=bp.breakpoint, low=ci.low if ci else math.nan,
                         high=ci.high if ci else math.nan, r2=math.nan, a=math.nan, omitted="",
                         detail=f"slope below {bp.slope_below:.3f}, above {bp.slope_above:.3f} per unit share"))
    why = fit_support(np.unique(xs).size, 4, ys)
    if why:
        rows.append(_omitted_fit("polynomial (degree 3)", label, ids, why))
    else:
        poly = fit_polynomial_share(xs, ys, degree=3)
        rows.append(dict(fit="polynomial (degree 3)", over=label, **ids, low=math.nan, high=math.nan, r2=poly.r2,
                         estimate=poly.inflection if poly.inflection is not None else math.nan, a=math.nan, omitted="",
                         detail="inflection at share" if poly.inflection is not None else "no inflection inside the share range"))
    return rows


def fit_rows(cells: pd.DataFrame, sizes: dict[str, float], safe: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every fit the study's curves could carry; a fit its points cannot support is a row with the reason (``omitted``)."""
    rows: list[dict[str, Any]] = []
    reasons: list[str] = []
    done = cells.loc[np.isfinite(cells["mean"].astype(float))] if not cells.empty else cells
    for key, g in (done.groupby(["model", "task", "regime", "iteration"]) if not done.empty else []):
        if g["share"].nunique() > 1:
            rows += _share_curve_fits(key, g)
    _size_fits(cells, sizes, safe, rows, reasons)
    return pd.DataFrame(rows), reasons


def _size_fits(cells: pd.DataFrame, sizes: dict[str, float], safe: pd.DataFrame | None,
               rows: list[dict[str, Any]], reasons: list[str]) -> None:
    """Power law of relative degradation and the safe-share line across model sizes, or rows saying why not."""
    if cells.empty or cells["model"].nunique() < 2:
        reasons.append(f"size fits (power law, safe share vs size) need ≥ 3 model sizes (has "
                       f"{0 if cells.empty else cells['model'].nunique()})")
        return
    for key, grp in cells.groupby(["task", "regime", "iteration"]):
        label = "/".join(map(str, key))
        ids = dict(zip(["task", "regime", "iteration"], key, strict=True))
        ref = reference_share(list(grp["share"].unique()))
        if ref is None:
            continue
        at = grp.loc[(grp["share"] == ref) & np.isfinite(grp["relative_change"].astype(float))]
        at = at.assign(n=at["model"].map(sizes)).dropna(subset=["n"])
        drops = at.loc[at["relative_change"] < 0]
        over = f"{label} at {share_label(ref)}"
        why = fit_support(drops["n"].nunique(), 2, np.log(-drops["relative_change"].to_numpy(float)) if len(drops) else None)
        if why:
            rows.append(_omitted_fit("power law", over, ids, f"{why}; sizes with a drop at {share_label(ref)}: {len(drops)}"))
        else:
            pl = fit_power_law(drops["n"].to_numpy(float), -drops["relative_change"].to_numpy(float))
            ci = pl.alpha_ci
            rows.append(dict(fit="power law", over=over, **ids, estimate=pl.alpha, low=ci.low if ci else math.nan,
                             high=ci.high if ci else math.nan, r2=pl.r2, a=pl.a, omitted="",
                             detail=f"relative drop = {pl.a:.3g}·N^α (exponent α shown)"))
        curves = safe.loc[np.logical_and.reduce([safe[c] == v for c, v in ids.items()])] if safe is not None and not safe.empty else pd.DataFrame()
        curves = curves.assign(n=curves["model"].map(sizes)).dropna(subset=["n"]) if not curves.empty else curves
        censored = bool(curves["safe_censored"].any()) if not curves.empty else False
        ys = curves["safe_share"].to_numpy(float) if not curves.empty else None
        why = fit_support(curves["n"].nunique() if not curves.empty else 0, 2, ys, censored)
        if why:
            rows.append(_omitted_fit("safe share vs size", label, ids, why))
        else:
            fit = fit_safe_share(curves["n"].to_numpy(float), ys)
            rows.append(dict(fit="safe share vs size", over=label, **ids, estimate=fit.b,
                             low=fit.b_ci.low if fit.b_ci else math.nan, high=fit.b_ci.high if fit.b_ci else math.nan,
                             r2=fit.r2, a=fit.a, omitted="", detail=f"safe share = {fit.a:.3f} + b·log10(N/1e9) (slope b shown)"))


def table_fits(cells: pd.DataFrame, sizes: dict[str, float], safe: pd.DataFrame | None = None) -> ReportTable | Omitted:
    """The fits table (breakpoint, polynomial inflection, power law, safe-share line) with CIs and R², and an
    "omitted: why" row for every fit its points cannot support."""
    data, reasons = fit_rows(cells, sizes, safe)
    if data.empty:
        return Omitted("fits", "Fits", "; ".join(reasons) or "no curves to fit")
    fitted = data["omitted"] == ""
    display = pd.DataFrame({
        "fit": data["fit"], "over": data["over"],
        "estimate": [fmt(e) if ok else f"omitted: {why}" for e, ok, why in zip(data["estimate"], fitted, data["omitted"], strict=True)],
        "95% CI": [f"[{fmt(lo)}, {fmt(hi)}]" if np.isfinite(lo) else "—" for lo, hi in zip(data["low"], data["high"], strict=True)],
        "R²": data["r2"].map(fmt), "what": data["detail"],
    })
    caption = ("Fits on seed-level means. A fit needs one point more than its parameters (breakpoint and cubic: 4; "
               "power law and safe-share line: 2), uncensored values and variance; otherwise its row says why it is omitted.")
    return ReportTable("fits", "Fits across share and size", caption, data, display, reasons)


# ---------------------------------------------------------------- pools




def table_pools(frames: StudyFrames) -> ReportTable | Omitted:
    """Every synthetic pool: samples written, parsed, verified, duplicates and test overlap; effective shares of the mixes."""
    title = "Synthetic pools"
    s = frames.samples
    if s.empty:
        return Omitted("pools", title, "no synthetic samples in the database (no generate step finished)")
    rows = []
    for aid, g in s.groupby("artifact_id", sort=False):
        first = g.iloc[0]
        parsed = g.loc[g["parsed_ok"] == 1]
        verified = g["verified"].dropna()
        rows.append(dict(artifact_id=aid, model=first["model"], task=first["task"], iteration=first["iteration"],
                         seed=first["seed"], regime=first["regime"], n_samples=len(g), n_parsed=len(parsed),
                         parse_rate=len(parsed) / len(g),
                         verified_rate=float(verified.mean()) if len(verified) else math.nan,
                         duplicate_rate=float(parsed["text"].duplicated().mean()) if len(parsed) else math.nan))
    data = pd.DataFrame(rows)
    for metric in ("ngram_overlap", "test_matches"):
        rows = frames.scores.loc[frames.scores["metric"] == metric]
        if not rows.empty:
            per_pool = rows.groupby(["model", "task", "seed"])["value"].max().rename(metric).reset_index()
            data = data.merge(per_pool, on=["model", "task", "seed"], how="left")
    display = pd.DataFrame({
        "pool": data["artifact_id"].str[:12], "model": data["model"], "task": data["task"],
        "for iteration": data["iteration"].map(lambda t: "—" if pd.isna(t) else str(int(t))),
        "seed": data["seed"], "samples": data["n_samples"], "parsed": data["n_parsed"],
        "parse rate": data["parse_rate"].map(fmt), "verified": data["verified_rate"].map(fmt),
        "duplicates": data["duplicate_rate"].map(fmt),
    })
    if "ngram_overlap" in data:
        display["4-gram overlap with external data"] = data["ngram_overlap"].map(fmt)
    if "test_matches" in data:
        display["test items written"] = data["test_matches"].map(lambda v: "—" if pd.isna(v) else str(int(v)))
    notes = []
    if not frames.mixes.empty:
        m = frames.mixes
        notes.append("Effective share of the mixes (by examples / by tokens): " + "; ".join(
            f"{r.task} {share_label(r.share)} t={r.iteration}: {fmt(r.share_examples)} / {fmt(r.share_tokens)}"
            for r in m.drop_duplicates(["task", "share", "iteration"]).itertuples()))
    caption = ("Duplicates = fraction of parsed samples whose text repeats an earlier one; 4-gram overlap = share of "
               "the pool's 4-grams that occur in the external training data; test items written = samples equal to an "
               "eval item by normalised hash (kept in the samples table, never put in the pool). Unparseable samples are "
               "stored and counted, never dropped from the share silently.")
    return ReportTable("pools", title, caption, data, display, notes)


# ---------------------------------------------------------------- assembly and export


def table_trivial_baselines(frames: StudyFrames, baselines: dict[str, Any]) -> ReportTable | Omitted:
    """Iteration-0 models against their task's strongest trivial baseline, with paired two-level bootstrap CIs."""
    from synthmix.analysis.trivial_baselines import compare_to_baselines

    title = "Iteration-0 models against trivial baselines"
    if not baselines:
        return Omitted("baselines", title, "no task of this study has a trivial baseline (only the mini tasks do)")
    try:
        data = compare_to_baselines(frames.examples, baselines) if not frames.examples.empty else pd.DataFrame()
    except DataError as e:
        return Omitted("baselines", title, str(e))
    if data.empty:
        return Omitted("baselines", title, "no iteration-0 per-example rows in the database yet")
    sizes = model_sizes(frames)
    data = data.assign(n_params=data["model"].map(sizes)).sort_values(["task", "n_params", "model"])
    display = pd.DataFrame({
        "task": data["task"], "model": data["model"], "seeds": data["n_seeds"], "examples": data["n_examples"],
        "score": data["score"].map(fmt), "baseline": data["baseline"], "baseline score": data["baseline_score"].map(fmt),
        "difference [95% CI]": [f"{fmt(d)} [{fmt(lo)}, {fmt(hi)}]" for d, lo, hi
                                in zip(data["difference"], data["ci_low"], data["ci_high"], strict=True)],
        "beats baseline": data["beats"].map({True: "yes", False: "NO"}),
    })
    caption = ("Each iteration-0 model's mean score against the best trivial predictor of its task (majority label, "
               "answer-position prior, last number in the question, copy-span heuristic, …) on the same eval examples. "
               "The CI of the paired difference resamples training seeds, then examples (two-level bootstrap); "
               "\"beats\" means its lower end is above zero.")
    notes = [] if data["n_seeds"].min() >= 2 else ["With one seed the CI reflects test-set noise only."]
    return ReportTable("baselines", title, caption, data.drop(columns=["n_params"]), display.reset_index(drop=True), notes)


def build_tables(frames: StudyFrames, baselines: dict[str, Any] | None = None) -> tuple[list[ReportTable], list[Omitted], pd.DataFrame]:
    """All report tables (and the omitted ones with reasons), plus the cell summary the findings and figures use.

    ``baselines`` (task → strongest trivial baseline, from ``analysis.trivial_baselines.study_baselines``) adds
    the table of iteration-0 models against them. Every comparison number comes from ``analysis.comparisons``.
    """
    cells = cell_summary(frames)
    sizes = model_sizes(frames)
    safe = safe_shares(frames, cells)
    alpha = frames.settings.alpha
    built = [table_performance(cells, alpha=alpha), table_tolerance(cells, sizes, safe) if not cells.empty else None,
             table_sensitivity(cells) if not cells.empty else None, table_power(cells, alpha) if not cells.empty else None,
             table_iterations(frames), table_fits(cells, sizes, safe), table_pools(frames)]
    if baselines is not None:
        built.append(table_trivial_baselines(frames, baselines))
    tables = [t for t in built if isinstance(t, ReportTable)]
    omitted = [t for t in built if isinstance(t, Omitted)]
    return tables, omitted, cells


def safe_shares(frames: StudyFrames, cells: pd.DataFrame) -> pd.DataFrame:
    """The engine's safe shares (with seed-bootstrap CIs) and TOST-equivalent shares of the primary metric."""
    scores = frames.scores.loc[frames.scores["metric"] == "score"]
    if cells.empty or scores.empty or "equivalent" not in cells:
        return pd.DataFrame()
    return curve_safe_shares(scores, cells.loc[np.isfinite(cells["mean"].astype(float))], frames.settings)


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of formatted cells."""
    cols = [str(c) for c in df.columns]
    esc = lambda v: str(v).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, cols)) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters."""
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def to_latex(df: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs LaTeX table (needs \\usepackage{booktabs})."""
    cols = [latex_escape(c) for c in df.columns]
    body = [" & ".join(latex_escape(v) for v in row) + r" \\" for row in df.itertuples(index=False)]
    return "\n".join([
        r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(caption)}}}", rf"\label{{tab:{label}}}",
        rf"\begin{{tabular}}{{{'l' * len(cols)}}}", r"\toprule", " & ".join(cols) + r" \\", r"\midrule",
        *body, r"\bottomrule", r"\end{tabular}", r"\end{table}", ""])


def export_table(table: ReportTable, out: Path) -> list[Path]:
    """Write a table as CSV (tidy data), Markdown and LaTeX (formatted cells) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{table.key}.csv", out / f"{table.key}.md", out / f"{table.key}.tex"]
    table.data.to_csv(paths[0], index=False)
    paths[1].write_text(f"**{table.title}.** {table.caption}\n\n" + to_markdown(table.display), encoding="utf-8")
    paths[2].write_text(to_latex(table.display, f"{table.title}. {table.caption}", table.key), encoding="utf-8")
    return paths


def manifest_of(frames: StudyFrames, artifact_id: str) -> dict[str, Any]:
    """The JSON manifest of an artifact as stored in the database ({} when absent)."""
    row = frames.artifacts.loc[frames.artifacts["artifact_id"] == artifact_id, "manifest"]
    return json.loads(row.iloc[0]) if len(row) and row.iloc[0] else {}
