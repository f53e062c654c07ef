"""The HTML report against its database: numbers equal, failed and missing cells marked, self-contained."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from synthmix.driver import open_db
from synthmix.report.html import write_report


class TableCells(HTMLParser):
    """Collect the text of every cell of one table (by id) in an HTML page."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data


def table_rows(page: str, table_id: str) -> list[dict[str, str]]:
    """Rows of an HTML table as dicts keyed by its header cells."""
    parser = TableCells(table_id)
    parser.feed(page)
    header, *body = parser.rows
    return [dict(zip(header, row, strict=True)) for row in body]


@pytest.fixture(scope="module")
def two_seed_report(tmp_path_factory: pytest.TempPathFactory, study_builder) -> tuple[object, str]:
    study = study_builder(tmp_path_factory.mktemp("two"))
    return study, write_report(study, svg=False).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def one_seed_report(tmp_path_factory: pytest.TempPathFactory, study_builder) -> tuple[object, str, Path]:
    study = study_builder(tmp_path_factory.mktemp("one"), seeds=(0,))
    path = write_report(study, svg=False)
    return study, path.read_text(encoding="utf-8"), path


def test_report_table1_numbers_equal_database_seed_means(two_seed_report):
    study, page = two_seed_report
    db = open_db(study)
    scores = db.frame("scores")
    db.close()
    means = scores.loc[scores["metric"] == "score"].groupby(["model", "task", "iteration", "share"])["value"].mean()
    rows = table_rows(page, "table1-table")
    checked = 0
    for (model, task, iteration, share), mean in means.items():
        row = next(r for r in rows if (r["model"], r["task"], r["iteration"]) == (model, task, str(iteration)))
        assert row[f"{100 * share:g}%"].startswith(f"{mean:.3f}"), (model, task, iteration, share)
        checked += 1
    assert checked == len(means) == 2 * 2 * (1 + 2 * 4)


def test_report_provenance_lists_every_artifact_with_wall_time(two_seed_report):
    study, page = two_seed_report
    db = open_db(study)
    artifacts = db.frame("artifacts")
    db.close()
    rows = {r["artifact"]: r for r in table_rows(page, "provenance")}
    assert set(rows) == set(artifacts["artifact_id"])
    for a in artifacts.itertuples():
        assert rows[a.artifact_id]["wall (s)"] == f"{a.wall_s:.1f}"
        assert "torch 2.13.0" in rows[a.artifact_id]["versions"]


def test_report_is_self_contained(two_seed_report):
    _, page = two_seed_report
    assert not re.search(r"""(src|href)=["']https?://""", page)
    assert "<script" not in page
    assert page.count('src="data:image/png;base64,') == 8


def test_report_with_failed_and_pending_conditions_marks_cells(one_seed_report):
    _, page, _ = one_seed_report
    rows = table_rows(page, "table1-table")
    failed = next(r for r in rows if (r["model"], r["task"], r["iteration"]) == ("mini-b", "commonsense", "1"))
    pending = next(r for r in rows if (r["model"], r["task"], r["iteration"]) == ("mini-a", "math", "2"))
    assert failed["50%"] == "✗ failed"
    assert pending["50%"] == "… pending"
    assert '<td class="bad">✗ failed</td>' in page
    assert "1 planned condition(s) failed" in page and "StepError: out of memory" in page


def test_report_single_seed_warns_test_set_noise_only(one_seed_report):
    _, page, path = one_seed_report
    assert "Single training seed" in page and "test-set noise only" in page
    assert (path.parent / "tables" / "table1.tex").read_text().count(r"\toprule") == 1


def test_report_shows_pool_samples_with_reasons(one_seed_report):
    _, page, _ = one_seed_report
    assert "30/40 parsed" in page
    assert "no #### answer" in page and "garbled &lt;" in page
