"""Report tables: every comparison number from synthmix.analysis's engine, exports, omissions with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scipy import stats as sps

from synthmix.analysis.analyze import STUDY_COLUMNS, analyze_study
from synthmix.analysis.stats import bonferroni, paired_t_test
from synthmix.report.tables import build_tables, export_table, load_frames, table_tolerance, to_latex, to_markdown


@pytest.fixture(scope="module")
def built(tmp_path_factory, study_builder):
    frames = load_frames(study_builder(tmp_path_factory.mktemp("t")))
    tables, omitted, cells = build_tables(frames)
    return frames, {t.key: t for t in tables}, omitted, cells


def test_cell_interval_is_the_t_interval_of_the_seed_scores(built):
    frames, _, _, cells = built
    s = frames.metric("score")
    arm = s.loc[(s["model"] == "mini-a") & (s["task"] == "commonsense") & (s["iteration"] == 1) & (s["share"] == 0.3)]
    v = arm["value"].to_numpy()
    lo, hi = sps.t.interval(0.95, v.size - 1, loc=v.mean(), scale=sps.sem(v))
    row = cells.loc[(cells["model"] == "mini-a") & (cells["task"] == "commonsense") & (cells["iteration"] == 1) & (cells["share"] == 0.3)].iloc[0]
    assert (row["mean"], row["low"], row["high"]) == pytest.approx((v.mean(), lo, hi), abs=1e-12)
    assert row["interval"] == "t over 2 seeds"


def test_family_correction_is_bonferroni_over_model_iteration_regime(built):
    frames, _, _, cells = built
    s = frames.metric("score")
    fam = cells.loc[(cells["model"] == "mini-a") & (cells["iteration"] == 1) & (cells["share"] > 0)].sort_values(["task", "share"])
    pvals = []
    for r in fam.itertuples():
        sel = lambda p: s.loc[(s["model"] == "mini-a") & (s["task"] == r.task) & (s["iteration"] == 1) & (s["share"] == p)].sort_values("seed")["value"]  # noqa: E731
        pvals.append(paired_t_test(sel(r.share).to_numpy(), sel(0.0).to_numpy()).pvalue)
    adj = bonferroni(pvals)
    assert fam["family_m"].tolist() == [6] * 6
    assert fam["p_adjusted"].to_numpy() == pytest.approx(np.array(adj.pvalues))


def test_table3_ranks_math_first_for_the_small_model(built):
    _, tables, _, _ = built
    t3 = tables["table3"].data
    first = t3.loc[(t3["model"] == "mini-a") & (t3["iteration"] == 1) & (t3["rank"] == 1)].iloc[0]
    assert first["task"] == "math"
    assert first["relative_change"] == pytest.approx((first["score"] - first["baseline"]) / first["baseline"])


def test_table2_is_omitted_with_a_reason_for_one_model(built):
    _, _, _, cells = built
    one = cells.loc[cells["model"] == "mini-a"]
    result = table_tolerance(one, {"mini-a": 2e6})
    assert result.key == "table2" and "two model sizes" in result.reason


def test_exports_escape_latex_and_markdown():
    df = pd.DataFrame({"task": ["a_b"], "50%": ["0.5 | x"]})
    tex = to_latex(df, "share 50% & more", "t")
    assert r"a\_b" in tex and r"50\%" in tex and r"\toprule" in tex and r"\bottomrule" in tex
    assert r"0.5 \| x" in to_markdown(df)


def test_baselines_table_is_omitted_with_the_reason_when_examples_are_not_the_tasks(built):
    from synthmix.tasks import get_task

    frames = built[0]
    task = get_task("mini-math", n_train=20, n_validation=5, n_test=20)
    floor = pd.Series(0.0, index=[task.example_id(ex) for ex in task.load(task.eval_split)])
    tables, omitted, _ = build_tables(frames, {"math": ("last_number", floor)})
    reason = {o.key: o.reason for o in omitted}["baselines"]
    assert "none of model" in reason and "math" in reason
    assert "baselines" not in {t.key for t in tables}


def test_models_that_do_not_beat_their_baseline_get_a_warning_and_those_that_do_none():
    from synthmix.report.html import floor_warnings
    from synthmix.report.tables import ReportTable

    data = pd.DataFrame({"task": ["mini-reading", "mini-math"], "model": ["mini-120k", "mini-120k"],
                         "score": [0.21, 0.40], "baseline": ["copy_span", "last_number"], "baseline_score": [0.378, 0.074],
                         "ci_low": [-0.19, 0.30], "ci_high": [-0.14, 0.35], "beats": [False, True]})
    warnings = floor_warnings(ReportTable("baselines", "t", "c", data, data))
    assert len(warnings) == 1
    assert "mini-120k on mini-reading does not beat the trivial baseline copy_span" in warnings[0]
    assert "0.210 against 0.378" in warnings[0] and "[-0.190, -0.140]" in warnings[0]
    assert floor_warnings(None) == []


def test_report_table1_csv_and_analyze_study_agree_cell_for_cell(tmp_path, study_builder):
    study = study_builder(tmp_path)
    tables, _, _ = build_tables(load_frames(study))
    export_table(next(t for t in tables if t.key == "table1"), tmp_path / "out")
    report = pd.read_csv(tmp_path / "out" / "table1.csv")
    analyze_study(study).to_csv(tmp_path / "analyze.csv", index=False)
    cli = pd.read_csv(tmp_path / "analyze.csv")
    cli = cli.loc[cli["metric"] == "score"]
    key = ["model", "task", "regime", "iteration", "share"]
    merged = report.merge(cli, on=key, suffixes=("_report", "_analyze"), validate="one_to_one")
    assert len(merged) == len(cli) == 36  # 2 models × 2 tasks × (iteration 0 + 2 iterations × 4 shares)
    for col in [c for c in STUDY_COLUMNS if c not in key]:
        pd.testing.assert_series_equal(merged[f"{col}_report"], merged[f"{col}_analyze"], check_names=False,
                                       check_exact=True, check_dtype=False)


def test_fits_omit_what_four_shares_cannot_support(built):
    _, tables, _, _ = built
    fits = tables["fits"].data
    curve = fits.loc[fits["over"] == "mini-a/math/replace/1"]
    assert curve["omitted"].tolist() == ["4 points for 4 parameters (needs ≥ 5)"] * 2
    assert curve["r2"].isna().all()
    size = fits.loc[fits["fit"] == "safe share vs size"]
    assert (size["omitted"] == "2 points for 2 parameters (needs ≥ 3)").all()
    assert "omitted: 4 points for 4 parameters (needs ≥ 5)" in tables["fits"].display["estimate"].tolist()


def test_power_table_states_each_family_and_its_mde(built):
    _, tables, _, cells = built
    power = tables["power"].data
    row = power.loc[(power["model"] == "mini-a") & (power["iteration"] == 1)].iloc[0]
    fam = cells.loc[(cells["model"] == "mini-a") & (cells["iteration"] == 1) & (cells["share"] > 0)]
    assert (row["family_m"], row["n_pairs"]) == (6, 2)
    assert row["mde_relative_median"] == pytest.approx(fam["mde_relative"].median())
    assert row["n_significant"] + row["n_equivalent"] + row["n_inconclusive"] == 6


def test_table1_caption_names_each_family_and_its_size(built):
    _, tables, _, _ = built
    assert ("mini-a, t=1, replace: commonsense, math × 10%, 30%, 50% vs 0 % (m=6)" in tables["table1"].caption
            and "Bonferroni within each family" in tables["table1"].caption)


def test_table2_safe_share_has_a_seed_bootstrap_interval(built):
    _, tables, _, _ = built
    t2 = tables["table2"].data
    row = t2.loc[(t2["model"] == "mini-a") & (t2["task"] == "math") & (t2["iteration"] == 1)].iloc[0]
    assert row["safe_low"] <= row["safe_share"] <= row["safe_high"]
    assert row["equivalent_up_to"] == 0.0


def test_tables_build_when_no_condition_reports_the_score_metric(tmp_path, study_builder):
    frames = load_frames(study_builder(tmp_path))
    frames.scores = frames.scores.loc[frames.scores["metric"] != "score"]
    tables, omitted, cells = build_tables(frames)
    assert not cells.empty and cells["mean"].isna().all() and {"relative_change", "p_adjusted"} <= set(cells.columns)
    assert {t.key for t in tables} >= {"table1"}
