"""Models against trivial baselines: per-example pairing, two-level CI, strongest-baseline choice, scale trend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from synthmix.analysis.stats import two_level_bootstrap
from synthmix.analysis.trivial_baselines import (
    baseline_example_scores,
    compare_to_baselines,
    scale_trend,
)
from synthmix.errors import DataError
from synthmix.tasks import get_task
from synthmix.tasks.mini.baselines import strongest_baseline


def _examples(model: str, scores: np.ndarray, iteration: int = 0, task: str = "t") -> pd.DataFrame:
    """Per-example rows of one model: ``scores`` has shape (seeds, examples); ids e0, e1, …"""
    seeds, n = scores.shape
    return pd.DataFrame([dict(model=model, task=task, share=0.0, iteration=iteration, seed=s, regime="replace",
                              example_id=f"e{i}", score=float(scores[s, i])) for s in range(seeds) for i in range(n)])


def test_compare_to_baselines_pairs_examples_and_matches_two_level_bootstrap() -> None:
    rng = np.random.default_rng(0)
    model = (rng.random((2, 200)) < 0.6).astype(float)
    floor = pd.Series((rng.random(200) < 0.3).astype(float), index=[f"e{i}" for i in range(200)])
    table = compare_to_baselines(_examples("m", model), {"t": ("last_number", floor)}, n_resamples=500, seed=3)
    row = table.iloc[0]
    order = np.argsort([f"e{i}" for i in range(200)])  # the table's example order: ids sorted
    expected = two_level_bootstrap(np.broadcast_to(floor.to_numpy()[order], model.shape), model[:, order],
                                   n_resamples=500, seed=3)
    assert (row["n_seeds"], row["n_examples"], row["baseline"]) == (2, 200, "last_number")
    assert row["score"] == pytest.approx(model.mean())
    assert row["difference"] == pytest.approx(model.mean() - floor.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((expected.low, expected.high))
    assert row["beats"]


def test_compare_to_baselines_a_model_equal_to_its_baseline_does_not_beat_it() -> None:
    floor = pd.Series(np.tile([1.0, 0.0], 50), index=[f"e{i}" for i in range(100)])
    model = np.tile(floor.to_numpy(), (2, 1))
    row = compare_to_baselines(_examples("m", model), {"t": ("majority_label", floor)}).iloc[0]
    assert row["difference"] == 0 and not row["beats"]


def test_compare_to_baselines_uses_only_the_requested_iteration_and_known_tasks() -> None:
    floor = pd.Series([0.0] * 10, index=[f"e{i}" for i in range(10)])
    rows = pd.concat([_examples("m", np.ones((1, 10))), _examples("m", np.zeros((1, 10)), iteration=1),
                      _examples("m", np.ones((1, 10)), task="other")])
    table = compare_to_baselines(rows, {"t": ("x", floor)})
    assert list(table["task"]) == ["t"] and table.iloc[0]["score"] == 1.0


def test_compare_to_baselines_rejects_examples_outside_the_eval_split() -> None:
    floor = pd.Series([0.0], index=["other-id"])
    with pytest.raises(DataError, match="none of model 'm'"):
        compare_to_baselines(_examples("m", np.ones((1, 3))), {"t": ("x", floor)})


def test_compare_to_baselines_names_missing_columns() -> None:
    with pytest.raises(DataError, match=r"missing columns \['example_id'"):
        compare_to_baselines(pd.DataFrame({"model": [], "task": [], "iteration": [], "seed": [], "score": []}), {})


@pytest.mark.parametrize("name", ["mini-math", "mini-commonsense", "mini-factual", "mini-reading"])
def test_baseline_example_scores_picks_the_strongest_baseline(name: str) -> None:
    task = get_task(name, n_train=60, n_validation=10, n_test=60)
    best, per_example = baseline_example_scores(task)
    expected_name, expected_score = strongest_baseline(task, task.eval_split)
    assert best == expected_name
    assert per_example.mean() == pytest.approx(expected_score)
    assert list(per_example.index) == [task.example_id(ex) for ex in task.load(task.eval_split)]


def test_baseline_example_scores_is_none_for_a_task_without_baselines() -> None:
    assert baseline_example_scores(get_task("math")) is None


def test_scale_trend_spearman_and_verdict() -> None:
    comparison = pd.DataFrame({"task": ["a"] * 3 + ["b"] * 3, "model": ["s", "m", "l"] * 2,
                               "score": [0.1, 0.3, 0.2, 0.5, 0.4, 0.3]})
    sizes = {"s": 1e5, "m": 1e6, "l": 1e7}
    trend = scale_trend(comparison, sizes).set_index("task")
    assert trend.loc["a", "spearman_rho"] == pytest.approx(spearmanr([1, 2, 3], [0.1, 0.3, 0.2]).statistic)
    assert trend.loc["a", "larger_better"] and not trend.loc["b", "larger_better"]
    assert (trend.loc["b", "smallest"], trend.loc["b", "largest"]) == ("s", "l")
