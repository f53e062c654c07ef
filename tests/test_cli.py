"""The command line: fast imports, status and dry runs, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    assert "finetune" in result.output and "← init=" in result.output


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
