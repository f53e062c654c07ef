"""docs/your-own-task.md's "No Python: a task YAML" example: plans, refuses bad inputs at plan time, runs end to end.

The task YAML, a data file's rows and the study are read from the page, so the doc cannot drift from what is
tested. The project folder holds the study, a tiny local model and the task YAML with its JSONL files; every
command runs from another working directory.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_archs import build_tiny_model

DOC = Path(__file__).resolve().parents[1] / "docs" / "your-own-task.md"
BLOCK = re.compile(r"^```\w+ yaml-task=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def doc_files() -> dict[str, str]:
    """The example's files as the page shows them (relative path → text)."""
    return dict(BLOCK.findall(DOC.read_text(encoding="utf-8")))


def _rows(rnd: random.Random, n: int) -> str:
    """``n`` rows in the shape of the page's train.jsonl."""
    pairs = [(rnd.randint(1, 9), rnd.randint(1, 9)) for _ in range(n)]
    return "".join(json.dumps({"question": f"{a} + {b}", "answer": str(a + b)}) + "\n" for a, b in pairs)


def _project(root: Path, arch: str, sizes: dict[str, int] | None = None) -> Path:
    """The page's project folder over a tiny ``arch`` model; ``sizes`` rows per split (default: the page's rows)."""
    files = doc_files()
    (root / "tasks").mkdir(parents=True)
    rnd = random.Random(0)
    for split in ("train", "validation", "test"):
        rows = _rows(rnd, sizes[split]) if sizes else files["tasks/train.jsonl"]
        (root / "tasks" / f"{split}.jsonl").write_text(rows)
    (root / "tasks" / "add.yaml").write_text(files["tasks/add.yaml"])
    (root / "study.yaml").write_text(files["study.yaml"].replace("tiny-llama", f"tiny-{arch}"))
    texts = [f"Q: {a} + {b}\nA: {a + b}\n\n" for a in range(1, 10) for b in range(1, 10)]
    build_tiny_model(root / "models" / f"tiny-{arch}", arch, texts, pad=False)
    return root / "study.yaml"


def _synthmix(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SYNTHMIX_TASK_MODULES", "SYNTHMIX_STORE")}
    return subprocess.run([sys.executable, "-m", "synthmix.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)


def test_doc_example_has_its_task_rows_and_study() -> None:
    assert list(doc_files()) == ["tasks/train.jsonl", "tasks/add.yaml", "study.yaml", "tasks/quiz.jsonl",
                                 "tasks/quiz.yaml", "tasks/code.jsonl", "tasks/code.yaml"]


def test_doc_multiple_choice_and_code_examples_load_write_and_score(tmp_path: Path) -> None:
    from synthmix.tasks.lm_eval_yaml import load_task_yaml

    (tmp_path / "tasks").mkdir()
    for name, text in doc_files().items():
        (tmp_path / name).write_text(text)
    quiz = load_task_yaml(tmp_path / "tasks" / "quiz.yaml")
    rows = quiz.load("train")
    assert quiz.written(rows[0]) == "Question: Which is a fruit?\nAnswer:\nA. stone\nB. apple\nC. chair\nAnswer: B\n\n"
    assert f"```text\n{quiz.written(rows[0]).rstrip()}\n```" in DOC.read_text(encoding="utf-8")  # as the page shows it
    assert [quiz.parse_synthetic(quiz.written(r).removeprefix("Question:")) for r in rows] == rows
    code = load_task_yaml(tmp_path / "tasks" / "code.yaml")
    row = code.load("test")[0]
    assert (code.score(row["solution"], row), code.score("    return a - b\n", row)) == (1.0, 0.0)


def test_yaml_task_study_plans_from_another_folder(tmp_path: Path) -> None:
    study = _project(tmp_path / "project", "llama")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _synthmix(["plan", str(study), "--no-dag"], elsewhere)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "add-yaml: 9 steps for 3 conditions" in out


def test_study_over_the_doc_multiple_choice_and_code_yamls_plans(tmp_path: Path) -> None:
    study = _project(tmp_path / "project", "llama")
    for name in ("tasks/quiz.jsonl", "tasks/quiz.yaml", "tasks/code.jsonl", "tasks/code.yaml"):
        (study.parent / name).write_text(doc_files()[name])
    study.write_text(study.read_text().replace("tasks: [tasks/add.yaml]",
                                               "tasks: [tasks/add.yaml, tasks/quiz.yaml, tasks/code.yaml]"))
    result = _synthmix(["plan", str(study), "--no-dag"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "add-yaml: 27 steps for 9 conditions" in " ".join(result.stdout.split())


def test_yaml_task_study_with_a_row_missing_a_field_fails_at_plan_naming_file_row_and_field(tmp_path: Path) -> None:
    study = _project(tmp_path / "project", "llama")
    data = study.parent / "tasks" / "test.jsonl"
    rows = data.read_text().splitlines()
    rows[2] = json.dumps({"question": "1 + 2"})
    data.write_text("\n".join(rows) + "\n")
    result = _synthmix(["plan", str(study)], tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    err = " ".join(result.stderr.split())
    assert f"{study}: blocks[0].tasks[0]: task '{study.parent / 'tasks' / 'add.yaml'}' split 'test'" in err
    assert (f"split 'test' row 2 of {data}: doc_to_target: template '{{{{answer}}}}': 'answer' is undefined; "
            "the row has fields ['question']") in err


def test_yaml_task_study_with_a_line_that_is_not_json_fails_at_plan_naming_file_and_line(tmp_path: Path) -> None:
    study = _project(tmp_path / "project", "llama")
    data = study.parent / "tasks" / "train.jsonl"
    data.write_text(data.read_text() + '{"question": "1 + 2", "answer": \n')
    result = _synthmix(["plan", str(study)], tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    err = " ".join(result.stderr.split())
    assert f"{data}: line 5: not JSON" in err


def test_yaml_task_study_with_a_bad_task_file_fails_at_plan_naming_file_and_key(tmp_path: Path) -> None:
    study = _project(tmp_path / "project", "llama")
    task = study.parent / "tasks" / "add.yaml"
    task.write_text(task.read_text().replace("doc_to_target:", "doc_to_targt:"))
    result = _synthmix(["plan", str(study)], tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    err = " ".join(result.stderr.split())
    assert f"{task.resolve()}: unknown key 'doc_to_targt'" in err


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_yaml_task_study_runs_iterations_0_1_at_shares_0_and_half_from_another_folder(tmp_path: Path, arch: str) -> None:
    study = _project(tmp_path / "project", arch, {"train": 64, "validation": 8, "test": 8})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _synthmix(["run", str(study), "--jobs", "1"], elsewhere)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 steps run, 0 already done, 0 failed, 0 skipped, of 9" in " ".join(result.stdout.split())
    again = _synthmix(["run", "study.yaml", "--jobs", "1"], study.parent)  # same ids from the study's own folder
    assert "0 steps run, 9 already done" in " ".join(again.stdout.split())
    from synthmix.results import ResultsDB

    db = ResultsDB(study.parent / "runs" / "add-yaml" / "results.sqlite")
    try:
        scores = db.frame("scores")
    finally:
        db.close()
    scored = scores[scores.metric == "exact_match"][["iteration", "share"]].drop_duplicates()
    assert sorted(map(tuple, scored.values.tolist())) == [(0, 0.0), (1, 0.0), (1, 0.5)]
