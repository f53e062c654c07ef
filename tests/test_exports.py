"""Exports hold what the current plan uses; earlier and failed attempts apart and labelled; examples with prompt and gold."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from synthmix.exports import attempt_labels, export_frames, export_study
from synthmix.tasks import get_task


@pytest.fixture(scope="module")
def finished(micro_first_run):
    return micro_first_run[0]


@pytest.fixture
def copy(finished, tmp_path: Path):
    shutil.copytree(finished.study_dir, tmp_path / "study", ignore=shutil.ignore_patterns("*.lock", "lock*"))
    return finished.model_copy(update={"study_dir": tmp_path / "study"})


def test_attempt_labels() -> None:
    ids = pd.Series(["a", "b", "c"])
    assert attempt_labels(ids, current={"a", "b"}, failed={"b"}).tolist() == [
        "current", "failed", "earlier"]


def test_examples_carry_prompt_and_gold(copy) -> None:
    examples = export_frames(copy)["examples"]
    task = get_task("mini-factual", n_train=32, n_validation=8, n_test=16)
    by_id = {str(task.example_id(ex)): ex for ex in task.load(task.eval_split)}
    assert len(examples) == 3 * 16 and examples["prompt"].notna().all()
    for row in examples.itertuples():
        assert row.prompt == task.prompt(by_id[row.example_id]) and row.gold == task.reference(by_id[row.example_id])


def test_samples_of_an_artifact_the_plan_no_longer_uses_are_kept_apart(copy, tmp_path: Path) -> None:
    with sqlite3.connect(copy.study_dir / "results.sqlite") as db:
        db.execute("INSERT INTO samples VALUES ('old-pool', 'mini-120k', 'mini-factual', 0.5, 1, 0, 'remove', "
                   "'000000', 'junk', 0, NULL, 'no answer')")
    frames = export_frames(copy)
    assert "old-pool" not in set(frames["samples"]["artifact_id"])
    other = frames["samples_other"]
    assert other[["artifact_id", "text", "attempt"]].values.tolist() == [["old-pool", "junk", "earlier"]]
    assert set(frames["artifacts"]["artifact_id"]) <= set(frames["runs"]["artifact_id"])
    paths = export_study(copy, tmp_path / "out", "parquet")
    assert [p.name for p in paths] == ["runs.parquet", "scores.parquet", "examples.parquet", "samples.parquet",
                                       "mixes.parquet", "artifacts.parquet", "samples_other.parquet",
                                       "artifacts_other.parquet"]
    assert pd.read_parquet(tmp_path / "out" / "samples_other.parquet")["attempt"].tolist() == ["earlier"]


def _documented_columns() -> dict[str, list[str]]:
    """Table → the columns docs/output-tables.md lists (condition columns and 'columns of X' expanded)."""
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "output-tables.md").read_text(encoding="utf-8")
    condition = ["model", "task", "share", "iteration", "seed", "regime"]
    tables: dict[str, list[str]] = {}
    for name, body in re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL):
        cols: list[str] = []
        for cell in re.findall(r"^\| (.+?) \|", body, re.MULTILINE)[2:]:
            if cell == "condition columns":
                cols += condition
            elif cell.startswith("columns of "):
                cols += tables[cell.removeprefix("columns of ").strip("`")]
            else:
                cols += [c.strip("` ") for c in cell.split(",")]
        tables[name] = cols
    return tables


def test_docs_output_tables_list_every_exported_column(copy) -> None:
    frames = export_frames(copy)
    documented = _documented_columns()
    assert set(documented) == set(frames)
    for name, df in frames.items():
        assert documented[name] == list(df.columns), name


def test_report_frames_keep_only_the_current_plan(copy) -> None:
    from synthmix.exports import current_frames
    from synthmix.report.tables import load_frames

    with sqlite3.connect(copy.study_dir / "results.sqlite") as db:
        for pool in ("old-pool", "new-pool"):
            db.execute(f"INSERT INTO samples VALUES ('{pool}', 'mini-120k', 'mini-factual', 0.5, 1, 0, 'remove', "
                       "'000000', 'junk', 0, NULL, 'no answer')")
        db.execute("INSERT INTO failures VALUES ('old-pool', 'generate', 'generate pool 1', 'StepError: short', 0)")
    frames = load_frames(copy)
    assert {"old-pool", "new-pool"} <= set(frames.samples["artifact_id"]) and "old-pool" in frames.failures
    assert current_frames(frames).samples is frames.samples  # a plan without pools: nothing to tell apart
    with sqlite3.connect(copy.study_dir / "results.sqlite") as db:  # the plan's pool, as record_plan writes it
        db.execute("INSERT INTO runs (model, task, share, iteration, seed, regime, step, role, label, artifact_id, "
                   "status) VALUES ('mini-120k', 'mini-factual', 0.5, 1, 0, 'remove', 'generate', 'pool', 'g', "
                   "'new-pool', 'done')")
    now = current_frames(load_frames(copy))
    assert set(now.samples["artifact_id"]) == {"new-pool"} and now.failures == {}


def test_scores_of_a_condition_dropped_from_the_study_leave_the_report_and_the_export(copy) -> None:
    from synthmix.exports import current_frames, export_frames
    from synthmix.report.tables import load_frames

    with sqlite3.connect(copy.study_dir / "results.sqlite") as db:  # a share an earlier study file had
        db.execute("INSERT INTO scores VALUES ('mini-120k', 'mini-factual', 0.4, 1, 0, 'remove', 'score', 0.9)")
    frames = load_frames(copy)
    assert (frames.scores["share"] == 0.4).any()
    now = current_frames(frames)
    assert not (now.scores["share"] == 0.4).any()
    assert len(now.scores) == len(frames.scores) - 1
    assert not (export_frames(copy)["scores"]["share"] == 0.4).any()
