"""The report's early-warning tables on the hand-built database: ECE levels, and the rule scored under both baselines."""

from __future__ import annotations

import pytest

from synthmix.analysis.warning import score_early_warning
from synthmix.report.early_warning import early_warning_tables, table_warning_scores, warning_finding
from synthmix.report.tables import Omitted, load_frames


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory, study_builder):
    return load_frames(study_builder(tmp_path_factory.mktemp("ew")))


def test_early_warning_tables_levels_and_scores(frames):
    levels, scored = early_warning_tables(frames)
    top = levels.data.loc[levels.data["ece_ratio"].idxmax()]
    assert (top["task"], top["share"], top["iteration"], round(top["ece_ratio"], 2)) == ("math", 0.5, 1, 2.90)
    assert int((levels.data["level"] != "ok").sum()) == 7
    rows = scored.data.set_index(["baseline", "rule"])
    ece = rows.loc[("iteration0", "ECE ≥ 1.5× (warn)")]
    assert (ece.tp, ece.fp, ece.fn, ece.tn) == (0, 2, 0, 7)  # mini-b math 10 % and 30 % at t=1: equal seed differences, untestable
    assert ece.identical_false_alarm == pytest.approx(0.294, abs=5e-4)  # 60-example ECE is noisy between seeds
    assert set(scored.data["baseline"]) == {"iteration0", "same_iteration"}
    assert "No values for: OC gap +0.05, perplexity ≥ 1.1× (not scored)." in scored.notes


def test_table_warning_scores_counts_equal_analysis(frames):
    scored = table_warning_scores(frames)
    direct = score_early_warning(frames.scores, frames.examples, baseline="same_iteration")
    for rule in direct.rules:
        row = scored.data.loc[(scored.data["baseline"] == "same_iteration") & (scored.data["rule"] == rule.rule)].iloc[0]
        assert (row.tp, row.fp, row.fn, row.tn) == (rule.tp, rule.fp, rule.fn, rule.tn)
    assert "α = 0.05 per comparison" in scored.caption and "iteration0 = the unit's model at iteration 0" in scored.caption


def test_table_warning_scores_one_iteration_omitted(frames):
    one = type(frames)(**{**vars(frames), "scores": frames.scores.loc[frames.scores["iteration"] <= 1]})
    result = table_warning_scores(one)
    assert isinstance(result, Omitted) and "needs ≥ 2 iterations with synthetic data" in result.reason


def test_warning_finding_without_events_says_recall_undefined(frames):
    levels, scored = early_warning_tables(frames)
    sentences = warning_finding(levels, scored)
    assert sentences[1] == ("Scored against significant drops one iteration later (baseline iteration0): no unit at risk "
                            "dropped, so the ECE warn rule's recall is undefined; it fired 2 of 9 times, each a false alarm.")


def test_report_page_has_scored_warning_and_grid_model_sections(tmp_path, study_builder):
    from synthmix.report.html import write_report

    path = write_report(study_builder(tmp_path), svg=False)
    page = path.read_text(encoding="utf-8")
    assert '<section id="warning_scores">' in page and '<section id="grid_model">' in page
    assert "no unit at risk dropped, so the ECE warn rule&#x27;s recall is undefined" in page
    assert (path.parent / "tables" / "warning_scores.csv").is_file() and (path.parent / "tables" / "grid_model.csv").is_file()
