"""Headline sentences are computed from the numbers: changing a number changes the sentence."""

from __future__ import annotations

from synthmix.driver import open_db
from synthmix.report.findings import headline_findings
from synthmix.report.tables import build_tables, load_frames


def _findings(study) -> list[str]:
    frames = load_frames(study)
    tables, _, cells = build_tables(frames)
    return headline_findings(cells, {t.key: t for t in tables})


def _set_scores(study, model: str, task: str, iteration: int, share: float, values: dict[int, float]) -> None:
    db = open_db(study)
    for seed, v in values.items():
        db.con.execute("UPDATE scores SET value=? WHERE metric='score' AND model=? AND task=? AND iteration=? "
                       "AND share=? AND seed=?", (v, model, task, iteration, share, seed))
    db.close()


def _baseline(study, model: str, task: str, iteration: int) -> dict[int, float]:
    db = open_db(study)
    rows = db.con.execute("SELECT seed, value FROM scores WHERE metric='score' AND model=? AND task=? AND iteration=? "
                          "AND share=0", (model, task, iteration)).fetchall()
    db.close()
    return dict(rows)


def test_sensitivity_sentence_flips_when_math_drop_is_removed(study):
    before = _findings(study)
    assert ("Largest point-estimate drop (mini-a, iteration 1, replace) at 30%: math (-18.8%); smallest: "
            "commonsense (-7.6%). The order is not tested.") in before
    _set_scores(study, "mini-a", "math", 1, 0.3, _baseline(study, "mini-a", "math", 1))
    after = _findings(study)
    assert ("Largest point-estimate drop (mini-a, iteration 1, replace) at 30%: commonsense (-7.6%); smallest: "
            "math (+0.0%). The order is not tested.") in after


def test_significance_sentence_flips_when_a_consistent_drop_appears(study):
    prefix = "math (mini-a, iteration 1, replace): "
    before = next(s for s in _findings(study) if s.startswith(prefix))
    assert before == (prefix + "no synthetic share differed significantly from the 0 % arm (0.575 [0.469, 0.681]; "
                      "Bonferroni, m = 6); 10%, 30%, 50% inconclusive: with 2 seeds a relative "
                      "change smaller than 142%–993% would go undetected at 80 % power.")
    base = _baseline(study, "mini-a", "math", 1)
    _set_scores(study, "mini-a", "math", 1, 0.1, {s: v - 0.30 - 0.001 * s for s, v in base.items()})
    after = next(s for s in _findings(study) if s.startswith(prefix))
    assert after.startswith(prefix + "the score fell from 0.575")
    assert "to 0.275" in after and "at 10% synthetic data" in after and "m = 6" in after


def test_findings_of_an_empty_database_say_nothing_is_scored(tmp_path, study_builder):
    from synthmix.config import Block, Study

    empty = Study(name="empty", blocks=[Block(name="b", models=["mini-a"], tasks=["math"], shares=[0.0], iterations=[0])],
                  study_dir=tmp_path / "s", store=tmp_path / "store")
    assert _findings(empty) == ["No condition has been scored yet; the tables below show what is planned, failed or pending."]


def test_sensitivity_sentence_needs_two_tasks() -> None:
    import pandas as pd

    from synthmix.report.findings import sensitivity_finding
    from synthmix.report.tables import ReportTable

    one_task = pd.DataFrame({"model": ["m"], "iteration": [1], "regime": ["replace"], "metric": ["score"],
                             "task": ["math"], "share": [0.3], "rank": [1], "relative_change": [-0.1]})
    two_tasks = pd.concat([one_task, one_task.assign(task="code", rank=2, relative_change=-0.02)])
    assert sensitivity_finding(ReportTable("table3", "t", "c", one_task, one_task)) == []
    assert sensitivity_finding(ReportTable("table3", "t", "c", two_tasks, two_tasks)) == [
        "Largest point-estimate drop (m, iteration 1, replace) at 30%: math (-10.0%); smallest: code (-2.0%). "
        "The order is not tested."]


def test_equivalent_shares_are_named_with_their_margin() -> None:
    import pandas as pd

    from synthmix.report.findings import share_findings

    rows = pd.DataFrame({"model": "m", "iteration": 1, "regime": "replace", "task": "math", "share": [0.0, 0.1, 0.3],
                         "mean": [0.5, 0.5, 0.45], "low": [0.49, 0.49, 0.40], "high": [0.51, 0.51, 0.5],
                         "pvalue": [float("nan"), 0.9, 0.2], "significant": False, "equivalent": [False, True, False],
                         "family_m": 2, "correction": "holm", "equivalence_margin": 0.03,
                         "mde_relative": [float("nan"), 0.02, 0.12], "label": "seed-level (5 seeds)", "n_pairs": 5})
    assert share_findings(rows) == [
        "math (m, iteration 1, replace): no synthetic share differed significantly from the 0 % arm (0.500 [0.490, "
        "0.510]; Holm, m = 2); equivalent to the 0 % arm within ±3% (TOST): 10%; 30% inconclusive: with 5 seeds "
        "a relative change smaller than 12% would go undetected at 80 % power."]
