"""A study's task_modules reach a worker that shares nothing with the driver but the StepSpec (Ray, Slurm)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MODULE = '''
from synthmix.tasks import register_task
from synthmix.tasks.mini.math import MiniMath

register_task("spec-math", MiniMath)
'''

WORKER = '''
import sys
from synthmix.executors.base import StepSpec, execute_step

spec = StepSpec(kind="mix", artifact_id="a" * 64, label="mix spec-math",
                params={"task": "spec-math", "task_options": {"n_train": 16, "n_validation": 8, "n_test": 8},
                        "n": 8, "share": 0.0, "regime": "replace", "seed": 0},
                inputs={}, store_root=sys.argv[1], extras={"task_modules": sys.argv[2:]})
outcome = execute_step(spec)
print(outcome.ok, outcome.error.strip().splitlines()[-1] if outcome.error else "")
'''


def test_task_modules_in_the_step_spec_register_the_task_in_a_bare_worker(tmp_path: Path) -> None:
    module = tmp_path / "spec_tasks.py"
    module.write_text(MODULE)
    env = {k: v for k, v in os.environ.items() if k != "SYNTHMIX_TASK_MODULES"}
    result = subprocess.run([sys.executable, "-c", WORKER, str(tmp_path / "store"), str(module)], env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True", result.stdout
    assert (tmp_path / "store" / "mix" / ("a" * 64) / "train.jsonl").is_file()


def test_without_task_modules_a_bare_worker_does_not_know_the_task(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SYNTHMIX_TASK_MODULES"}
    result = subprocess.run([sys.executable, "-c", WORKER, str(tmp_path / "store")], env=env,
                            capture_output=True, text=True, check=False)
    assert result.stdout.startswith("False ") and "unknown task 'spec-math'" in result.stdout
