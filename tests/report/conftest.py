"""A hand-built results database (rows written with SQL, no training) for the report tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synthmix.config import Block, Study
from synthmix.driver import open_db

MODELS = {"mini-a": 2.0e6, "mini-b": 8.0e6}
TASKS = ("math", "commonsense")
SHARES = (0.0, 0.1, 0.3, 0.5)
N_EXAMPLES = 60
COND = "model, task, share, iteration, seed, regime"


def accuracy_for(model: str, task: str, share: float, iteration: int, seed: int) -> float:
    """The fixture's true accuracy: drops with share (more for the small model and for math) and with iteration."""
    base = {"math": 0.55, "commonsense": 0.70}[task] + (0.05 if model == "mini-b" else 0.0)
    slope = (0.5 if task == "math" else 0.15) * (1.0 if model == "mini-a" else 0.6)
    return base - slope * share * (1 + 0.5 * max(iteration - 1, 0)) + 0.01 * seed


def build_study(tmp: Path, seeds: tuple[int, ...] = (0, 1), failed: bool = True) -> Study:
    """A study folder whose database holds two models × two tasks × four shares × iterations 0–2 × seeds."""
    study = Study(
        name="fixture-study", description="hand-built results for the report tests",
        blocks=[Block(name="main", models=list(MODELS), tasks=list(TASKS), shares=list(SHARES), iterations=[1, 2],
                      seeds=list(seeds))],
        study_dir=tmp / "study", store=tmp / "store")
    db = open_db(study)
    con = db.con
    rng = np.random.default_rng(0)
    conds = [(m, t, 0.0, 0, s, "replace") for m in MODELS for t in TASKS for s in seeds]
    conds += [(m, t, p, it, s, "replace") for m in MODELS for t in TASKS for p in SHARES for it in (1, 2) for s in seeds]
    for k, cond in enumerate(conds):
        m, t, p, it, s, r = cond
        failed_here = failed and (m, t, p, it, s) == ("mini-b", "commonsense", 0.5, 1, seeds[-1])
        pending_here = failed and (m, t, p, it, s) == ("mini-a", "math", 0.5, 2, seeds[0])
        aid = f"eval{k:04d}" + "0" * 56
        status = "failed" if failed_here else "pending" if pending_here else "done"
        con.execute(f"INSERT INTO runs ({COND}, step, role, label, artifact_id, status, wall_s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*cond, "evaluate", "evaluate", f"evaluate {m}/{t}", aid, status, 1.5))
        if status != "done":
            if failed_here:
                con.execute("INSERT INTO failures VALUES (?,?,?,?,?)", (aid, "evaluate", "evaluate", "Traceback\nStepError: out of memory", 0.0))
            continue
        acc = accuracy_for(m, t, p, it, s)
        correct = (rng.random(N_EXAMPLES) < acc).astype(int)
        conf = np.clip(acc + 0.1 * p * it + rng.normal(0, 0.1, N_EXAMPLES), 0.01, 0.99)
        con.executemany(f"INSERT INTO examples ({COND}, example_id, score, correct, confidence, prediction) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        [(*cond, f"ex{i}", float(c), int(c), float(f), f"answer {i}") for i, (c, f) in enumerate(zip(correct, conf))])
        metrics = {"score": float(correct.mean()), "accuracy": float(correct.mean()),
                   "ece": float(abs(conf.mean() - correct.mean())) + 0.02, "self_bleu": 0.3 + 0.2 * p * it,
                   "n_params": MODELS[m], "train_loss": 1.0 + p}
        con.executemany(f"INSERT INTO scores ({COND}, metric, value) VALUES (?,?,?,?,?,?,?,?)",
                        [(*cond, name, v) for name, v in metrics.items()])
        manifest = {"code_version": "1", "wall_s": 1.5, "versions": {"torch": "2.13.0", "synthmix": "0.1.0"},
                    "step_log": {"loss_curve": [[i, 2.0 / (1 + i) + p] for i in range(10)]}}
        con.execute("INSERT INTO artifacts VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (aid, "evaluate", f"evaluate {m}/{t} p={p} t={it} s={s}", "1", 1.5, 100.0, "cpu", "host", "now", json.dumps(manifest)))
    for m in MODELS:
        for t in TASKS:
            for s in seeds:
                aid = f"ft{m}{t}{s}".ljust(64, "0")
                manifest = {"versions": {"torch": "2.13.0"}, "step_log": {"loss_curve": [[i, 3.0 / (1 + i)] for i in range(20)],
                                                                       "heldout_curve": [[0, 3.2], [10, 1.1], [20, 0.9]]}}
                con.execute("INSERT INTO artifacts VALUES (?,?,?,?,?,?,?,?,?,?)",
                            (aid, "finetune", f"finetune {m}/{t} seed={s} t=0", "1", 12.0, 300.0, "cpu", "host", "now", json.dumps(manifest)))
                pool = f"pool{m}{t}{s}".ljust(64, "0")
                rows = [(pool, m, t, None, 1, s, "replace", f"s{i}", f"Question {i}? #### {i % 7}" if i % 4 else "garbled <",
                         int(i % 4 != 0), None, None if i % 4 else "no #### answer") for i in range(40)]
                con.executemany(f"INSERT INTO samples (artifact_id, {COND}, sample_id, text, parsed_ok, verified, reason) "
                                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.close()
    return study


@pytest.fixture
def study(tmp_path: Path) -> Study:
    """Two seeds, one failed and one pending condition."""
    return build_study(tmp_path)


@pytest.fixture(scope="session")
def study_builder():
    """The database builder itself, for module-scoped fixtures and variants (seeds, failures)."""
    return build_study
