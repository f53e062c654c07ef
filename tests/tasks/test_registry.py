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


def test_every_registered_task_builds_with_its_defaults_and_loads_its_eval_split(tmp_path):
    from test_real_tasks_study import write_fixtures

    data = write_fixtures(tmp_path)  # real tasks read local files (no network here); mini tasks need nothing
    for name in task_names():
        task = get_task(name, **data.get(name, {}))
        rows = task.load(task.eval_split)
        assert rows, name
        assert len({task.example_id(ex) for ex in rows}) == len(rows), name


def test_mini_factual_default_eval_split_has_150_items():
    task = get_task("mini-factual")
    assert len(task.load(task.eval_split)) == 150


TASK_MODULE = '''
from synthmix.tasks import register_task
from synthmix.tasks.mini.math import MiniMath

register_task("byo-math", MiniMath)
'''


def test_task_modules_reach_a_fresh_worker_process(tmp_path, monkeypatch):
    from synthmix.tasks.registry import MODULES_ENV, import_task_modules

    module = tmp_path / "my_tasks.py"
    module.write_text(TASK_MODULE)
    monkeypatch.delenv(MODULES_ENV, raising=False)
    import_task_modules([str(module)])
    import_task_modules([str(module)])  # a second import (a second study load) registers nothing twice
    assert get_task("byo-math").name == "mini-math"
    import os

    worker = subprocess.run([sys.executable, "-c", "from synthmix.tasks import get_task; print(get_task('byo-math').name)"],
                            capture_output=True, text=True, env=dict(os.environ), check=False)
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout == "mini-math\n"


def test_task_modules_missing_file_is_a_config_error(tmp_path):
    from synthmix.tasks.registry import import_task_modules

    with pytest.raises(ConfigError, match="does not exist"):
        import_task_modules([str(tmp_path / "nope.py")])
