"""Bring your own model and task: a study over a tiny local Llama (and GPT-2) from another working directory.

The study file sits beside its model folder and task module and names both by relative paths; every
command runs from a different folder. The task (``echo``, written here) reads any non-empty text a
random writer produces as a row, so the share 0.5 arm really writes, mixes and trains on a pool; its score
gives partial credit (a 0 % arm scoring exactly 0 makes report/findings.py's share_findings raise on an
all-NaN relative change, a report bug left to the analysis issue).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_archs import build_tiny_model
from typer.testing import CliRunner

from synthmix.cli import app

TASK = '''
"""echo: answer a word with itself; a writer's text is a row whenever it has a word."""

from synthmix.tasks import register_task
from synthmix.tasks.base import GenerationSpec, ParseFailure, Task, TaskInfo

WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta"]


class Echo(Task):
    name = "echo"
    version = "1"
    output_type = "generate"
    eval_split = "test"
    info = TaskInfo(primary_metric="accuracy", metrics=("accuracy",))

    def load(self, split):
        offset = {"train": 0, "validation": 3, "test": 5}[split]
        return [{"word": f"{WORDS[(i + offset) % 8]}{i}"} for i in range(24 if split == "train" else 8)]

    def example_id(self, ex):
        return ex["word"]

    def prompt(self, ex):
        return f"say {ex['word']}:"

    def target(self, ex):
        return f" {ex['word']}\\n"

    def reference(self, ex):
        return f" {ex['word']}"

    @property
    def generation(self):
        return GenerationSpec(max_new_tokens=4, stop=("\\n",))

    def synthesis_prompt(self, shots):
        return "".join(self.format_train(ex) for ex in shots) + "say"

    @property
    def synthesis_generation(self):
        return GenerationSpec(max_new_tokens=6, stop=("\\n",))

    def parse_synthetic(self, text):
        words = text.replace(":", " ").split()
        return {"word": words[0]} if words else ParseFailure("no word")

    def score(self, prediction, ex):
        """Share of the word's letters the prediction uses: partial credit, so a random model scores above 0."""
        return len(set(prediction) & set(ex["word"])) / len(set(ex["word"]))

    def correct(self, prediction, ex):
        return prediction.strip() == ex["word"]


register_task("echo", Echo)
'''

STUDY = """
name: byo-{arch}
blocks:
  - name: main
    models: [models/tiny-{arch}]
    tasks: [echo]
    shares: [0.0, 0.5]
    iterations: [0, 1]
task_modules: [tasks/echo.py]
training: {{method: {method}, epochs: 1, lr: 1.0e-3, batch_size: 8, max_length: 32}}
generation: {{n_shots: 2, max_new_tokens: 6, batch_size: 16}}
mixing: {{n: 16, attempt_cap: 8}}
evaluation: {{n_eval: 8, batch_size: 8, diversity_n: 4, perplexity_n: 4}}
store: store
"""


def _project(root: Path, arch: str, method: str = "full") -> Path:
    """A user's project folder: study file, model folder and task module side by side; returns the study file."""
    (root / "tasks").mkdir(parents=True)
    (root / "tasks" / "echo.py").write_text(TASK)
    texts = [f"say {w}{i}: {w}{i}\n" for i in range(24) for w in ("alpha", "beta", "gamma", "delta")]
    build_tiny_model(root / "models" / f"tiny-{arch}", arch, texts, pad=False)
    (root / "study.yaml").write_text(STUDY.format(arch=arch, method=method))
    return root / "study.yaml"


def _synthmix(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SYNTHMIX_TASK_MODULES", "SYNTHMIX_STORE")}
    return subprocess.run([sys.executable, "-m", "synthmix.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)


def test_byo_llama_study_plans_the_same_from_any_working_directory(tmp_path: Path) -> None:
    study = _project(tmp_path / "project", "llama")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outputs = []
    for cwd, arg in ((elsewhere, str(study)), (study.parent, "study.yaml"), (study.parent / "models", "../study.yaml")):
        result = _synthmix(["plan", arg], cwd)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout.split("planned in")[0])
    assert outputs[0] == outputs[1] == outputs[2]
    assert f"finetune {study.parent / 'models' / 'tiny-llama'}/echo seed=0 t=1 share=0.5 replace" in outputs[0]


def test_byo_study_with_a_missing_model_folder_fails_at_plan(tmp_path: Path) -> None:
    study = _project(tmp_path / "project", "gpt2")
    study.write_text(study.read_text().replace("models/tiny-gpt2", "./models/tiny-gtp2"))
    result = CliRunner().invoke(app, ["run", str(study), "--dry-run"])
    assert result.exit_code == 2
    assert f"no model folder at {study.parent / 'models' / 'tiny-gtp2'}" in " ".join(result.output.split())


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "method"), [("llama", "lora"), ("gpt2", "full")])
def test_byo_study_runs_iterations_0_1_at_shares_0_and_half_from_another_folder(tmp_path: Path, arch: str,
                                                                                method: str) -> None:
    study = _project(tmp_path / "project", arch, method)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = _synthmix(["run", str(study), "--jobs", "1"], elsewhere)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "9 steps run, 0 already done, 0 failed, 0 skipped, of 9" in " ".join(first.stdout.split())
    again = _synthmix(["run", "study.yaml", "--jobs", "1"], study.parent)  # same ids from the study's own folder
    assert "0 steps run, 9 already done" in " ".join(again.stdout.split())
    from synthmix.results import ResultsDB

    db = ResultsDB(study.parent / "runs" / f"byo-{arch}" / "results.sqlite")  # this process registers no echo task
    try:
        scores = db.frame("scores")
    finally:
        db.close()
    scored = scores[scores.metric == "score"][["iteration", "share"]].drop_duplicates()
    assert sorted(map(tuple, scored.values.tolist())) == [(0, 0.0), (1, 0.0), (1, 0.5)]
