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
    assert "Most sensitive task (mini-a, iteration 1, replace) at 30%: math (-18.8%)" in " ".join(before)
    _set_scores(study, "mini-a", "math", 1, 0.3, _baseline(study, "mini-a", "math", 1))
    after = " ".join(_findings(study))
    assert "Most sensitive task (mini-a, iteration 1, replace) at 30%: commonsense (-7.6%)" in after
    assert "least sensitive: math (+0.0%)" in after or "least sensitive: math (-0.0%)" in after


def test_significance_sentence_flips_when_a_consistent_drop_appears(study):
    prefix = "math (mini-a, iteration 1, replace): "
    before = next(s for s in _findings(study) if s.startswith(prefix))
    assert "no synthetic share changed the score significantly (Bonferroni, m = 6)" in before
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
                             "task": ["math"], "share": [0.3], "rank": [1], "rel_change": [-0.1]})
    two_tasks = pd.concat([one_task, one_task.assign(task="code", rank=2, rel_change=-0.02)])
    assert sensitivity_finding(ReportTable("table3", "t", "c", one_task, one_task)) == []
    assert sensitivity_finding(ReportTable("table3", "t", "c", two_tasks, two_tasks)) == [
        "Most sensitive task (m, iteration 1, replace) at 30%: math (-10.0%); least sensitive: code (-2.0%)."]
