"""Crash trials on the real loop: ``kill -9`` mid-finetune, mid-generate, mid-commit and mid-ingest.

Each rerun completes, recomputes no committed artifact, and the final results equal those of an
uninterrupted run bit for bit (scores, per-example rows and samples); a second run executes nothing.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from crash_harness import committed, crash_trials, env_for, run_cli
from synthmix.config import load_study
from synthmix.driver import open_db
from synthmix.store import Store

STUDY = """
name: loopcrash
blocks:
  - name: main
    models: [mini-120k]
    tasks: [mini-math]
    shares: [0.0, 0.5]
    iterations: [0, 1]
    regimes: [replace, remove]
tasks:
  mini-math: {n_train: 64, n_validation: 16, n_test: 48}
pretrain: {token_budget: 1000000}
training: {epochs: 6, lr: 1.0e-3, batch_size: 16, warmup_ratio: 0.1, max_length: 256, loss_on: all}
generation: {batch_size: 32, n_shots: 2}
mixing: {n: 64, attempt_cap: 20}
evaluation: {n_eval: 48, batch_size: 48, diversity_n: 16, perplexity_n: 16}
store: store
"""
KEYS = {"scores": ["model", "task", "share", "iteration", "seed", "regime", "metric"],
        "examples": ["model", "task", "share", "iteration", "seed", "regime", "example_id"],
        "samples": ["artifact_id", "sample_id"]}


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "loopcrash.yaml"
    path.write_text(textwrap.dedent(STUDY))
    return path


def _tables(path: Path) -> dict:
    db = open_db(load_study(path))
    try:
        assert db.integrity_check() == "ok"
        return {t: db.frame(t).sort_values(k).reset_index(drop=True) for t, k in KEYS.items()}
    finally:
        db.close()


@pytest.mark.slow
def test_loop_survives_kill_9_and_matches_uninterrupted_run(tmp_path: Path) -> None:
    env = env_for()
    reference = _write(tmp_path / "reference")
    done = run_cli(reference, env)
    assert done.returncode == 0, done.stderr[-3000:]
    path = _write(tmp_path / "crash")
    ref_store, store = Store(load_study(reference).store), Store(load_study(path).store)
    for kind, aid in ref_store.artifacts():
        if kind == "pretrain":
            shutil.copytree(ref_store.path(kind, aid), store.path(kind, aid))
    schedule = ["during:finetune", "during:generate", "ingest:before-commit", "during:evaluate",
                "commit:before-rename", "during:finetune", "random", "during:generate", "ingest:before-commit",
                "during:mix", "during:finetune"]
    phases, seen = crash_trials(path, store, env, schedule, tmp_path, delay=(1.0, 8.0))
    final = run_cli(path, env)
    assert final.returncode == 0, final.stderr[-3000:]
    after = committed(store)
    assert not [aid for aid, ts in seen.items() if after.get(aid) != ts], "a committed artifact was recomputed"
    assert sorted(after) == sorted(committed(ref_store)), "the same artifacts (ids) as the uninterrupted run"
    got, want = _tables(path), _tables(reference)
    for table in KEYS:
        assert got[table].equals(want[table]), f"{table} differs from the uninterrupted run"
    again = run_cli(path, env)
    assert again.returncode == 0 and "0 steps run" in again.stdout
    print("phases hit:", phases)
    assert {"mid-finetune", "mid-generate", "mid-commit", "mid-ingest"} <= set(phases), phases
