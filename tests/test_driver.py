"""The driver with the local executor on small real steps: resumable, idempotent, failures isolated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthmix.cli import app
from synthmix.config import load_study
from synthmix.driver import gc_study, open_db, run_study, study_status
from synthmix.errors import StoreError
from synthmix.executors.local import LocalExecutor
from synthmix.plan import build_plan
from synthmix.store import StudyLock
from toy_study import KINDS, toy_study


def _run(path: Path, jobs: int = 2, **kw: object):
    return run_study(load_study(path), LocalExecutor(jobs=jobs), **kw)


def test_run_then_rerun_executes_nothing(tmp_path: Path) -> None:
    path = toy_study(tmp_path)
    first = _run(path)
    assert first.ok and first.executed == first.total and first.already_done == 0
    second = _run(path)
    assert second.executed == 0 and second.already_done == second.total
    db = open_db(load_study(path))
    scores = db.frame("scores")
    examples = db.frame("examples")
    assert db.integrity_check() == "ok"
    db.close()
    assert {"score", "ece", "oc_gap", "share_examples", "parse_rate", "n_params"} <= set(scores.metric)
    assert len(examples) == 5 * scores[scores.metric == "score"].shape[0]


def test_results_equal_regardless_of_jobs(tmp_path: Path) -> None:
    a, b = toy_study(tmp_path / "a"), toy_study(tmp_path / "b")
    _run(a, jobs=1)
    _run(b, jobs=2)
    frames = []
    for p in (a, b):
        db = open_db(load_study(p))
        frames.append(db.frame("scores").sort_values(["model", "task", "share", "iteration", "seed", "regime", "metric"])
                      .reset_index(drop=True))
        db.close()
    assert frames[0].equals(frames[1])


def test_database_rebuilds_from_artifacts(tmp_path: Path) -> None:
    path = toy_study(tmp_path)
    _run(path)
    study = load_study(path)
    db = open_db(study)
    before = db.frame("scores")
    db.close()
    for f in study.study_dir.glob("results.sqlite*"):
        f.unlink()
    summary = _run(path)
    assert summary.executed == 0
    db = open_db(study)
    after = db.frame("scores")
    db.close()
    key = ["model", "task", "share", "iteration", "seed", "regime", "metric"]
    assert before.sort_values(key).reset_index(drop=True).equals(after.sort_values(key).reset_index(drop=True))


def test_failed_step_skips_dependents_and_others_finish(tmp_path: Path) -> None:
    modules = {k: "toy_steps" for k in KINDS} | {"generate": "toy_fail_steps"}
    path = toy_study(tmp_path, step_modules=modules)
    summary = _run(path)
    assert summary.failed and summary.skipped > 0
    study = load_study(path)
    status = study_status(study)
    assert status.by_kind["generate"]["failed"] == status.by_kind["generate"]["done"] + status.by_kind["generate"]["failed"]
    assert status.by_kind["evaluate"]["done"] > 0, "0 % arms do not need a pool and still finish"
    logs = list((study.study_dir / "logs").glob("generate-*.log"))
    assert logs and "toy failure" in logs[0].read_text()
    again = _run(path)
    assert again.executed == 0 and again.failed, "failed steps are not retried without --retry-failed"


def test_failed_pool_keeps_its_samples_in_the_store_and_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOY_SHORT_POOL", "1")
    modules = {k: "toy_steps" for k in KINDS} | {"generate": "toy_fail_steps"}
    path = toy_study(tmp_path, step_modules=modules)
    summary = _run(path)
    assert summary.failed
    study = load_study(path)
    kept = sorted((study.store / "generate" / ".failed").iterdir())
    assert kept and all((k / "failure.json").is_file() and (k / "samples.jsonl").is_file() for k in kept)
    assert sorted(folder for _, folder in study_status(study).kept_failures) == kept
    assert not list((study.store / "generate").glob(".tmp~*")), "no temporary folder is left behind"
    db = open_db(study)
    try:
        samples = db.frame("samples")
        failed = set(db.failed())
    finally:
        db.close()
    assert set(samples["artifact_id"]) == {k.name for k in kept} <= failed
    assert (samples["parsed_ok"] == 0).all() and samples["reason"].eq("no '####' line").all()


def test_cli_run_exit_code_1_on_failure_and_retry(tmp_path: Path) -> None:
    modules = {k: "toy_steps" for k in KINDS} | {"generate": "toy_fail_steps"}
    path = toy_study(tmp_path, step_modules=modules)
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 1, result.output
    fixed = toy_study(tmp_path)
    result = CliRunner().invoke(app, ["run", str(fixed), "--retry-failed", "--jobs", "2"])
    assert result.exit_code == 0, result.output


def test_timeout_kills_the_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOY_HANG", "1")
    modules = {k: "toy_steps" for k in KINDS} | {"pretrain": "toy_fail_steps"}
    path = toy_study(tmp_path, step_modules=modules, timeouts={"pretrain": 1.0})
    summary = _run(path)
    assert len(summary.failed) == 1 and "timed out after 1 s" in summary.failed[0][1]
    external_mixes = [s for s in build_plan(load_study(path)).steps.values() if s.kind == "mix" and not s.inputs]
    assert summary.executed == len(external_mixes), "only steps independent of the hung one ran"
    assert summary.skipped == summary.total - 1 - summary.executed


def test_second_driver_is_refused_while_first_holds_lock(tmp_path: Path) -> None:
    study = load_study(toy_study(tmp_path))
    with StudyLock(study.study_dir):
        with pytest.raises(StoreError, match="being run by pid"):
            run_study(study, LocalExecutor())


def test_gc_strips_weights_and_a_new_step_recomputes_them(tmp_path: Path) -> None:
    path = toy_study(tmp_path)
    _run(path)
    study = load_study(path)
    n, freed = gc_study(study)
    assert n > 0 and freed > 0
    grown = toy_study(tmp_path, blocks=[{"name": "main", "models": ["mini-120k"], "tasks": ["mini-math"],
                                         "shares": [0.0, 0.5], "iterations": [1, 2, 3], "seeds": [0, 1],
                                         "regimes": ["replace", "accumulate"]}])
    summary = _run(grown)
    assert summary.ok and summary.executed > 0


def test_export_writes_tidy_tables(tmp_path: Path) -> None:
    path = toy_study(tmp_path)
    _run(path)
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["export", str(path), "--format", "parquet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    import pandas as pd

    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == ["model", "task", "share", "iteration", "seed", "regime", "metric", "value"]
    con = sqlite3.connect(load_study(path).study_dir / "results.sqlite")
    assert con.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == len(scores)
