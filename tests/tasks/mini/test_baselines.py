import pytest

from synthmix.tasks import get_task
from synthmix.tasks.mini.baselines import strongest_baseline, trivial_baselines


def test_trivial_baselines_commonsense_near_chance():
    task = get_task("mini-commonsense", n_train=150, n_test=150)
    name, score = strongest_baseline(task, "validation")
    assert 0.1 < score < 0.35


@pytest.mark.parametrize("name", ["mini-math", "mini-factual", "mini-reading"])
def test_trivial_baselines_generate_tasks_are_well_below_one(name):
    pytest.importorskip("synthmix.metrics.qa")
    task = get_task(name, n_train=150, n_test=150)
    scores = trivial_baselines(task, task.eval_split)
    assert scores and all(0.0 <= s < 0.6 for s in scores.values()), scores
