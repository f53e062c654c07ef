"""`synthmix budget`: the safe synthetic share for a model size and task, from a study's scores or a published fit.

A fit is safe share = a + b·log10(N/1e9) over the model sizes it was fitted on; outside that range
the answer is an extrapolation and is refused unless asked for. Published fits ship as data (the
transcribed section 4.2 of the seed paper) with their citation and caveats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthmix.analysis.fits import SafeShareFit, fit_safe_share, fit_support, safe_share_from_curve
from synthmix.analysis.stats import CI
from synthmix.analysis.tables_io import load_published
from synthmix.errors import DataError

SEED_CITATION = (
    "Y. Du, G. Wu, G. Tang, W. Wang, Q. Fan, 'Characterizing Model Behavior Under Synthetic Data Training: "
    "An Empirical Study Across Scales and Mixing Ratios', Independent Research Collaboration, 2025, section 4.2"
)
PUBLISHED_FITS = {
    "du2025-eq3": "the paper's eq. 3 as printed: 12% + 3.5% × log10(N/1e9)",
    "du2025-refit": "OLS refit of the paper's four printed safe shares (410M 15%, 1.4B 18%, 6.9B 23%, 12B 27%)",
}
SEED_CAVEATS = (
    "GSM8K (math) only: the scale experiments were run on math",
    "unfiltered synthetic data at temperature 0.8, one iteration, Pythia models",
    "eq. 3 as printed does not fit the paper's own four safe shares (R² = -1.83 on them, not the 0.91 claimed); "
    "see `synthmix.analysis.claims`",
    "four model sizes, seed-level data not published: the CI reflects only the scatter of four points",
)


@dataclass(frozen=True)
class Budget:
    """A safe share (fraction) for one size and task, with where it came from and how far to trust it."""

    share: float
    ci: CI | None
    n_params: float
    task: str
    source: str
    n_params_min: float
    n_params_max: float
    extrapolated: bool
    citation: str
    caveats: tuple[str, ...]


def published_fit(name: str) -> tuple[SafeShareFit, str]:
    """A named published fit (as fractions) and the task it covers."""
    if name not in PUBLISHED_FITS:
        raise DataError(f"no published fit {name!r}; available: {', '.join(f'{k} ({v})' for k, v in PUBLISHED_FITS.items())}")
    table = load_published("section4_2_safe_shares")
    points = table[table.metric == "safe_share"]
    n, share = points["n_params"].to_numpy(float), points["value"].to_numpy(float) / 100
    task = str(points["task"].iloc[0])
    if name == "du2025-refit":
        return fit_safe_share(n, share), task
    coef = {m: float(table.loc[table.metric == m, "value"].iloc[0]) for m in ("formula_intercept", "formula_slope", "formula_r2")}
    return SafeShareFit(coef["formula_intercept"] / 100, coef["formula_slope"] / 100, coef["formula_r2"], None, None,
                        int(n.size), float(n.min()), float(n.max())), task


def fit_from_scores(scores: pd.DataFrame, task: str, iteration: int = 1, regime: str = "replace",
                    metric: str = "score") -> SafeShareFit:
    """Fit the safe-share law on a study's scores: seed-level means per (model, share), one safe share per model.

    Model sizes come from the `n_params` metric rows. The fit is refused (a DataError saying why) when a model's
    curve never crosses the threshold (censored: leaving it out would bias the line), or with fewer than 3 sizes
    (a line through 2 points has R² = 1 whatever the truth).
    """
    rows = scores[(scores.task == task) & (scores.iteration == iteration) & (scores.regime == regime)]
    if rows.empty:
        raise DataError(f"scores: no rows for task {task!r}, iteration {iteration}, regime {regime!r}; "
                        f"tasks present: {', '.join(sorted(scores.task.unique()))}")
    sizes = rows[rows.metric == "n_params"].groupby("model")["value"].first()
    means = rows[rows.metric == metric].groupby(["model", "share"])["value"].mean().reset_index()
    ns, shares, censored = [], [], []
    for model, curve in means.groupby("model"):
        if model not in sizes:
            raise DataError(f"scores: model {model!r} has no 'n_params' metric row; ingest model sizes with the scores")
        safe = safe_share_from_curve(curve["share"].to_numpy(float), curve["value"].to_numpy(float))
        if safe.censored:
            censored.append(str(model))
            continue
        ns.append(float(sizes[model]))
        shares.append(safe.value)
    why = fit_support(len(ns) + len(censored), 2, shares if len(shares) > 1 else None, bool(censored))
    if why:
        raise DataError(f"scores: no safe-share fit for {task!r}: {why} (censored models: {', '.join(censored) or 'none'}); "
                        "add model sizes or shares beyond the largest measured one")
    return fit_safe_share(np.array(ns), np.array(shares))


def safe_share_budget(n_params: float, task: str, *, scores: pd.DataFrame | None = None, fit: str | None = None,
                      extrapolate: bool = False) -> Budget:
    """The safe share for `n_params` and `task` from a study's `scores` or a named published `fit` (default du2025-refit)."""
    if not n_params > 0:
        raise DataError(f"--params: must be a positive parameter count (got {n_params})")
    if scores is not None and fit is not None:
        raise DataError("pass either a study's scores or a published fit name, not both")
    if scores is not None:
        law, source, citation, caveats = fit_from_scores(scores, task), "study", "", ()
    else:
        name = fit or "du2025-refit"
        law, fit_task = published_fit(name)
        if task != fit_task:
            raise DataError(f"--task: published fit {name!r} covers task {fit_task!r} only (got {task!r}); "
                            "fit your own study with --study for other tasks")
        source, citation, caveats = f"{name}: {PUBLISHED_FITS[name]}", SEED_CITATION, SEED_CAVEATS
    outside = not law.n_params_min <= n_params <= law.n_params_max
    if outside and not extrapolate:
        raise DataError(f"--params: {n_params:.3g} is outside the fitted model sizes [{law.n_params_min:.3g}, "
                        f"{law.n_params_max:.3g}]; pass --extrapolate to accept an extrapolation")
    ci = law.predict_ci(n_params) if law.a_ci is not None else None
    return Budget(law.predict(n_params), ci, float(n_params), task, source, law.n_params_min, law.n_params_max,
                  outside, citation, caveats)
