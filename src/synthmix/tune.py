"""Choosing a study's learning rate and epochs on iteration-0 tuning data only (docs/architecture.md: The mini world).

Each (lr, epochs) setting becomes a derived study: the study's models, tasks and seeds at iteration 0
and share 0, with that setting's training and ``evaluation.split: tuning``, so its models are scored on
each task's tuning split and never on the eval split. The derived studies run through the normal
driver in ``<study folder>/tune/<setting>``: pretrained rungs come from the shared store, a rerun
computes nothing, and a setting added later trains only itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthmix.config import Study, parse_study
from synthmix.driver import RunSummary, open_db, run_study
from synthmix.errors import ConfigError
from synthmix.executors.base import Executor
from synthmix.progress import RunObserver
from synthmix.store import Store


@dataclass(frozen=True)
class Setting:
    """One point of the grid: the peak learning rate and the number of epochs."""

    lr: float
    epochs: int

    def label(self) -> str:
        """The setting's folder and study-name suffix, e.g. ``lr0.001-ep6``."""
        return f"lr{self.lr:g}-ep{self.epochs}"


def grid(lrs: Sequence[float], epochs: Sequence[int]) -> list[Setting]:
    """Every (lr, epochs) pair, lr-major, with each value validated."""
    if not lrs or not epochs:
        raise ConfigError(f"tune: give at least one learning rate and one epoch count (got lr {list(lrs)}, epochs {list(epochs)})")
    for lr in lrs:
        if not lr > 0:
            raise ConfigError(f"tune: learning rates must be > 0 (got {lr})")
    for n in epochs:
        if n < 1:
            raise ConfigError(f"tune: epochs must be ≥ 1 (got {n})")
    return [Setting(lr, n) for lr in lrs for n in epochs]


def _union(blocks: list[Any], field: str) -> list[Any]:
    """The values of a block field across blocks, first appearance first."""
    return list(dict.fromkeys(v for b in blocks for v in getattr(b, field)))


def tuning_study(study: Study, setting: Setting, models: Sequence[str] | None = None,
                 tasks: Sequence[str] | None = None, seeds: Sequence[int] | None = None) -> Study:
    """The iteration-0 study of one setting, scored on the tuning split (validated like a study file)."""
    assert study.study_dir is not None
    models = list(models or _union(study.blocks, "models"))
    tasks = list(tasks or _union(study.blocks, "tasks"))
    seeds = list(seeds if seeds is not None else _union(study.blocks, "seeds"))
    data = study.model_dump(mode="json")
    data.update(
        name=f"{study.name}-tune-{setting.label()}",
        blocks=[{"name": "tune", "models": models, "tasks": tasks, "shares": [0.0], "iterations": [0], "seeds": seeds}],
        tasks={name: options for name, options in data["tasks"].items() if name in tasks},
        training={**data["training"], "lr": setting.lr, "epochs": setting.epochs},
        evaluation={**data["evaluation"], "split": "tuning"},
        study_dir=str(study.study_dir / "tune" / setting.label()),
    )
    return parse_study(data, Path(f"{study.name} (tuning {setting.label()})"))


def tuning_scores(study: Study) -> pd.DataFrame:
    """Each finished (model, task, seed) a tuning study asks for: its tuning-split score and its writer's parse rate.

    The setting's folder may hold cells of earlier calls with other ``--model``/``--task``/``--seed``
    choices; only the cells asked for now are returned.

    The parse rate is the share of the evaluation's diversity samples that ``task.parse_synthetic``
    accepts: they are written from synthesis prompts at the study's temperature and top-p, as the
    generate step's are, so a setting whose writer stops writing parseable examples (and whose
    pools would fail) shows it here.
    """
    db = open_db(study)
    try:
        scores, runs = db.frame("scores"), db.frame("runs")
    finally:
        db.close()
    keys = ["model", "task", "seed"]
    (block,) = study.blocks
    asked = scores.model.isin(block.models) & scores.task.isin(block.tasks) & scores.seed.isin(block.seeds)
    rows = scores[asked & (scores.metric == "score") & (scores.iteration == 0)][[*keys, "value"]].rename(columns={"value": "score"})
    done = runs[(runs.role == "evaluate") & (runs.status == "done")]
    rates = [(r.model, r.task, r.seed, _parse_rate(study, r.task, Store(study.store).path("evaluate", r.artifact_id)))
             for r in done.itertuples(index=False)]
    return rows.merge(pd.DataFrame(rates, columns=[*keys, "parse_rate"]), on=keys, how="left").reset_index(drop=True)


def _parse_rate(study: Study, task_name: str, folder: Path) -> float:
    """The share of an evaluation's diversity samples that parse as an example of the task."""
    from synthmix.tasks import ParseFailure, get_task

    task = get_task(task_name, **study.tasks.get(task_name, {}))
    lines = (folder / "diversity_samples.jsonl").read_text(encoding="utf-8").splitlines()
    parsed = [not isinstance(task.parse_synthetic(json.loads(line)["text"]), ParseFailure) for line in lines]
    return sum(parsed) / len(parsed) if parsed else math.nan


def tune_study(study: Study, settings: Sequence[Setting], make_executor: Callable[[Study], Executor],
               models: Sequence[str] | None = None, tasks: Sequence[str] | None = None,
               seeds: Sequence[int] | None = None, observer: RunObserver | None = None,
               on_setting: Callable[[Setting, RunSummary], None] | None = None) -> pd.DataFrame:
    """Run every setting's tuning study and return their scores, one row per (setting, model, task, seed).

    Every derived study is validated before the first one runs, so a bad option fails at once.
    """
    derived = [(s, tuning_study(study, s, models, tasks, seeds)) for s in settings]
    frames = []
    for setting, sub in derived:
        summary = run_study(sub, make_executor(sub), observer=observer)
        if on_setting is not None:
            on_setting(setting, summary)
        frames.append(tuning_scores(sub).assign(lr=setting.lr, epochs=setting.epochs))
    return pd.concat(frames, ignore_index=True)[["lr", "epochs", "model", "task", "seed", "score", "parse_rate"]]


def rank_settings(scores: pd.DataFrame) -> pd.DataFrame:
    """Settings by their mean over (model, task) cells of the seed-mean score, best first; one column per cell.

    ``min parse rate`` is the lowest writer parse rate over the setting's cells and seeds: a setting
    that scores best but leaves a writer unable to fill its pools is no choice for a mixing study.
    A setting missing a cell (a failed fine-tune) gets no mean: it is listed last, not ranked on the
    cells it has.
    """
    settings = ["lr", "epochs"]
    cells = scores.groupby([*settings, "model", "task"]).score.mean().unstack(["model", "task"])
    cells.columns = [f"{model} / {task}" for model, task in cells.columns]
    cells["mean"] = cells.mean(axis=1).where(cells.notna().all(axis=1))
    cells["min parse rate"] = scores.groupby(settings).parse_rate.min()
    return cells.sort_values("mean", ascending=False, na_position="last").reset_index()
