"""Fine-tuned models against the strongest trivial baseline of their task, and whether larger models do better.

A model that does not beat "the last number in the question" or "the most frequent answer key" has
learned nothing worth studying, so every iteration-0 model is compared with the best trivial
predictor (``tasks.mini.baselines``) on the very examples it was evaluated on. The difference is
paired by example; its 95 % CI comes from the two-level bootstrap (training seeds, then shared
example indices), so with ≥ 2 seeds it covers seed-to-seed variation as well as test-set noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthmix.analysis.stats import two_level_bootstrap
from synthmix.errors import DataError

COLUMNS = ["model", "task", "n_seeds", "n_examples", "score", "baseline", "baseline_score", "difference",
           "ci_low", "ci_high", "beats"]


def baseline_example_scores(task: Any) -> tuple[str, pd.Series] | None:
    """The strongest trivial baseline on the task's eval split and its per-example scores (index: example id).

    None when no trivial baseline applies to the task.
    """
    from synthmix.tasks.mini.baselines import baseline_predictors

    try:
        predictors = baseline_predictors(task)
    except ValueError:
        return None
    examples = task.load(task.eval_split)
    ids = [task.example_id(ex) for ex in examples]
    per_baseline = {name: pd.Series([float(task.score(predict(ex), ex)) for ex in examples], index=ids)
                    for name, predict in predictors.items()}
    best = max(per_baseline, key=lambda name: per_baseline[name].mean())
    return best, per_baseline[best]


def _seed_matrix(rows: pd.DataFrame) -> pd.DataFrame:
    """Per-example scores as a (seed × example) frame over the examples every seed scored."""
    wide = rows.drop_duplicates(["seed", "example_id"]).pivot(index="seed", columns="example_id", values="score")
    return wide.dropna(axis=1)


def compare_to_baselines(examples: pd.DataFrame, baselines: Mapping[str, tuple[str, pd.Series]], iteration: int = 0,
                         n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per (model, task) at ``iteration``: mean score, strongest baseline, paired difference and its CI.

    ``examples`` holds the results database's per-example rows; ``baselines`` maps a task name to the output
    of ``baseline_example_scores``. ``beats`` is true when the CI's lower end is above zero.
    """
    missing = {"model", "task", "iteration", "seed", "example_id", "score"} - set(examples.columns)
    if missing:
        raise DataError(f"examples: missing columns {sorted(missing)}; expected the results database's examples table")
    rows = []
    at = examples.loc[examples["iteration"] == iteration]
    for (model, task), group in at.groupby(["model", "task"], sort=True):
        if task not in baselines:
            continue
        name, floor = baselines[task]
        wide = _seed_matrix(group)
        shared = [i for i in wide.columns if i in floor.index]
        if not shared:
            raise DataError(f"task {task!r}: none of model {model!r}'s evaluated examples is in the task's eval split; "
                            "were the task's options changed after the run?")
        scores = wide[shared].to_numpy(float)
        floor_scores = np.broadcast_to(floor[shared].to_numpy(float), scores.shape)
        ci = two_level_bootstrap(floor_scores, scores, n_resamples=n_resamples, seed=seed)
        rows.append(dict(model=model, task=task, n_seeds=scores.shape[0], n_examples=scores.shape[1],
                         score=float(scores.mean()), baseline=name, baseline_score=float(floor[shared].mean()),
                         difference=ci.estimate, ci_low=ci.low, ci_high=ci.high, beats=bool(ci.low > 0)))
    return pd.DataFrame(rows, columns=COLUMNS)


def scale_trend(comparison: pd.DataFrame, sizes: Mapping[str, float]) -> pd.DataFrame:
    """Per task: Spearman's rho of mean score against model size, and whether the largest model beats the smallest."""
    from scipy.stats import spearmanr

    rows = []
    for task, group in comparison.groupby("task", sort=True):
        g = group.assign(size=group["model"].map(sizes)).dropna(subset=["size"]).sort_values("size")
        if len(g) < 2:
            continue
        rho = float(spearmanr(g["size"], g["score"]).statistic) if len(g) > 2 else float(np.sign(np.diff(g["score"]))[0])
        rows.append(dict(task=task, n_models=len(g), smallest=g["model"].iloc[0], largest=g["model"].iloc[-1],
                         smallest_score=float(g["score"].iloc[0]), largest_score=float(g["score"].iloc[-1]),
                         spearman_rho=rho, larger_better=bool(g["score"].iloc[-1] > g["score"].iloc[0] and rho > 0)))
    return pd.DataFrame(rows, columns=["task", "n_models", "smallest", "largest", "smallest_score", "largest_score",
                                       "spearman_rho", "larger_better"])


def study_baselines(study: Any) -> dict[str, tuple[str, pd.Series]]:
    """The strongest trivial baseline of every task the study's blocks use (tasks without one are left out)."""
    from synthmix.tasks import get_task

    names = sorted({task for block in study.blocks for task in block.tasks})
    found = {name: baseline_example_scores(get_task(name, **study.tasks.get(name, {}))) for name in names}
    return {name: result for name, result in found.items() if result is not None}
