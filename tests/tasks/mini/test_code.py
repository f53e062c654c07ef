import pytest

from synthmix.tasks import ParseFailure, get_task
from synthmix.tasks.mini.code import all_specs


def test_all_specs_names_are_unique_per_level():
    for level in (1, 2):
        names = [s.name for s in all_specs(level)]
        assert len(names) == len(set(names))


def test_parse_synthetic_makes_the_doctest_the_test():
    task = get_task("mini-code", n_train=1)
    ex = task.load("train")[0]
    parsed = task.parse_synthetic(task.format_train(ex))
    assert parsed["test"].count("assert candidate(") == 1 and parsed["entry_point"] == ex["entry_point"]


def test_parse_synthetic_invalid_python_fails():
    text = 'def f(xs):\n    """Do.\n    >>> f([1)\n    [1]\n    """\n    return xs\n'
    assert isinstance(get_task("mini-code").parse_synthetic(text), ParseFailure)


@pytest.mark.slow
def test_verify_every_canonical_solution_passes_in_the_sandbox():
    pytest.importorskip("synthmix.sandbox")
    task = get_task("mini-code", n_train=250, n_validation=50, n_test=164)
    failures = [task.example_id(ex) for split in task.splits for ex in task.load(split) if not task.verify(ex)]
    assert failures == []


def test_forged_exits_score_0_and_the_reference_passes():
    task = get_task("mini-code", n_test=3)
    for ex in task.load(task.eval_split):
        assert task.correct(task.reference(ex), ex)
        for ending in ("raise SystemExit(0)", "import os\nos._exit(0)", "import sys\nsys.exit()"):
            assert not task.correct(f"{task.reference(ex)}{ending}\n", ex), ending
