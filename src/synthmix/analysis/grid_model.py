"""A grid-level model beside the per-cell tests: score ~ share × task (+ share × log10 size) with seed random effects.

Per-cell tests answer "does share p differ from 0 here?"; claims such as "math degrades faster than
reading" or "larger models tolerate more" are interactions, and ranking point estimates does not test
them. One linear mixed model per (iteration, regime) does:

    value ~ share * C(task) [+ share * log10_size]  with a random intercept per training run (model, task, seed)

(log10_size = log10 N, centred on the grid's mean) fitted by statsmodels MixedLM (REML). A run is what pairs the arms (docs/architecture.md: share p against 0 at the
same seed and parent model), so its intercept carries the seed effect. Per-example rows are averaged to
one value per (run, share) first: every arm of a task is scored on the same items, so a crossed item
intercept is common to all arms and cancels from every share contrast. The fixed effects are identical
(tests/analysis/test_grid_model.py fits both on 720 simulated 0/1 rows); the crossed fit's standard
errors came out about 7 % larger there, and it took 1.1 s against 0.02 s on 720 rows with a dense item
design that grows as rows × items (paper-mini's iteration-1 grid has about 81,000 example rows over 2,494
items), so the grid model stays at run level and says so. With one seed there is no run variance to test
against; where the study has per-example rows the model is then fitted on them with a random intercept
per item (a linear model of the 0/1 score, so its slopes read as accuracy per unit share, as the tables
do), labelled test-set noise only.

Tests: MixedLM's standard errors, with p-values and CIs from t (the joint test from F) on the residual
degrees of freedom of the fixed part, n − p, instead of its z: statsmodels has no Kenward–Roger or
Satterthwaite correction, and with 8 run means and 4 coefficients z treats 4 degrees of freedom as
infinitely many. With few runs even this is optimistic, which the caption says.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats as sps

from synthmix.analysis.stats import TEST_SET_NOISE_ONLY
from synthmix.errors import DataError

RUN = ["model", "task", "seed"]
# Powell first: on simulated one-seed item grids statsmodels' default (BFGS) failed to converge after 21.7 s where
# Powell converged in 2.3 s to the same REML optimum on the grids where both converged; L-BFGS raised "Singular matrix".
FIT_METHODS = ("powell", "bfgs")
BOUNDARY_WARNING = "MLE may be on the boundary"  # statsmodels warns whenever a variance is < 0.01 in absolute units


@dataclass(frozen=True)
class GridTerm:
    """One tested quantity of the grid model: estimate, standard error, 95 % CI and two-sided p."""

    name: str
    estimate: float
    se: float
    low: float
    high: float
    pvalue: float
    meaning: str


@dataclass(frozen=True)
class JointTest:
    """A Wald test that several coefficients are all zero: F = χ² / q on (q, df_resid) degrees of freedom."""

    name: str
    chi2: float
    df: int  # q, the number of coefficients tested
    df_resid: int
    pvalue: float
    meaning: str

    @property
    def f(self) -> float:
        """The F statistic, χ² / q."""
        return self.chi2 / self.df


@dataclass(frozen=True)
class GridModel:
    """The fitted grid model of one (iteration, regime): formula, sizes, the interaction tests and fit notes."""

    iteration: int
    regime: str
    metric: str
    formula: str
    random_effects: str
    level: str  # "run": (run, share) means, seed-level inference; "item": one seed's per-example rows, test-set noise only
    n_obs: int
    n_groups: int  # runs, or items
    tasks: tuple[str, ...]
    terms: tuple[GridTerm, ...]  # per-task slopes, task × share interactions, size × share interaction
    joint: tuple[JointTest, ...]
    group_sd: float  # standard deviation of the run (or item) intercepts
    residual_sd: float
    converged: bool
    notes: tuple[str, ...]


def grid_frame(scores: pd.DataFrame, metric: str = "score") -> pd.DataFrame:
    """One row per (model, task, regime, iteration, seed, share) with the metric's seed value and log10(N/1e9) when known."""
    absent = [c for c in ("model", "task", "share", "iteration", "seed", "metric", "value") if c not in scores]
    if absent:
        raise DataError(f"scores: missing column(s) {absent}; the grid model needs seed-level rows")
    frame = scores.assign(regime=scores["regime"] if "regime" in scores else "replace")
    rows = frame[frame["metric"] == metric].groupby(["model", "task", "regime", "iteration", "seed", "share"],
                                                   as_index=False)["value"].mean()
    sizes = frame[frame["metric"] == "n_params"].groupby("model")["value"].max()
    if "n_params" in frame and sizes.empty:
        sizes = frame.groupby("model")["n_params"].max().dropna()
    rows["log10_size"] = np.log10(rows["model"].map(sizes).astype(float) / 1e9)
    return rows


def _contrast(result: object, names: list[str], weights: dict[str, float], df: int, label: str, meaning: str) -> GridTerm:
    """A linear combination of fixed effects with MixedLM's SE, and a t-based CI and p on df degrees of freedom."""
    vec = np.array([weights.get(n, 0.0) for n in names])
    est = float(vec @ result.fe_params.to_numpy())
    cov = result.cov_params().loc[names, names].to_numpy()
    se = float(np.sqrt(vec @ cov @ vec))
    t = est / se if se > 0 else np.nan
    p = float(2 * sps.t.sf(abs(t), df)) if np.isfinite(t) else float("nan")
    half = float(sps.t.ppf(0.975, df)) * se
    return GridTerm(label, est, se, est - half, est + half, p, meaning)


def _joint(result: object, terms: list[str], df: int, label: str, meaning: str) -> JointTest:
    """Wald F (χ² / q on q and df degrees of freedom) that the listed fixed effects are all zero."""
    beta = result.fe_params.loc[terms].to_numpy()
    cov = result.cov_params().loc[terms, terms].to_numpy()
    chi2 = float(beta @ np.linalg.solve(cov, beta))
    return JointTest(label, chi2, len(terms), df, float(sps.f.sf(chi2 / len(terms), len(terms), df)), meaning)


def _formula(data: pd.DataFrame) -> str | None:
    """The model the grid supports: share × task when ≥ 2 tasks, + share × log size when ≥ 2 sizes; None if neither."""
    parts = []
    if data["task"].nunique() >= 2:
        parts.append("share * C(task)")
    if data["log10_size"].notna().all() and data["log10_size"].nunique() >= 2:
        parts.append("share * log10_size")
    return "value ~ " + " + ".join(parts) if parts else None


RANDOM_EFFECTS = {
    "run": "random intercept per training run (model, task, seed)",
    "item": f"random intercept per item (task, example id); one seed, so {TEST_SET_NOISE_ONLY}",
}


def item_frame(scores: pd.DataFrame, examples: pd.DataFrame) -> pd.DataFrame:
    """Per-example rows (value = the example's score) with log10(N/1e9) from the scores table, for one-seed grids."""
    sizes = grid_frame(scores).groupby("model")["log10_size"].first()
    rows = examples.assign(regime=examples["regime"] if "regime" in examples else "replace",
                           value=examples["score"].astype(float))
    rows = rows[["model", "task", "regime", "iteration", "seed", "share", "example_id", "value"]].dropna(subset=["value"])
    return rows.assign(log10_size=rows["model"].map(sizes).astype(float))


def fit_one(data: pd.DataFrame, metric: str = "score", higher_is_better: bool = True, level: str = "run") -> GridModel | str:
    """Fit the grid model on one (iteration, regime) at run or item level; a reason string when the grid cannot support it."""
    it, regime = int(data["iteration"].iloc[0]), str(data["regime"].iloc[0])
    formula = _formula(data)
    if formula is None:
        return "needs ≥ 2 tasks or ≥ 2 model sizes (with n_params) to test an interaction"
    if data["share"].nunique() < 2:
        return "needs ≥ 2 shares"
    if "log10_size" in formula:  # centred, so each task's slope of share is read at the grid's mean size, not at 1e9
        data = data.assign(log10_size=data["log10_size"] - data["log10_size"].mean())
    if level == "run" and data.groupby(["model", "task"])["seed"].nunique().min() < 2:
        return ("needs ≥ 2 seeds (training runs) per model and task, or one seed's per-example rows: with one seed the "
                "run intercept is not identifiable")
    keys = RUN if level == "run" else ["task", "example_id"]
    groups = data[keys].astype(str).agg("/".join, axis=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = smf.mixedlm(formula, data, groups=groups).fit(reml=True, method=list(FIT_METHODS))
        except np.linalg.LinAlgError as e:
            return f"the mixed model could not be fitted ({e}): the grid's design is singular"
    names = list(result.fe_params.index)
    df = max(len(data) - len(names), 1)  # residual df of the fixed part: MixedLM's z ignores that variances are estimated
    tasks = tuple(sorted(data["task"].unique()))
    sign = 1.0 if higher_is_better else -1.0
    terms: list[GridTerm] = []
    joint: list[JointTest] = []
    if "share * C(task)" in formula:
        ref = tasks[0]
        at = " (at the mean log size)" if "log10_size" in formula else ""
        for t in tasks:
            w = {"share": 1.0} if t == ref else {"share": 1.0, f"share:C(task)[T.{t}]": 1.0}
            terms.append(_contrast(result, names, w, df, f"slope of share: {t}", f"change in {metric} per unit share on {t}{at}"))
        for t in tasks[1:]:
            name = f"share:C(task)[T.{t}]"
            worse = "faster" if sign > 0 else "slower"
            terms.append(_contrast(result, names, {name: 1.0}, df, f"share × task: {t} − {ref}",
                                   f"< 0: {t} degrades {worse} with share than {ref}"))
        inter = [f"share:C(task)[T.{t}]" for t in tasks[1:]]
        joint.append(_joint(result, inter, df, "share × task (all)", "tasks differ in how fast they degrade with share"))
    if "log10_size" in formula:
        better = "> 0" if sign > 0 else "< 0"
        terms.append(_contrast(result, names, {"share:log10_size": 1.0}, df, "share × log10 size",
                               f"{better}: larger models lose less per unit share (tolerate more)"))
    group_var, scale = float(result.cov_re.iloc[0, 0]), float(result.scale)
    notes = {str(w.message).splitlines()[0] for w in caught if BOUNDARY_WARNING not in str(w.message)}
    if group_var <= 1e-6 * (group_var + scale):
        notes.add(f"{level} intercept variance estimated at 0 (boundary): it adds nothing beyond the residual")
    return GridModel(it, regime, metric, formula, RANDOM_EFFECTS[level], level, int(len(data)), int(groups.nunique()),
                     tasks, tuple(terms), tuple(joint), float(np.sqrt(max(group_var, 0.0))), float(np.sqrt(scale)),
                     bool(result.converged), tuple(sorted(notes)))


def fit_grid_models(scores: pd.DataFrame, examples: pd.DataFrame | None = None, metric: str = "score",
                    higher_is_better: bool = True) -> list[GridModel | tuple[int, str, str]]:
    """The grid model for every (iteration ≥ 1, regime): a GridModel, or (iteration, regime, why not).

    With ≥ 2 seeds per model and task it is fitted on (run, share) means; with one seed and per-example rows
    of the primary score, on those rows with item intercepts (test-set noise only).
    """
    frame = grid_frame(scores, metric)
    items = item_frame(scores, examples) if examples is not None and not examples.empty and metric == "score" else None
    out: list[GridModel | tuple[int, str, str]] = []
    for (it, regime), data in frame[frame["iteration"] >= 1].groupby(["iteration", "regime"], sort=True):
        fitted = fit_one(data.reset_index(drop=True), metric, higher_is_better)
        one_seed = data.groupby(["model", "task"])["seed"].nunique().max() < 2
        if isinstance(fitted, str) and one_seed and items is not None:
            rows = items[(items["iteration"] == it) & (items["regime"] == regime)]
            fitted = fit_one(rows.reset_index(drop=True), metric, higher_is_better, level="item") if len(rows) else fitted
        out.append(fitted if isinstance(fitted, GridModel) else (int(it), str(regime), fitted))
    return out
