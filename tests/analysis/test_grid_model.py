"""The grid model on simulated grids from a known model: a planted share × task and share × size interaction is found, a null grid's is not."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as sps

from synthmix.analysis.grid_model import FIT_METHODS, fit_grid_models, fit_one, grid_frame, item_frame
from synthmix.errors import DataError

MAIN = {"m-1b": 1e9}
SCALE = {"m-100m": 1e8, "m-300m": 3e8, "m-3b": 3e9, "m-10b": 1e10}
FORMULA = "value ~ share * C(task) + share * log10_size"


def simulate_grid(planted: bool, seed: int = 0, seeds: int = 3) -> pd.DataFrame:
    """The paper's shape: one model × 3 tasks × 6 shares, plus 4 sizes × task a × {0, .2, .3}; seed intercepts sd 0.03.

    Planted: task a loses 0.4 per unit share, b 0.1, c 0.15, and the slope rises 0.15 per decade of size.
    Null: every task and size loses 0.2 per unit share.
    """
    rng = np.random.default_rng(seed)
    slopes = {"a": -0.4, "b": -0.1, "c": -0.15} if planted else {"a": -0.2, "b": -0.2, "c": -0.2}
    rows = []
    for model, n in {**MAIN, **SCALE}.items():
        decades = np.log10(n / 1e9)
        for task in ("a", "b", "c") if model in MAIN else ("a",):
            rows.append(dict(model=model, task=task, regime="replace", iteration=1, seed=0, share=0.0, metric="n_params", value=n))
            for s in range(seeds):
                run = rng.normal(0, 0.03)
                for share in (0, .1, .2, .3, .4, .5) if model in MAIN else (0, .2, .3):
                    slope = slopes[task] + (0.15 * decades if planted else 0.0)
                    value = 0.5 + 0.05 * decades + run + slope * share + rng.normal(0, 0.02)
                    rows.append(dict(model=model, task=task, regime="replace", iteration=1, seed=s, share=share,
                                     metric="score", value=value))
    return pd.DataFrame(rows)


def _terms(model):
    return {t.name: t for t in model.terms}


def test_fit_grid_models_planted_interactions_found():
    (model,) = fit_grid_models(simulate_grid(planted=True))
    terms = _terms(model)
    assert model.formula == FORMULA and (model.n_obs, model.n_groups, model.level) == (90, 21, "run")
    assert terms["share × task: b − a"].estimate > 0 and terms["share × task: b − a"].pvalue < 0.05
    assert terms["share × log10 size"].estimate > 0 and terms["share × log10 size"].pvalue < 0.05
    assert model.joint[0].pvalue < 0.05
    assert terms["share × log10 size"].low <= 0.15 <= terms["share × log10 size"].high


def test_fit_grid_models_null_grid_finds_nothing():
    (model,) = fit_grid_models(simulate_grid(planted=False))
    terms = _terms(model)
    assert terms["share × task: b − a"].pvalue >= 0.05 and terms["share × task: c − a"].pvalue >= 0.05
    assert terms["share × log10 size"].pvalue >= 0.05 and model.joint[0].pvalue >= 0.05


def test_fit_grid_models_matches_statsmodels_formula_api():
    scores = simulate_grid(planted=True)
    (model,) = fit_grid_models(scores)
    data = grid_frame(scores)
    data["log10_size"] -= data["log10_size"].mean()
    runs = data[["model", "task", "seed"]].astype(str).agg("/".join, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = smf.mixedlm(FORMULA, data, groups=runs).fit(reml=True, method=list(FIT_METHODS))
    terms = _terms(model)
    for name, coef in (("share × task: b − a", "share:C(task)[T.b]"), ("share × log10 size", "share:log10_size")):
        assert terms[name].estimate == pytest.approx(ref.fe_params[coef], abs=1e-10)
        assert terms[name].se == pytest.approx(ref.bse[coef], rel=1e-8)
        t = ref.fe_params[coef] / ref.bse[coef]
        assert terms[name].pvalue == pytest.approx(2 * sps.t.sf(abs(t), 90 - 8), rel=1e-6)  # 8 fixed effects
    assert terms["slope of share: a"].estimate == pytest.approx(ref.fe_params["share"], abs=1e-10)
    wald = ref.wald_test("share:C(task)[T.b] = 0, share:C(task)[T.c] = 0", scalar=True, use_f=False)
    assert model.joint[0].chi2 == pytest.approx(float(wald.statistic), rel=1e-8)
    assert model.joint[0].pvalue == pytest.approx(sps.f.sf(float(wald.statistic) / 2, 2, 90 - 8), rel=1e-6)
    assert model.group_sd == pytest.approx(np.sqrt(ref.cov_re.iloc[0, 0]))


def test_fit_one_item_level_fixed_effects_equal_run_level():
    """Per-example 0/1 rows with crossed run and item intercepts give the run-level fit's fixed effects (balanced items)."""
    rng = np.random.default_rng(1)
    rows = []
    for task, base, slope in (("a", 0.7, -0.5), ("b", 0.6, -0.1)):
        difficulty = rng.normal(0, 1.0, 40)
        for s in range(3):
            run = rng.normal(0, 0.3)
            for share in (0.0, 0.25, 0.5):
                logit = np.log(base / (1 - base)) + difficulty + run + 4 * slope * share
                y = (rng.random(40) < 1 / (1 + np.exp(-logit))).astype(float)
                rows += [dict(model="m", task=task, regime="replace", iteration=1, seed=s, share=share,
                              item=f"{task}{i}", run=f"m/{task}/{s}", value=y[i]) for i in range(40)]
    examples = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crossed = smf.mixedlm("value ~ share * C(task)", examples, groups=np.ones(len(examples)),
                              vc_formula={"run": "0 + C(run)", "item": "0 + C(item)"}).fit(reml=True)
    model = fit_one(grid_frame(examples.assign(metric="score")).query("iteration == 1"))
    ours = _terms(model)["share × task: b − a"]
    assert ours.estimate == pytest.approx(crossed.fe_params["share:C(task)[T.b]"], abs=1e-8)
    assert crossed.bse["share:C(task)[T.b]"] / ours.se == pytest.approx(1.07, abs=0.01)  # measured; stated in the docstring


def test_fit_one_single_seed_refused_with_reason():
    reason = fit_one(grid_frame(simulate_grid(planted=True, seeds=1)))
    assert isinstance(reason, str) and reason.startswith("needs ≥ 2 seeds (training runs) per model and task, or one seed's")


def simulate_items(planted: bool, seed: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One seed, 2 sizes × 2 tasks × shares {0, .25, .5}, 400 shared items per task; P(correct) falls 0.5 (a) or 0.1 (b) per unit share."""
    rng = np.random.default_rng(seed)
    slopes = {"a": -0.5, "b": -0.1} if planted else {"a": -0.3, "b": -0.3}
    scores, examples = [], []
    ease = {task: rng.uniform(-0.2, 0.2, 400) for task in ("a", "b")}  # item difficulty, shared by every arm
    for model, n in (("m-small", 1e8), ("m-large", 1e9)):
        for task in ("a", "b"):
            scores.append(dict(model=model, task=task, regime="replace", iteration=1, seed=0, share=0.0, metric="n_params", value=n))
            for share in (0.0, 0.25, 0.5):
                hits = (rng.random(400) < 0.6 + ease[task] + slopes[task] * share).astype(float)
                key = dict(model=model, task=task, regime="replace", iteration=1, seed=0, share=share)
                examples += [dict(key, example_id=f"{task}{i}", score=h) for i, h in enumerate(hits)]
                scores.append(dict(key, metric="score", value=hits.mean()))
    return pd.DataFrame(scores), pd.DataFrame(examples)


def test_fit_grid_models_one_seed_items_planted_found_and_match_statsmodels():
    scores, examples = simulate_items(planted=True)
    (model,) = fit_grid_models(scores, examples)
    assert (model.level, model.n_obs, model.n_groups) == ("item", 4800, 800)
    term = _terms(model)["share × task: b − a"]
    assert term.estimate > 0 and term.pvalue < 0.05
    data = item_frame(scores, examples)
    data["log10_size"] -= data["log10_size"].mean()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = smf.mixedlm(FORMULA, data, groups=data["task"] + "/" + data["example_id"]).fit(reml=True, method=list(FIT_METHODS))
    assert term.estimate == pytest.approx(ref.fe_params["share:C(task)[T.b]"], abs=1e-10)
    t = ref.fe_params["share:C(task)[T.b]"] / ref.bse["share:C(task)[T.b]"]
    assert term.pvalue == pytest.approx(2 * sps.t.sf(abs(t), 4800 - 6), rel=1e-6)  # 6 fixed effects


def test_fit_grid_models_one_seed_items_null_finds_nothing():
    (model,) = fit_grid_models(*simulate_items(planted=False))
    assert _terms(model)["share × task: b − a"].pvalue >= 0.05 and _terms(model)["share × log10 size"].pvalue >= 0.05


def test_grid_frame_missing_seed_column():
    with pytest.raises(DataError, match=r"missing column\(s\) \['seed'\]"):
        grid_frame(simulate_grid(planted=True).drop(columns="seed"))
