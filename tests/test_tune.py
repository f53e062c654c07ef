"""Tuning: each (lr, epochs) setting trains iteration-0 models and scores them on the tuning split only."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from synthmix.config import load_study, parse_study
from synthmix.errors import ConfigError
from synthmix.plan import build_plan
from synthmix.tune import Setting, grid, rank_settings, tuning_study


def _study(tmp_path: Path, **extra: object):
    blocks = [
        {"name": "main", "models": ["mini-120k"], "tasks": ["mini-math"], "shares": [0.0, 0.2], "iterations": [2],
         "seeds": [0, 1]},
        {"name": "scale", "models": ["mini-280k"], "tasks": ["mini-commonsense"], "shares": [0.0, 0.3],
         "iterations": [1], "seeds": [2]},
    ]
    data = {"name": "s", "blocks": blocks, "study_dir": str(tmp_path / "runs"), "store": str(tmp_path / "store"),
            "tasks": {"mini-math": {"n_test": 50}, "mini-commonsense": {"n_test": 40}}, **extra}
    return parse_study(data, tmp_path / "s.yaml")


def test_grid_is_every_pair_and_rejects_bad_values() -> None:
    assert grid([1e-3, 3e-3], [3, 6]) == [Setting(1e-3, 3), Setting(1e-3, 6), Setting(3e-3, 3), Setting(3e-3, 6)]
    with pytest.raises(ConfigError, match="must be > 0"):
        grid([0.0], [3])
    with pytest.raises(ConfigError, match="≥ 1"):
        grid([1e-3], [0])
    with pytest.raises(ConfigError, match="at least one"):
        grid([], [3])


def test_tuning_study_is_iteration_0_on_the_tuning_split_with_the_setting(tmp_path: Path) -> None:
    study = _study(tmp_path)
    sub = tuning_study(study, Setting(3e-3, 10))
    (block,) = sub.blocks
    assert (block.models, block.tasks, block.seeds) == (["mini-120k", "mini-280k"], ["mini-math", "mini-commonsense"], [0, 1, 2])
    assert (block.shares, block.iterations) == ([0.0], [0])
    assert (sub.training.lr, sub.training.epochs, sub.evaluation.split) == (3e-3, 10, "tuning")
    assert sub.study_dir == tmp_path / "runs" / "tune" / "lr0.003-ep10" and sub.store == study.store
    assert sub.name == "s-tune-lr0.003-ep10" and sub.tasks == study.tasks
    only = tuning_study(study, Setting(1e-3, 6), models=["mini-280k"], tasks=["mini-math"], seeds=[0])
    assert only.blocks[0].models == ["mini-280k"] and list(only.tasks) == ["mini-math"]


def test_tuning_study_plans_evaluations_of_the_tuning_split_and_the_default_keeps_its_key(tmp_path: Path) -> None:
    study = _study(tmp_path)
    default = [s for s in build_plan(study).steps.values() if s.kind == "evaluate"]
    tuned = [s for s in build_plan(tuning_study(study, Setting(1e-3, 6))).steps.values() if s.kind == "evaluate"]
    assert default and all("split" not in s.params["evaluation"] for s in default)
    assert len(tuned) == 2 * 2 * 3 and all(s.params["evaluation"]["split"] == "tuning" for s in tuned)


def test_tuning_split_is_refused_for_a_task_whose_only_held_out_split_is_its_eval_split(tmp_path: Path) -> None:
    data = {"name": "r", "blocks": [{"name": "b", "models": ["mini-120k"], "tasks": ["commonsense"], "shares": [0.0],
                                     "iterations": [0]}], "evaluation": {"split": "tuning"}}
    with pytest.raises(ConfigError, match=r"evaluation\.split.*'commonsense'.*'validation'"):
        parse_study(data, tmp_path / "r.yaml")


def test_scored_split_is_the_tuning_split_only_when_asked() -> None:
    from synthmix.steps.evaluate import scored_split
    from synthmix.tasks import get_task

    task = get_task("mini-commonsense", n_train=5, n_validation=5, n_test=5)
    assert (scored_split(task, "eval"), scored_split(task, "tuning")) == ("validation", "dev")
    assert scored_split(get_task("math"), "tuning") == "validation"


def test_rank_settings_orders_by_mean_over_cells_and_puts_incomplete_settings_last() -> None:
    rows = [(1e-3, 6, "m", "a", 0, 0.5, 0.9), (1e-3, 6, "m", "a", 1, 0.7, 0.4), (1e-3, 6, "m", "b", 0, 0.2, 1.0),
            (3e-3, 6, "m", "a", 0, 0.9, 0.0), (3e-3, 6, "m", "b", 0, 0.1, 0.5),
            (1e-2, 6, "m", "a", 0, 1.0, 1.0)]
    scores = pd.DataFrame(rows, columns=["lr", "epochs", "model", "task", "seed", "score", "parse_rate"])
    ranked = rank_settings(scores)
    assert list(ranked.lr) == [3e-3, 1e-3, 1e-2]
    assert list(ranked.columns) == ["lr", "epochs", "m / a", "m / b", "mean", "min parse rate"]
    assert list(ranked["min parse rate"]) == [0.0, 0.4, 1.0]
    assert ranked["mean"].iloc[0] == pytest.approx(0.5) and ranked["mean"].iloc[1] == pytest.approx(0.4)
    assert math.isnan(ranked["mean"].iloc[2])


def test_tune_command_scores_tuning_items_only_and_a_rerun_trains_nothing(micro_study: Path) -> None:
    from typer.testing import CliRunner

    from synthmix.cli import app
    from synthmix.driver import open_db
    from synthmix.tasks import get_task

    args = ["tune", str(micro_study), "--lr", "0.01", "--epochs", "1", "--epochs", "2", "--jobs", "2"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    study = load_study(micro_study)
    scores = pd.read_csv(study.study_dir / "tune" / "scores.csv")
    assert len(scores) == 2 and scores.score.between(0, 1).all() and set(scores.epochs) == {1, 2}
    assert scores.parse_rate.between(0, 1).all()
    assert list(pd.read_csv(study.study_dir / "tune" / "ranking.csv").columns)[-2:] == ["mean", "min parse rate"]
    task = get_task("mini-factual", **study.tasks["mini-factual"])
    dev = {task.example_id(ex) for ex in task.load("dev")}
    db = open_db(tuning_study(study, Setting(0.01, 2)))
    try:
        scored = set(db.frame("examples").example_id)
    finally:
        db.close()
    assert scored == dev
    from synthmix.executors.local import LocalExecutor
    from synthmix.tune import tune_study

    executed: list[int] = []
    tune_study(study, grid([0.01], [1, 2]), lambda sub: LocalExecutor(jobs=1),
               on_setting=lambda setting, summary: executed.append(summary.executed))
    assert executed == [0, 0]
    other = tune_study(study, grid([0.01], [1]), lambda sub: LocalExecutor(jobs=1), seeds=[1])
    assert list(other.seed) == [1], "cells of an earlier call with other seeds are not reported"


def test_parse_rate_is_the_share_of_diversity_samples_that_parse(tmp_path: Path) -> None:
    import json

    from synthmix.tasks import get_task
    from synthmix.tune import _parse_rate

    study = _study(tmp_path)
    task = get_task("mini-math", **study.tasks["mini-math"])
    good = task.format_train(task.load("train")[0])
    texts = [good, "the the the", good, "#### nothing"]
    (tmp_path / "diversity_samples.jsonl").write_text("".join(json.dumps({"sample_id": i, "text": t}) + "\n" for i, t in enumerate(texts)))
    assert _parse_rate(study, "mini-math", tmp_path) == 0.5
