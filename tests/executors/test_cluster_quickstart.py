"""The real quickstart study through ``--executor ray`` and ``--executor slurm`` equals the local executor's run.

One local run of studies/quickstart.yaml (36 steps, ``--jobs 2``, fresh store) is the reference for both clusters.
The cluster runs start from a store seeded with that run's two pretrained rungs (those artifacts only, copied):
pretraining is most of the quickstart's wall time and runs the same code on every executor, so the clusters
run the other 34 steps (fine-tunes, generations, mixes, evaluations) with the same thread count per step.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import cluster_env, synthmix_run
from test_ray import ray_head
from test_slurm import slurm_up

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "studies" / "quickstart.yaml"
RAY_PORT = 6491
SLURM_PORTS = {"SLURMCTLD_PORT": "7017", "SLURMD_PORT": "7018"}
TABLES = {
    "scores": "model, task, share, iteration, seed, regime, metric, value",
    "examples": "model, task, share, iteration, seed, regime, example_id, score, correct, confidence, prediction",
    "samples": "artifact_id, sample_id, text, parsed_ok, verified, reason",
    "mixes": "model, task, share, iteration, seed, regime, n_external, n_synthetic, share_examples, share_tokens",
}
RUN_TIMEOUT_S = 1800
CLUSTER_STEPS = 34


def quickstart(folder: Path, store: Path) -> Path:
    """studies/quickstart.yaml with its own store and study folder under ``folder``."""
    spec = yaml.safe_load(QUICKSTART.read_text())
    spec["store"] = str(store)
    spec["study_dir"] = str(folder / "runs" / "quickstart")
    path = folder / "quickstart.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def results(study: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Scores, per-example rows, generated samples and mixes of a finished study, sorted (no timings)."""
    study_dir = Path(yaml.safe_load(study.read_text())["study_dir"])
    with sqlite3.connect(study_dir / "results.sqlite") as con:
        return {table: sorted(con.execute(f"SELECT {columns} FROM {table}")) for table, columns in TABLES.items()}


def step_manifests(store: Path) -> dict[str, dict[str, Any]]:
    """Every committed artifact's manifest by artifact id."""
    return {p.parent.name: json.loads(p.read_text()) for p in store.glob("*/*/manifest.json")}


def seeded_store(reference: Path, store: Path) -> Path:
    """A fresh store holding only the reference run's pretrained rungs."""
    for rung in (reference / "pretrain").iterdir():
        if (rung / "manifest.json").is_file():
            shutil.copytree(rung, store / "pretrain" / rung.name)
    return store


@pytest.fixture(scope="module")
def local_quickstart(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[tuple[Any, ...]]]]:
    """The quickstart run by the local executor from an empty store: (its store, its results)."""
    folder = tmp_path_factory.mktemp("quickstart-local")
    study = quickstart(folder, folder / "store")
    result = synthmix_run(study, "--jobs", "2", timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "36 steps run" in result.stdout
    found = results(study)
    assert found["scores"] and found["examples"] and found["samples"]
    return folder / "store", found


def _ran_on_cluster(store: Path, reference: Path) -> dict[str, dict[str, Any]]:
    """Manifests of the steps the cluster ran, each checked to ask for what the local run's step asked for."""
    ran = {aid: m for aid, m in step_manifests(store).items() if m["kind"] != "pretrain"}
    local = step_manifests(reference)
    assert len(ran) == CLUSTER_STEPS
    for aid, m in ran.items():
        assert m["resources"] == local[aid]["resources"] and m["resources"]["cpus"] == 1.0
        assert m["params"].get("threads", 1) == 1  # threads enter the artifact id: same ids, same thread count
    return ran


@pytest.mark.slow
def test_ray_quickstart_equals_local_executor(local_quickstart, tmp_path: Path) -> None:
    """A 2-CPU Ray cluster on loopback runs the quickstart's 34 post-pretraining steps in several worker processes."""
    reference, expected = local_quickstart
    store = seeded_store(reference, tmp_path / "store")
    study = quickstart(tmp_path, store)
    with ray_head(RAY_PORT, cluster_env()) as (prefix, address):
        result = synthmix_run(study, "--executor", "ray", "--address", address, "--jobs", "2", prefix=prefix,
                              timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr + result.stdout
    assert f"{CLUSTER_STEPS} steps run, 2 already done" in result.stdout
    assert results(study) == expected
    ran = _ran_on_cluster(store, reference)
    assert len({(m["host"], m["pid"]) for m in ran.values()}) >= 2


@pytest.mark.slow
def test_slurm_quickstart_equals_local_executor(local_quickstart, tmp_path: Path) -> None:
    """A one-node Slurm runs each of the quickstart's 34 post-pretraining steps as its own job."""
    reference, expected = local_quickstart
    store = seeded_store(reference, tmp_path / "store")
    study = quickstart(tmp_path, store)
    with slurm_up(tmp_path / "slurm", SLURM_PORTS) as env:
        result = synthmix_run(study, "--executor", "slurm", "--jobs", "2", env=env, timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr + result.stdout
    assert f"{CLUSTER_STEPS} steps run, 2 already done" in result.stdout
    assert results(study) == expected
    ran = _ran_on_cluster(store, reference)
    jobs = list((tmp_path / "runs" / "quickstart" / "slurm").glob("*_submission.sh"))
    assert len(jobs) == CLUSTER_STEPS
    assert len({m["pid"] for m in ran.values()}) == CLUSTER_STEPS
