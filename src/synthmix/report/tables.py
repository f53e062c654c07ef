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

from synthmix.analysis.fits import (
    fit_breakpoint,
    fit_polynomial_share,
    fit_power_law,
    fit_safe_share,
    relative_degradation,
    safe_share_from_curve,
)
from synthmix.analysis.stats import TEST_SET_NOISE_ONLY, bonferroni, bootstrap_ci, cohens_dz, paired_bootstrap, paired_t_test
from synthmix.errors import DataError
from synthmix.plan import CONDITION_COLUMNS

CELL = ["model", "task", "regime", "iteration", "share"]  # a condition without its seed
FAMILY = ["model", "iteration", "regime"]  # docs/architecture.md: one table = one model × iteration (× regime) across tasks
REFERENCE_SHARE = 0.3  # the seed's Tables 2 and 3 compare at 30 % synthetic data
LOW_PARSE_RATE = 0.5
ALPHA = 0.05


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
    return StudyFrames(**frames, failures=failures)


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


def _examples_by_seed(frames: StudyFrames, key: tuple[Any, ...]) -> dict[int, pd.Series]:
    """Per-example scores of one cell, per seed, indexed by example id."""
    ex = frames.examples
    if ex.empty:
        return {}
    mask = np.logical_and.reduce([ex[c] == v for c, v in zip(CELL, key, strict=True)])
    return {int(s): g.set_index("example_id")["score"] for s, g in ex.loc[mask].groupby("seed")}


def _cell_ci(values: np.ndarray, examples: dict[int, pd.Series]) -> tuple[float, float, str]:
    """95 % CI of a cell: over seeds (≥ 2 seeds), else over test examples (test-set noise only), else none."""
    if values.size >= 2:
        ci = bootstrap_ci(values, seed=0)
        return ci.low, ci.high, f"seed-level ({values.size} seeds)"
    if len(examples) == 1:
        (ex,) = examples.values()
        if len(ex) >= 2:
            ci = bootstrap_ci(ex.to_numpy(float), seed=0)
            return ci.low, ci.high, TEST_SET_NOISE_ONLY
    return math.nan, math.nan, "no interval (one value)"


def _paired_test(base: pd.DataFrame, arm: pd.DataFrame, ex0: dict[int, pd.Series],
                 ex1: dict[int, pd.Series]) -> tuple[float, float, str]:
    """p-value and d_z of share p against share 0 paired by seed (≥ 2 seeds) or by example (one seed)."""
    paired = base.merge(arm, on="seed", suffixes=("_0", "_p"))
    if len(paired) >= 2:
        try:
            t = paired_t_test(paired["value_p"], paired["value_0"])
            return t.pvalue, cohens_dz(paired["value_p"], paired["value_0"]), "paired t-test on seed means"
        except DataError:
            return math.nan, math.nan, "paired differences identical"
    if len(paired) == 1:
        seed = int(paired["seed"].iloc[0])
        if seed in ex0 and seed in ex1:
            common = ex0[seed].index.intersection(ex1[seed].index)
            if len(common) >= 2:
                pb = paired_bootstrap(ex0[seed].loc[common].to_numpy(float), ex1[seed].loc[common].to_numpy(float))
                return pb.pvalue, math.nan, "paired bootstrap over examples (test-set noise only)"
    return math.nan, math.nan, "no paired data"


def cell_summary(frames: StudyFrames, metric: str = "score") -> pd.DataFrame:
    """One row per (model, task, regime, iteration, share): seed mean, CI, change vs share 0, p, family-corrected mark."""
    values = frames.metric(metric)
    status = condition_status(frames, metric)
    rows = []
    for key, cell_status in status.groupby(CELL, sort=True):
        arm = values.loc[np.logical_and.reduce([values[c] == v for c, v in zip(CELL, key, strict=True)])]
        n_planned = len(cell_status)
        n_done = int((cell_status["status"] == "done").sum())
        bad = cell_status.loc[cell_status["status"] != "done", "status"]
        row = dict(zip(CELL, key, strict=True), n_seeds=n_done, n_planned=n_planned,
                   state="done" if n_done == n_planned else (bad.iloc[0] if n_done == 0 else "partial"))
        ex = _examples_by_seed(frames, key)
        if arm.empty:
            rows.append({**row, "mean": math.nan, "low": math.nan, "high": math.nan, "interval": ""})
            continue
        v = arm["value"].to_numpy(float)
        low, high, interval = _cell_ci(v, ex)
        rows.append({**row, "mean": float(v.mean()), "low": low, "high": high, "interval": interval})
    cells = pd.DataFrame(rows)
    if cells.empty:
        return cells
    return _add_comparisons(frames, values, cells)


def _add_comparisons(frames: StudyFrames, values: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Add change and relative change vs share 0, the paired test, and Bonferroni over each family."""
    extra = {k: [] for k in ("baseline", "change", "rel_change", "pvalue", "d_z", "test")}
    for _, c in cells.iterrows():
        key0 = (c["model"], c["task"], c["regime"], c["iteration"], 0.0)
        base = cells.loc[np.logical_and.reduce([cells[col] == v for col, v in zip(CELL, key0, strict=True)])]
        y0 = float(base["mean"].iloc[0]) if len(base) else math.nan
        extra["baseline"].append(y0)
        if c["share"] == 0 or not np.isfinite(c["mean"]) or not np.isfinite(y0):
            for k in ("change", "rel_change", "pvalue", "d_z"):
                extra[k].append(math.nan)
            extra["test"].append("")
            continue
        extra["change"].append(c["mean"] - y0)
        extra["rel_change"].append(-relative_degradation(y0, c["mean"]) if y0 != 0 else math.nan)
        sel = lambda share: values.loc[np.logical_and.reduce(  # noqa: E731
            [values[col] == v for col, v in zip(CELL, (*key0[:4], share), strict=True)])][["seed", "value"]]
        p, dz, test = _paired_test(sel(0.0), sel(c["share"]), _examples_by_seed(frames, key0),
                                   _examples_by_seed(frames, tuple(c[CELL])))
        extra["pvalue"].append(p)
        extra["d_z"].append(dz)
        extra["test"].append(test)
    cells = cells.assign(**extra)
    cells["p_adjusted"] = math.nan
    cells["significant"] = False
    cells["family_m"] = 0
    for _, fam in cells.groupby(FAMILY):
        ok = fam.index[np.isfinite(fam["pvalue"].to_numpy(float))]
        if len(ok):
            adj = bonferroni(cells.loc[ok, "pvalue"].to_numpy(float), ALPHA)
            cells.loc[ok, "p_adjusted"] = adj.pvalues
            cells.loc[ok, "significant"] = adj.reject
            cells.loc[fam.index, "family_m"] = adj.m
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
    intervals = sorted({i for i in cells["interval"] if i})
    return "Intervals: " + "; ".join(intervals) + "." if intervals else "No intervals (single values)."


# ---------------------------------------------------------------- Table 1


def table_performance(cells: pd.DataFrame, metric: str = "score") -> ReportTable | Omitted:
    """Table 1: performance × share per task with 95 % CIs and Bonferroni-corrected significance marks."""
    if cells.empty:
        return Omitted("table1", "Table 1: performance × share", "no scored or planned conditions in the database")
    display = cells.assign(cell=cells.apply(format_cell, axis=1), share_col=cells["share"].map(share_label))
    order = [share_label(s) for s in sorted(cells["share"].unique())]
    wide = display.pivot_table(index=["model", "iteration", "regime", "task"], columns="share_col", values="cell",
                               aggfunc="first").reindex(columns=order).fillna("—").reset_index()
    wide.columns.name = None
    fams = cells.loc[cells["family_m"] > 0].groupby(FAMILY)["family_m"].first()
    m_text = "; ".join(f"{m} (t={t}, {r}, m={n})" for (m, t, r), n in fams.items()) or "none (no testable comparisons)"
    caption = (f"Primary metric ({metric}) per task and synthetic share: seed mean [95 % CI]. "
               f"* = differs from the 0 % arm at p < {ALPHA} after Bonferroni over each family "
               f"(one model × iteration × regime across tasks); family sizes: {m_text}.")
    data = cells.drop(columns=[c for c in ("baseline",) if c in cells])
    return ReportTable("table1", "Table 1: performance × synthetic share", caption, data, wide, [_seed_note(cells)])


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


def _safe_share(group: pd.DataFrame) -> tuple[float, bool] | None:
    """Safe share of one (model, task, regime, iteration) curve, or None when it has no usable 0 % baseline."""
    g = group.loc[np.isfinite(group["mean"])].sort_values("share")
    if len(g) < 2 or g["share"].iloc[0] != 0 or g["mean"].iloc[0] == 0:
        return None
    s = safe_share_from_curve(g["share"].to_numpy(float), g["mean"].to_numpy(float))
    return s.value, s.censored


def table_tolerance(cells: pd.DataFrame, sizes: dict[str, float]) -> ReportTable | Omitted:
    """Table 2: tolerance by model size at the reference share: baseline, score, absolute and relative change, safe share."""
    title = "Table 2: synthetic-data tolerance by model size"
    ref = reference_share(list(cells["share"].unique())) if not cells.empty else None
    if ref is None:
        return Omitted("table2", title, "no non-zero share in the study")
    rows = []
    for (task, regime, it), grp in cells.groupby(["task", "regime", "iteration"]):
        if grp["model"].nunique() < 2:
            continue
        for model, g in grp.groupby("model"):
            at = g.loc[g["share"] == ref]
            if at.empty:
                continue
            a = at.iloc[0]
            safe = _safe_share(g)
            rows.append(dict(task=task, regime=regime, iteration=it, model=model, n_params=sizes.get(model, math.nan),
                             share=ref, baseline=a["baseline"], score=a["mean"], change=a["change"],
                             rel_change=a["rel_change"], significant=a["significant"],
                             safe_share=safe[0] if safe else math.nan, safe_censored=bool(safe and safe[1])))
    if not rows:
        return Omitted("table2", title, "needs at least two model sizes on the same task, regime and iteration; "
                                        f"this study has {cells['model'].nunique()} model(s) per task")
    data = pd.DataFrame(rows).sort_values(["task", "regime", "iteration", "n_params"]).reset_index(drop=True)
    display = pd.DataFrame({
        "task": data["task"], "iteration": data["iteration"], "regime": data["regime"], "model": data["model"],
        "parameters": data["n_params"].map(lambda n: "—" if not np.isfinite(n) else f"{n:,.0f}"),
        "0%": data["baseline"].map(fmt), share_label(ref): data["score"].map(fmt) + data["significant"].map(lambda s: "*" if s else ""),
        "abs. change": data["change"].map(fmt), "rel. change": data["rel_change"].map(fmt_pct),
        "safe share": [("> " if c else "") + fmt(v, 2) for v, c in zip(data["safe_share"], data["safe_censored"], strict=True)],
    })
    caption = (f"At {share_label(ref)} synthetic data. Relative change = (y_p − y_0)/y_0. Safe share = largest share "
               "with < 10 % relative degradation, interpolated between measured shares ('>' = never crossed).")
    return ReportTable("table2", title, caption, data, display)


def table_sensitivity(cells: pd.DataFrame) -> ReportTable | Omitted:
    """Table 3: tasks ranked by relative degradation at the reference share (rank 1 = most sensitive)."""
    title = "Table 3: task sensitivity ranking"
    ref = reference_share(list(cells["share"].unique())) if not cells.empty else None
    if ref is None:
        return Omitted("table3", title, "no non-zero share in the study")
    at = cells.loc[(cells["share"] == ref) & np.isfinite(cells["rel_change"].astype(float))]
    if at.empty or at.groupby(FAMILY)["task"].nunique().max() < 2:
        return Omitted("table3", title, f"needs at least two tasks scored at {share_label(ref)} and at 0 % "
                                        "for the same model, iteration and regime")
    parts = []
    for _, g in at.groupby(FAMILY):
        g = g.sort_values("rel_change").assign(rank=range(1, len(g) + 1))
        parts.append(g)
    data = pd.concat(parts)[[*FAMILY, "task", "share", "baseline", "mean", "change", "rel_change", "significant", "rank"]]
    data = data.rename(columns={"mean": "score"}).reset_index(drop=True)
    display = pd.DataFrame({
        "model": data["model"], "iteration": data["iteration"], "regime": data["regime"], "rank": data["rank"],
        "task": data["task"], "0%": data["baseline"].map(fmt),
        share_label(ref): data["score"].map(fmt) + data["significant"].map(lambda s: "*" if s else ""),
        "rel. change": data["rel_change"].map(fmt_pct),
    })
    caption = f"Tasks ranked by relative change at {share_label(ref)} synthetic data (rank 1 = largest drop)."
    return ReportTable("table3", title, caption, data, display)


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


def fit_rows(cells: pd.DataFrame, sizes: dict[str, float]) -> tuple[pd.DataFrame, list[str]]:
    """Every fit the study supports (share curves per cell; power law and safe share across size), with reasons for the rest."""
    rows: list[dict[str, Any]] = []
    reasons: list[str] = []
    done = cells.loc[np.isfinite(cells["mean"].astype(float))] if not cells.empty else cells
    for key, g in (done.groupby(["model", "task", "regime", "iteration"]) if not done.empty else []):
        label = "/".join(map(str, key))
        xs, ys = g["share"].to_numpy(float), g["mean"].to_numpy(float)
        nshare = np.unique(xs).size
        if nshare >= 3:
            bp = fit_breakpoint(xs, ys, n_resamples=200)
            ci = bp.breakpoint_ci
            rows.append(dict(fit="breakpoint", over=label, model=key[0], task=key[1], regime=key[2], iteration=key[3],
                             estimate=bp.breakpoint, low=ci.low if ci else math.nan, high=ci.high if ci else math.nan,
                             detail=f"slope below {bp.slope_below:.3f}, above {bp.slope_above:.3f} per unit share", r2=math.nan))
            deg = min(3, nshare - 1)
            poly = fit_polynomial_share(xs, ys, degree=deg)
            rows.append(dict(fit=f"polynomial (degree {deg})", over=label, model=key[0], task=key[1], regime=key[2],
                             iteration=key[3], estimate=poly.inflection if poly.inflection is not None else math.nan,
                             low=math.nan, high=math.nan, r2=poly.r2,
                             detail="inflection at share" if poly.inflection is not None else "no inflection inside the share range"))
        elif nshare > 1:
            reasons.append(f"{label}: share-curve fits need ≥ 3 distinct shares (has {nshare})")
    _size_fits(cells, sizes, rows, reasons)
    return pd.DataFrame(rows), reasons


def _size_fits(cells: pd.DataFrame, sizes: dict[str, float], rows: list[dict[str, Any]], reasons: list[str]) -> None:
    """Power law of relative degradation and the safe-share line across model sizes."""
    if cells.empty or cells["model"].nunique() < 2:
        reasons.append(f"size fits (power law, safe share vs size) need ≥ 2 model sizes (has "
                       f"{0 if cells.empty else cells['model'].nunique()})")
        return
    for key, grp in cells.groupby(["task", "regime", "iteration"]):
        label = "/".join(map(str, key))
        ref = reference_share(list(grp["share"].unique()))
        if ref is None:
            continue
        at = grp.loc[(grp["share"] == ref) & np.isfinite(grp["rel_change"].astype(float))]
        at = at.assign(n=at["model"].map(sizes)).dropna(subset=["n"])
        drops = at.loc[at["rel_change"] < 0]
        if len(drops) >= 2 and drops["n"].nunique() >= 2:
            pl = fit_power_law(drops["n"].to_numpy(float), -drops["rel_change"].to_numpy(float))
            ci = pl.alpha_ci
            rows.append(dict(fit="power law", over=f"{label} at {share_label(ref)}", task=key[0], regime=key[1],
                             iteration=key[2], estimate=pl.alpha, low=ci.low if ci else math.nan,
                             high=ci.high if ci else math.nan, r2=pl.r2,
                             detail=f"relative drop = {pl.a:.3g}·N^α (exponent α shown)"))
        else:
            reasons.append(f"{label}: power law needs ≥ 2 model sizes with a drop at {share_label(ref)} (has {len(drops)})")
        safes = []
        for model, g in grp.groupby("model"):
            s = _safe_share(g)
            if s and model in sizes:
                safes.append((sizes[model], s[0]))
        if len({n for n, _ in safes}) >= 2:
            n_arr, s_arr = np.array(safes).T
            fit = fit_safe_share(n_arr, s_arr)
            rows.append(dict(fit="safe share vs size", over=label, task=key[0], regime=key[1], iteration=key[2],
                             estimate=fit.b, low=fit.b_ci.low if fit.b_ci else math.nan,
                             high=fit.b_ci.high if fit.b_ci else math.nan, r2=fit.r2,
                             detail=f"safe share = {fit.a:.3f} + b·log10(N/1e9) (slope b shown)"))
        else:
            reasons.append(f"{label}: safe share vs size needs safe shares at ≥ 2 model sizes with known n_params")


def table_fits(cells: pd.DataFrame, sizes: dict[str, float]) -> ReportTable | Omitted:
    """The fits table (breakpoint, polynomial inflection, power law, safe-share line) with CIs and R²."""
    data, reasons = fit_rows(cells, sizes)
    if data.empty:
        return Omitted("fits", "Fits", "; ".join(reasons) or "no curves to fit")
    display = pd.DataFrame({
        "fit": data["fit"], "over": data["over"], "estimate": data["estimate"].map(fmt),
        "95% CI": [f"[{fmt(lo)}, {fmt(hi)}]" if np.isfinite(lo) else "—" for lo, hi in zip(data["low"], data["high"], strict=True)],
        "R²": data["r2"].map(fmt), "what": data["detail"],
    })
    return ReportTable("fits", "Fits across share and size", "Fits on seed-level means (docs/architecture.md, Statistics).",
                       data, display, reasons)


# ---------------------------------------------------------------- early warning


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
               "Precision and recall of the rule are scored by synthmix.analysis.")
    return ReportTable("early_warning", title, caption, data, display)


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
    the table of iteration-0 models against them.
    """
    cells = cell_summary(frames)
    sizes = model_sizes(frames)
    built = [table_performance(cells), table_tolerance(cells, sizes) if not cells.empty else None,
             table_sensitivity(cells) if not cells.empty else None, table_iterations(frames),
             table_fits(cells, sizes), table_early_warning(frames), table_pools(frames)]
    if baselines is not None:
        built.append(table_trivial_baselines(frames, baselines))
    tables = [t for t in built if isinstance(t, ReportTable)]
    omitted = [t for t in built if isinstance(t, Omitted)]
    return tables, omitted, cells


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
