"""The command line: fast imports, status and dry runs, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthmix.cli import app
from toy_study import toy_study


def test_importing_the_cli_imports_no_torch_transformers_or_pandas() -> None:
    code = ("import sys, synthmix.cli, synthmix.driver, synthmix.plan, synthmix.config; "
            "heavy = [m for m in ('torch', 'transformers', 'pandas', 'matplotlib') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_plan_lists_counts_and_dag(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", str(toy_study(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "finetune" in result.output and "← init=pretrain/" in result.output


def test_status_and_dry_run_report_pending_without_running(tmp_path: Path) -> None:
    path = toy_study(tmp_path)
    for args in (["status", str(path), "--conditions"], ["run", str(path), "--dry-run"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "pending" in result.output
    assert not (tmp_path / "store" / "finetune").exists(), "a dry run computes nothing"


def test_help_lists_every_verb() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for verb in ("run", "status", "plan", "report", "analyze", "monitor", "budget", "export", "gc"):
        assert verb in result.output


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc's children lists)."""
    found: set[int] = set()
    stack = [pid]
    while stack:
        p = stack.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    stack.append(child)
    return found


def test_sigterm_stops_the_run_and_leaves_no_step_process(tmp_path: Path) -> None:
    import os
    import signal
    import time

    from toy_study import KINDS

    path = toy_study(tmp_path, step_modules={k: "toy_fail_steps" if k == "pretrain" else "toy_steps" for k in KINDS})
    env = {**os.environ, "TOY_HANG": "1", "PYTHONPATH": str(Path(__file__).parent)}
    driver = subprocess.Popen([sys.executable, "-m", "synthmix.cli", "run", str(path), "--jobs", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((tmp_path / "store" / "pretrain").glob(".tmp~*")):
        time.sleep(0.2)  # the hanging pretrain step is running
    below = _descendants(driver.pid)
    assert below, "the step runs in child processes"
    driver.send_signal(signal.SIGTERM)
    driver.wait(timeout=60)
    alive = below
    for _ in range(100):  # the resource tracker and forkserver exit once their pipes close
        alive = {p for p in alive if Path(f"/proc/{p}").exists() and "zombie" not in Path(f"/proc/{p}/status").read_text()}
        if not alive:
            break
        time.sleep(0.1)
    assert not alive, f"processes outlived the driver: {[Path(f'/proc/{p}/cmdline').read_bytes()[:120] for p in alive]}"


def _fixture_study_yaml(tmp_path: Path) -> Path:
    """The report tests' hand-built database behind a study file that points at it (analysis reads only the database)."""
    import yaml
    from report.conftest import build_study

    study = build_study(tmp_path)
    path = tmp_path / "fixture.yaml"
    path.write_text(yaml.safe_dump({
        "name": study.name, "study_dir": str(study.study_dir), "store": str(study.store),
        "blocks": [{"name": "main", "models": ["mini-120k"], "tasks": ["mini-math"], "shares": [0.0, 0.5],
                    "iterations": [1], "seeds": [0, 1]}]}))
    return path


def test_analyze_study_writes_the_engine_rows_and_monitor_reads_its_examples_parquet(tmp_path: Path) -> None:
    import pandas as pd

    from synthmix.analysis.analyze import analyze_study
    from synthmix.config import load_study

    path = _fixture_study_yaml(tmp_path)
    result = CliRunner().invoke(app, ["analyze", str(path), "--out", str(tmp_path / "cells.csv")])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "cells.csv")
    expected = analyze_study(load_study(path))
    assert len(written) == len(expected) and set(written["metric"]) == {"score", "accuracy", "ece", "self_bleu"}
    assert written["p_adjusted"].tolist() == pytest.approx(expected["p_adjusted"].tolist(), nan_ok=True, rel=1e-15)
    assert CliRunner().invoke(app, ["export", str(path), "--format", "parquet"]).exit_code == 0
    examples = next((tmp_path / "study").rglob("examples.parquet"))
    bad = CliRunner().invoke(app, ["monitor", str(examples), str(examples)])
    assert bad.exit_code == 2 and "select one condition with --where" in bad.output
    where = ["--where", "model=mini-a", "--where", "task=math", "--where", "iteration=1", "--where", "seed=0"]
    ok = CliRunner().invoke(app, ["monitor", str(examples), str(examples), "--where", "share=0", *where])
    assert ok.exit_code == 0, ok.output


def test_analyze_rejects_a_mapping_without_equals_sign(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("model,task,share,iteration,metric,value\nm,math,0,1,score,0.5\n")
    result = CliRunner().invoke(app, ["analyze", str(path), "--column", "value"])
    assert result.exit_code == 2 and "NAME=VALUE" in result.output
