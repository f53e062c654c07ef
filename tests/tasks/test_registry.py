import subprocess
import sys

import pytest

from synthmix.errors import ConfigError
from synthmix.tasks import get_task, register_task, task_names
from synthmix.tasks.mini.math import MiniMath

MINI = ["mini-code", "mini-commonsense", "mini-factual", "mini-math", "mini-reading"]


def test_task_names_lists_the_five_mini_tasks():
    assert set(MINI) <= set(task_names())


def test_get_task_unknown_name_suggests_closest_and_lists_all():
    with pytest.raises(ConfigError) as err:
        get_task("mini-maths")
    message = str(err.value)
    assert "'mini-math'" in message and "Did you mean" in message
    assert all(name in message for name in MINI)


def test_register_task_duplicate_raises():
    with pytest.raises(ConfigError, match="already registered"):
        register_task("mini-math", MiniMath)


def test_get_task_bad_option_raises_config_error():
    with pytest.raises(ConfigError, match="mini-math"):
        get_task("mini-math", colour="red")


def test_get_task_passes_options():
    task = get_task("mini-math", seed=3, n_train=4, steps=3)
    assert task.options()["seed"] == 3 and task.options()["steps"] == 3 and len(task.load("train")) == 4


def test_get_task_imports_neither_torch_nor_transformers():
    code = (
        "import sys; from synthmix.tasks import get_task\n"
        "for n in ['mini-math','mini-commonsense','mini-factual','mini-reading','mini-code']:\n"
        "    t = get_task(n); t.version, t.has_verifier, t.output_type\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
