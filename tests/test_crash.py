"""Crash trials of the spine with real processes: ``kill -9`` of the driver and its workers mid-step, mid-commit, mid-ingest.

After every kill ``synthmix run`` resumes; at the end the study is complete, no artifact that had been
committed was recomputed, no half-written artifact was ever read (the toy steps check their inputs),
the database passes ``PRAGMA integrity_check`` and the scores equal those of an uninterrupted run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crash_harness import committed, crash_trials, env_for, run_cli
from synthmix.config import load_study
from synthmix.driver import open_db
from synthmix.store import Store
from toy_study import toy_study

KEY = ["model", "task", "share", "iteration", "seed", "regime", "metric"]


def scores(path: Path):
    """The study's scores, sorted, after checking the database file is sound."""
    db = open_db(load_study(path))
    try:
        assert db.integrity_check() == "ok"
        return db.frame("scores").sort_values(KEY).reset_index(drop=True)
    finally:
        db.close()


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    blocks = [{"name": "main", "models": ["mini-120k"], "tasks": ["mini-math"], "shares": [0.0, 0.3, 0.5],
               "iterations": [1, 2, 3], "seeds": [0, 1], "regimes": ["replace", "accumulate"]}]
    reference = toy_study(tmp_path / "reference", blocks=blocks)
    assert run_cli(reference, env_for(TOY_SLEEP_S="0")).returncode == 0
    path = toy_study(tmp_path / "crash", blocks=blocks)
    store = Store(load_study(path).store)
    schedule = ["during:finetune", "ingest:before-commit", "during:generate", "commit:before-rename", "random",
                "during:evaluate", "ingest:before-commit", "during:finetune", "commit:before-rename", "random",
                "during:generate", "ingest:before-commit"]
    env = env_for(TOY_SLEEP_S="0.4")
    phases, seen = crash_trials(path, store, env, schedule, tmp_path, delay=(2.0, 6.0), during_delay=(0.0, 0.15))
    final = run_cli(path, env)
    assert final.returncode == 0, final.stderr[-2000:]
    after = committed(store)
    assert not [aid for aid, ts in seen.items() if after.get(aid) != ts], "a committed artifact was recomputed"
    assert scores(path).equals(scores(reference))
    print("phases hit:", phases)
    assert {"mid-finetune", "mid-generate", "mid-commit", "mid-ingest"} <= set(phases), phases
