"""Shared by the cluster tests: a tiny real study (steps from ``tinysteps``), CLI runs, and what a run left behind."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
KINDS = ("pretrain", "finetune", "generate", "mix", "evaluate")


def tiny_study(folder: Path, name: str, store: Path, seeds: tuple[int, ...] = (0, 1)) -> Path:
    """Write a study whose every step kind runs a ``tinysteps`` module: 19 real steps in well under a second each."""
    study = {
        "name": name,
        "blocks": [{"name": "main", "models": ["mini-120k"], "tasks": ["mini-math"], "shares": [0.0, 0.5],
                    "iterations": [1], "seeds": list(seeds)}],
        "mixing": {"n": 40},
        "store": str(store),
        "study_dir": str(folder / "runs" / name),
        "step_modules": {kind: f"tinysteps.{kind}" for kind in KINDS},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


def cluster_env(**extra: str) -> dict[str, str]:
    """The environment of drivers and workers: ``tinysteps`` importable, Ray without tokens, the venv first on PATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    env["RAY_AUTH_MODE"] = "disabled"
    env.update(extra)
    return env


def synthmix_run(study: Path, *args: str, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None,
                 timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``synthmix run STUDY ARGS`` as a user types it (optionally inside ``prefix``, e.g. ``nsenter``)."""
    cmd = [*prefix, str(VENV_BIN / "synthmix"), "run", str(study), *args]
    return subprocess.run(cmd, env=env or cluster_env(), capture_output=True, text=True, timeout=timeout)


def scores(study_dir: Path) -> list[tuple[Any, ...]]:
    """Every (condition, metric, value) row of a finished study's database, sorted."""
    with sqlite3.connect(study_dir / "results.sqlite") as con:
        return sorted(con.execute("SELECT model, task, share, iteration, seed, regime, metric, value FROM scores"))


def manifests(store: Path) -> list[dict[str, Any]]:
    """The manifest of every committed artifact in a store, with the step's own worker evidence."""
    out = []
    for path in sorted(store.glob("*/*/manifest.json")):
        manifest = json.loads(path.read_text())
        manifest["worker_evidence"] = json.loads((path.parent / "worker.json").read_text())
        out.append(manifest)
    return out


@pytest.fixture(scope="session")
def local_baseline(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """Scores of the tiny study run by the local executor: what every cluster run must reproduce."""
    folder = tmp_path_factory.mktemp("local")
    study = tiny_study(folder, "tiny", folder / "store")
    result = synthmix_run(study, "--jobs", "2")
    assert result.returncode == 0, result.stderr + result.stdout
    return scores(folder / "runs" / "tiny")
