"""The pools table and the contamination warning: n-gram overlap with training data is not contamination."""

from __future__ import annotations

from pathlib import Path

from synthmix.driver import open_db
from synthmix.report.html import write_report

COND = "model, task, share, iteration, seed, regime"


def _pool_metrics(study, ngram_overlap: float, test_matches: int) -> None:
    db = open_db(study)
    rows = [("mini-a", "math", 0.5, 1, 0, "replace", "ngram_overlap", ngram_overlap),
            ("mini-a", "math", 0.5, 1, 0, "replace", "test_matches", float(test_matches))]
    db.con.executemany(f"INSERT OR REPLACE INTO scores ({COND}, metric, value) VALUES (?,?,?,?,?,?,?,?)", rows)
    db.close()


def test_overlap_with_training_data_alone_gives_no_contamination_warning(tmp_path: Path, study_builder) -> None:
    study = study_builder(tmp_path, seeds=(0,), failed=False)
    _pool_metrics(study, ngram_overlap=0.56, test_matches=0)
    page = write_report(study, svg=False).read_text()
    assert "4-gram overlap with external data" in page and "0.560" in page
    assert "Contamination" not in page


def test_eval_items_written_by_the_writer_are_flagged(tmp_path: Path, study_builder) -> None:
    study = study_builder(tmp_path, seeds=(0,), failed=False)
    _pool_metrics(study, ngram_overlap=0.56, test_matches=3)
    page = write_report(study, svg=False).read_text()
    assert "wrote 3 eval item(s) verbatim" in page
