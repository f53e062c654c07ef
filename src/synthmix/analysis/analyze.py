"""`synthmix analyze TABLE.csv`: every statistic and fit a tidy table supports, and a plain list of those it cannot.

Works on a study's exported scores and on a table transcribed from a paper (means only, no seeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthmix.analysis.claims import ClaimCheck, audit_table
from synthmix.analysis.comparisons import CELL, NO_TEST, compare_cells, compare_shares
from synthmix.analysis.fits import (
    PowerLawFit,
    SafeShareFit,
    fit_breakpoint,
    fit_polynomial_share,
    fit_power_law,
    fit_safe_share,
    fit_support,
    safe_share_bootstrap,
    safe_share_from_curve,
)
from synthmix.analysis.tables_io import read_tidy_table
from synthmix.config import AnalysisSettings, Study
from synthmix.errors import DataError

CURVE = ["model", "task", "regime", "iteration"]


@dataclass(frozen=True)
class SizeFits:
    """Fits across model size for one task: the safe-share law and a power law of the 0 % score."""

    task: str
    safe_share: SafeShareFit | None
    baseline_power_law: PowerLawFit | None


@dataclass(frozen=True)
class AnalysisResult:
    """What `analyze` found: comparisons, per-curve fits, fits across size, audited claims, and what is unsupported."""

    path: str
    comparisons: pd.DataFrame
    curve_fits: pd.DataFrame
    size_fits: tuple[SizeFits, ...]
    claims: tuple[ClaimCheck, ...]
    notes: tuple[str, ...]


def _model_sizes(table: pd.DataFrame) -> pd.Series:
    """n_params per model, from an `n_params` column or `n_params` metric rows."""
    if "n_params" in table and table["n_params"].notna().any():
        return table.dropna(subset=["n_params"]).groupby("model")["n_params"].first()
    return table[table.metric == "n_params"].groupby("model")["value"].first()


def _curve_fits(scores: pd.DataFrame, n_resamples: int, seed: int) -> pd.DataFrame:
    """Safe share, cubic inflection and two-segment breakpoint per (model, task, regime, iteration) score curve.

    The cubic and the breakpoint have 4 parameters each, so they need ≥ 5 shares; otherwise ``omitted`` says why.
    """
    records = []
    for key, rows in scores.groupby(CURVE):
        per_seed = rows.groupby(["share"] + (["seed"] if "seed" in rows and rows.seed.notna().all() else []))["value"].mean().reset_index()
        means = per_seed.groupby("share")["value"].mean()
        rec = dict(zip(CURVE, key), n_shares=len(means), safe_share=None, safe_low=np.nan, safe_high=np.nan,
                   inflection=np.nan, slope_below=np.nan, slope_above=np.nan, breakpoint=np.nan, breakpoint_low=np.nan,
                   breakpoint_high=np.nan, omitted="")
        if len(means) >= 3 and np.isclose(means.index, 0).any():
            rec["safe_share"] = safe_share_from_curve(means.index.to_numpy(float), means.to_numpy(float)).label()
            if "seed" in per_seed:
                wide = per_seed.pivot_table(index="share", columns="seed", values="value").dropna(axis=1)
                if wide.shape[1] >= 2 and wide.iloc[0].mean() != 0:
                    ci = safe_share_bootstrap(wide.index.to_numpy(float), wide.to_numpy(float), n_resamples=n_resamples, seed=seed)[1]
                    rec.update(safe_low=ci.low, safe_high=ci.high)
        why = fit_support(len(means), 4, means.to_numpy(float))
        if why:
            rec["omitted"] = f"cubic and breakpoint: {why}"
        else:
            poly = fit_polynomial_share(means.index.to_numpy(float), means.to_numpy(float), degree=3)
            rec.update(inflection=poly.inflection if poly.inflection is not None else np.nan,
                       slope_below=poly.slope_below if poly.slope_below is not None else np.nan,
                       slope_above=poly.slope_above if poly.slope_above is not None else np.nan)
            bp = fit_breakpoint(per_seed["share"], per_seed["value"], n_resamples=n_resamples // 10, seed=seed, grid_size=101)
            rec.update(breakpoint=bp.breakpoint)
            if bp.breakpoint_ci is not None:
                rec.update(breakpoint_low=bp.breakpoint_ci.low, breakpoint_high=bp.breakpoint_ci.high)
        if len(means) >= 2:
            records.append(rec)
    return pd.DataFrame.from_records(records)


def _size_fits(scores: pd.DataFrame, sizes: pd.Series) -> tuple[SizeFits, ...]:
    """Safe-share law and 0 %-score power law per task, across the models that have a size."""
    out = []
    for task, rows in scores[scores.model.isin(sizes.index)].groupby("task"):
        rows = rows[rows.iteration == rows.iteration.max()] if rows.iteration.nunique() > 1 else rows
        base = rows[np.isclose(rows.share, 0)].groupby("model")["value"].mean()
        power = fit_power_law(sizes[base.index], base) if base.size >= 3 and (base > 0).all() else None
        ns, safe = [], []
        for model, curve in rows.groupby("model"):
            means = curve.groupby("share")["value"].mean()
            if len(means) >= 3 and np.isclose(means.index, 0).any():
                s = safe_share_from_curve(means.index.to_numpy(float), means.to_numpy(float))
                if not s.censored:
                    ns.append(sizes[model])
                    safe.append(s.value)
        law = fit_safe_share(ns, safe) if len(ns) >= 3 else None
        if power or law:
            out.append(SizeFits(str(task), law, power))
    return tuple(out)


def _notes(table: pd.DataFrame, comparisons: pd.DataFrame) -> list[str]:
    """The statistics this table cannot support, said plainly."""
    notes = []
    has_seed = "seed" in table and table["seed"].notna().all()
    if not has_seed:
        notes.append("no seed column: these are means (e.g. transcribed from a paper), so no significance test, "
                     "CI or effect size can be computed; printed markers such as '*' are shown as printed")
    elif table["seed"].nunique() < 2:
        notes.append("one seed: every comparison is 'test-set noise only' (training-seed variance is not measured)")
    notes.append("paired per-example tests (exact McNemar, paired permutation) need the examples table (one row per "
                 "test example); `synthmix analyze STUDY.yaml` reads them from the study's database")
    if not comparisons.empty and (comparisons["test"] == NO_TEST).all() and has_seed:
        notes.append("no comparison had ≥ 2 paired seeds, so no test was run")
    for (model, task, regime, iteration), rows in table[table["share"].notna()].groupby(CURVE):
        if not np.isclose(rows.share, 0).any():
            notes.append(f"{model} {task} iteration {iteration}: no 0% arm at the same iteration, so no share-vs-0 "
                         "comparison (the iteration-0 model is not the iteration-1 0% model)")
    if "marker" in table and table["marker"].astype(str).str.contains(r"\*").any():
        notes.append("the table's significance markers cannot be re-derived without seed-level or per-example values")
    return notes


def analyze_table(path: str | Path, n_resamples: int = 1000, seed: int = 0, settings: AnalysisSettings | None = None,
                  columns: dict[str, str] | None = None, where: dict[str, str] | None = None) -> AnalysisResult:
    """Read a tidy table and run comparisons, fits, size fits and the claims it prints; say what it cannot support.

    ``columns`` maps synthmix's column names to the file's (``{"value": "acc"}``); ``where`` keeps only rows
    whose column equals the value (``{"task": "mini-math"}``).
    """
    table = read_tidy_table(path, columns, where)
    reported = table[table.metric.str.endswith("_reported")]
    measured = table[~table.metric.str.endswith("_reported") & table["share"].notna()]
    if measured.empty and reported.empty and not (table.metric == "safe_share").any():
        raise DataError(f"{path}: no rows with a share to analyse; analyze needs share-level values")
    comparisons = compare_shares(measured, settings=settings, n_resamples=n_resamples, seed=seed) if not measured.empty else pd.DataFrame()
    scores = measured[measured.metric == "score"]
    curve_fits = _curve_fits(scores, n_resamples, seed) if not scores.empty else pd.DataFrame()
    sizes = _model_sizes(table)
    size_fits = _size_fits(scores, sizes) if len(sizes) >= 2 and not scores.empty else ()
    printed_safe = table[(table.metric == "safe_share") & table.model.isin(sizes.index)]
    if len(printed_safe) >= 3:
        law = fit_safe_share(sizes[printed_safe.model].to_numpy(float), printed_safe["value"].to_numpy(float))
        size_fits += (SizeFits(str(printed_safe.task.iloc[0]), law, None),)
    claims = tuple(audit_table(table)) if not reported.empty else ()
    return AnalysisResult(str(path), comparisons, curve_fits, size_fits, claims, tuple(_notes(table, comparisons)))


STUDY_COLUMNS = (*CELL, "n_seeds", "mean", "low", "high", "interval", "baseline", "difference", "diff_low", "diff_high",
                 "relative_change", "degradation", "test", "label", "pvalue", "p_adjusted", "correction", "family_m",
                 "significant", "d_z", "d_z_low", "d_z_high", "d_pooled", "equivalence_margin", "p_equivalence", "equivalent", "mde",
                 "mde_relative", "verdict")


def analyze_study(study: Study, seed: int = 0) -> pd.DataFrame:
    """Every tested metric of a study's results database against its 0 % arm, by the engine the report uses.

    One row per (model, task, regime, iteration, share, metric) with the study's ``analysis`` settings; for the
    primary metric (``score``) the numbers equal the report's Table 1 CSV.
    """
    from synthmix.driver import open_db

    db = open_db(study)
    try:
        scores, examples = db.frame("scores"), db.frame("examples")
    finally:
        db.close()
    if scores.empty:
        raise DataError(f"{study.study_dir}: the results database has no scores yet; run the study first "
                        "(`synthmix run STUDY.yaml`)")
    cells = compare_cells(scores, examples, study.analysis, seed)
    return cells[list(STUDY_COLUMNS)]
