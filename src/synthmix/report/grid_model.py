"""The report's grid-model table: interaction tests from `analysis.grid_model`, formatted with formula, random effects and n."""

from __future__ import annotations

import pandas as pd

from synthmix.analysis.grid_model import GridModel, fit_grid_models
from synthmix.errors import DataError
from synthmix.report.tables import Omitted, ReportTable, StudyFrames, fmt

TITLE = "Grid model: does the share effect differ by task and by model size?"


def _p(p: float) -> str:
    """A p-value as printed: '< 0.001' or three significant digits."""
    return "< 0.001" if p < 0.001 else f"{p:.3g}"


def _rows(model: GridModel) -> list[dict]:
    """The tested quantities of one fit as tidy rows."""
    key = dict(iteration=model.iteration, regime=model.regime, formula=model.formula, level=model.level,
               n_obs=model.n_obs, n_groups=model.n_groups)
    rows = [dict(**key, quantity=t.name, estimate=t.estimate, se=t.se, low=t.low, high=t.high, statistic=float("nan"),
                 df="", pvalue=t.pvalue, meaning=t.meaning) for t in model.terms]
    rows += [dict(**key, quantity=j.name, estimate=float("nan"), se=float("nan"), low=float("nan"), high=float("nan"),
                  statistic=j.f, df=f"{j.df}, {j.df_resid}", pvalue=j.pvalue, meaning=j.meaning) for j in model.joint]
    return rows


def _fit_text(m: GridModel) -> str:
    """Formula, random effects and n of one fit, as the caption states them."""
    unit = "(run, share) means" if m.level == "run" else "per-example rows"
    groups = "runs" if m.level == "run" else "items"
    return (f"iteration {m.iteration}, {m.regime}: {m.formula} with a {m.random_effects}, n = {m.n_obs} {unit} in "
            f"{m.n_groups} {groups}, {m.level} sd {fmt(m.group_sd)}, residual sd {fmt(m.residual_sd)}")


def table_grid_model(frames: StudyFrames, higher_is_better: bool = True) -> ReportTable | Omitted:
    """One mixed model per (iteration, regime) of the primary score; Omitted with the reasons when none can be fitted."""
    try:
        fits = fit_grid_models(frames.scores, frames.examples, "score", higher_is_better)
    except DataError as e:
        return Omitted("grid_model", TITLE, str(e))
    models = [f for f in fits if isinstance(f, GridModel)]
    skipped = [f"iteration {it}, {regime}: {why}" for it, regime, why in (f for f in fits if not isinstance(f, GridModel))]
    if not models:
        return Omitted("grid_model", TITLE, "; ".join(skipped) or "no scored condition at iteration ≥ 1")
    data = pd.DataFrame([r for m in models for r in _rows(m)])
    display = pd.DataFrame({
        "iteration": data["iteration"], "regime": data["regime"], "quantity": data["quantity"],
        "estimate [95% CI]": [f"{fmt(r.estimate)} [{fmt(r.low)}, {fmt(r.high)}]" if r.se == r.se else f"F = {fmt(r.statistic, 2)} on ({r.df}) df"
                              for r in data.itertuples()],
        "p": data["pvalue"].map(_p), "reads": data["meaning"],
    })
    caption = (f"Linear mixed model (statsmodels MixedLM, REML) per iteration and regime: {'; '.join(map(_fit_text, models))}. "
               "A run intercept pairs the arms of one seed; at run level per-example rows are averaged (items are shared "
               "by every arm, so item intercepts cancel from share contrasts). Slopes are per unit share (0 → 1); "
               "interactions are against the first task alphabetically. Wald tests with t (joint: F) on the residual df "
               "n − p of the fixed part, uncorrected for multiplicity; with few runs they are still optimistic.")
    notes = [f"Not fitted: {s}." for s in skipped]
    notes += [f"iteration {m.iteration}, {m.regime}: {n}" for m in models for n in m.notes]
    notes += [f"iteration {m.iteration}, {m.regime}: the optimiser did not converge; read the tests with care."
              for m in models if not m.converged]
    return ReportTable("grid_model", TITLE, caption, data, display, notes)


def grid_finding(table: ReportTable | None, alpha: float = 0.05) -> list[str]:
    """Headline sentences from the grid model's interaction tests: what differs, with estimate, CI and p; what is not shown."""
    if table is None:
        return []
    out = []
    for (it, regime, level), fit in table.data.groupby(["iteration", "regime", "level"], sort=True):
        where = f"Grid model (iteration {it}, {regime}; {'seed level' if level == 'run' else 'one seed, test-set noise only'})"
        parts = []
        for r in fit.loc[fit["quantity"].str.startswith(("share × task: ", "share × log10 size"))].itertuples():
            unit = "per unit share per decade of size" if r.quantity == "share × log10 size" else "per unit share"
            p = _p(r.pvalue)
            ci = f"{fmt(r.estimate)} {unit} [{fmt(r.low)}, {fmt(r.high)}], p {p if p.startswith('<') else '= ' + p}"
            if r.quantity == "share × log10 size":
                verdict = "larger models tolerated more synthetic data" if r.estimate > 0 else "larger models tolerated less synthetic data"
                parts.append(f"{verdict} ({ci})" if r.pvalue <= alpha else
                             f"no significant share × size interaction ({ci}): these runs do not show that larger models tolerate more")
            else:
                task, ref = r.quantity.removeprefix("share × task: ").split(" − ")
                pace = "faster" if r.estimate < 0 else "slower"
                parts.append(f"{task} degraded {pace} with share than {ref} ({ci})" if r.pvalue <= alpha else
                             f"{task} and {ref} did not differ significantly in how fast they degraded ({ci})")
        if parts:
            out.append(f"{where}: " + "; ".join(parts) + ".")
    return out
