"""The driver with the local executor on small real steps: resumable, idempotent, failures isolated."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthmix.cli import app
from synthmix.config import Study, load_study
from synthmix.driver import gc_study, open_db, resolve_ids, run_study, study_status
from synthmix.errors import StoreError
from synthmix.executors.local import LocalExecutor
from synthmix.plan import Plan, build_plan
from synthmix.store import Store, StudyLock
from crash_harness import env_for
from proc_tree import is_alive, process_tree
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
        with pytest.raises(StoreError, match="being run by pid [0-9]+ on "):
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


def _finished(tmp_path: Path) -> tuple[Path, Study, Plan, dict[str, str], Store]:
    """A toy study run once: its file, study, plan, store ids and store."""
    path = toy_study(tmp_path)
    _run(path)
    study = load_study(path)
    plan = build_plan(study)
    return path, study, plan, resolve_ids(plan, study), Store(study.store)


def _first_of(plan: Plan, kind: str) -> str:
    """The plan key of the first step of ``kind``."""
    return next(k for k, s in plan.steps.items() if s.kind == kind)


def _flip_a_byte(path: Path) -> None:
    """Change a file's content without changing its size (an edited pool, a bit flip)."""
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_damaged_input_is_named_set_aside_and_recomputed(tmp_path: Path) -> None:
    path, study, plan, ids, store = _finished(tmp_path)
    pretrain = _first_of(plan, "pretrain")
    _flip_a_byte(store.path("pretrain", ids[pretrain]) / "payload.bin")
    for key, step in plan.steps.items():  # its readers must run again, so they read the damaged input
        if pretrain in step.inputs.values():
            shutil.rmtree(store.path(step.kind, ids[key]))
    summary = _run(path)
    assert summary.ok, summary.failed
    assert summary.damaged == [(f"pretrain/{ids[pretrain]}", "payload.bin does not match its sha256")]
    assert store.damage("pretrain", ids[pretrain]) == []
    assert len(list((store.root / "pretrain" / ".damaged").iterdir())) == 1


def test_a_truncated_artifact_is_recomputed_even_when_nothing_reads_it(tmp_path: Path) -> None:
    path, study, plan, ids, store = _finished(tmp_path)
    key = _first_of(plan, "evaluate")
    with open(store.path("evaluate", ids[key]) / "payload.bin", "r+b") as f:
        f.truncate(5)
    summary = _run(path)
    assert summary.executed == 1 and [ref for ref, _ in summary.damaged] == [f"evaluate/{ids[key]}"]
    assert "payload.bin has 5 bytes" in summary.damaged[0][1]


def test_verify_exits_1_naming_damaged_artifacts_and_the_next_run_recomputes_them(tmp_path: Path) -> None:
    path, study, plan, ids, store = _finished(tmp_path)
    clean = CliRunner().invoke(app, ["verify", str(path)])
    assert clean.exit_code == 0, clean.output
    key = _first_of(plan, "generate")
    _flip_a_byte(store.path("generate", ids[key]) / "payload.bin")
    damaged = CliRunner().invoke(app, ["verify", str(path)])
    assert damaged.exit_code == 1
    assert f"damaged: generate/{ids[key]}: payload.bin does not match its sha256" in " ".join(damaged.output.split())
    assert _run(path).executed == 1
    assert CliRunner().invoke(app, ["verify", str(path)]).exit_code == 0


def _step_lines(output: str) -> list[str]:
    """The per-step lines of ``synthmix plan`` (they start with kind/id)."""
    return [line for line in output.splitlines() if line.split() and line.split()[0].partition("/")[0] in KINDS]


def test_plan_lists_store_ids_done_and_why_a_step_reruns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "code"
    code.mkdir()
    shutil.copy(Path(__file__).parent / "toy_steps.py", code / "toy_steps_copy.py")
    monkeypatch.syspath_prepend(str(code))
    path = toy_study(tmp_path, step_modules={k: "toy_steps_copy" for k in KINDS})
    study = load_study(path)
    ids = resolve_ids(build_plan(study), study)
    fresh = CliRunner().invoke(app, ["plan", str(path)])
    assert fresh.exit_code == 0, fresh.output
    lines = _step_lines(fresh.output)
    assert len(lines) == len(ids) and all(line.endswith("to run (new)") for line in lines)
    assert {line.split()[0] for line in lines} == {f"{s.kind}/{ids[k]}" for k, s in build_plan(study).steps.items()}
    _run(path)
    done = CliRunner().invoke(app, ["plan", str(path)])
    assert sum(line.endswith(" done") for line in _step_lines(done.output)) == len(ids)
    module = code / "toy_steps_copy.py"
    module.write_text(module.read_text().replace("* 4096", "* 4097"))
    changed = CliRunner().invoke(app, ["plan", str(path)])
    reasons = [line.partition(" to run ")[2] for line in _step_lines(changed.output)]
    assert len(reasons) == len(ids) and all(r.startswith("(code of toy_steps_copy changed") for r in reasons)
    assert "(code of toy_steps_copy changed; input pool1 (generate) reruns)" in reasons


def test_a_full_disk_exits_1_without_a_traceback_and_the_next_run_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = toy_study(tmp_path)
    monkeypatch.setenv("SYNTHMIX_FAIL_AT", "commit:write-manifest:ENOSPC")
    full = CliRunner().invoke(app, ["run", str(path), "--jobs", "1"])
    assert full.exit_code == 1, full.output
    assert f"no space left on {tmp_path / 'store'} (needs about 1 MB)" in " ".join(full.output.split())
    assert "Traceback" not in full.output and not list((tmp_path / "store").glob("*/.tmp~*"))
    monkeypatch.delenv("SYNTHMIX_FAIL_AT")
    resumed = CliRunner().invoke(app, ["run", str(path), "--jobs", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert "0 failed, 0 skipped" in resumed.output


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_every_process_the_driver_starts_dies_with_it(tmp_path: Path, signum: int, code: int) -> None:
    path = toy_study(tmp_path)
    # A runner started in the background without job control (`cmd &` in a script) ignores SIGINT, and the driver
    # would inherit that; the test is about a driver that gets the signal, so it starts with the default handler.
    driver = subprocess.Popen([sys.executable, "-m", "synthmix.cli", "run", str(path), "--jobs", "2"],
                              env=env_for(TOY_SLEEP_S="120"), start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((tmp_path / "store").glob("*/.tmp~*")):
        time.sleep(0.2)
    time.sleep(1)
    tree = process_tree(driver.pid)
    assert len(tree) >= 3, f"expected forkserver, resource tracker and a step process: {tree}"
    os.kill(driver.pid, signum)
    _, stderr = driver.communicate(timeout=60)
    assert driver.returncode == code, stderr
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(is_alive(*p) for p in tree):
        time.sleep(0.2)
    assert [p for p in tree if is_alive(*p)] == []


def test_status_counts_a_truncated_artifact_as_pending_and_names_it(tmp_path: Path) -> None:
    path, study, plan, ids, store = _finished(tmp_path)
    key = _first_of(plan, "mix")
    with open(store.path("mix", ids[key]) / "payload.bin", "r+b") as f:
        f.truncate(7)
    report = study_status(study)
    assert report.by_kind["mix"]["pending"] == 1
    assert report.damaged == [(f"mix/{ids[key]}", "payload.bin has 7 bytes, the manifest says 131072")]
    result = CliRunner().invoke(app, ["status", str(path)])
    assert result.exit_code == 0 and f"damaged: mix/{ids[key]}: payload.bin has 7 bytes" in result.output
