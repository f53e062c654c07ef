"""Synthetic writing for multiple-choice task YAMLs: rows written as question, lettered options and answer, read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmix.tasks.base import ParseFailure
from synthmix.tasks.lm_eval_yaml import LmEvalTask, load_task_yaml

ROWS = [
    {"question": "Which is a fruit?", "choices": ["stone", "apple", "chair"], "label": 1},
    {"question": "What colour is the sky?", "choices": ["blue", "green"], "label": 0},
    {"question": "How many legs has a cat?", "choices": ["two", "three", "four", "six"], "label": 2},
]

TASK = """\
task: quiz
dataset_path: json
dataset_kwargs:
  data_files: {{train: rows.jsonl, test: rows.jsonl}}
training_split: train
test_split: test
output_type: multiple_choice
doc_to_text: {text}
doc_to_choice: {choice}
doc_to_target: {target}
"""


def _task(tmp_path: Path, rows: list[dict] = ROWS, text: str = '"Question: {{question}}\\nAnswer:"',
          choice: str = "choices", target: str = "label") -> LmEvalTask:
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "quiz.yaml").write_text(TASK.format(text=text, choice=choice, target=target))
    return load_task_yaml(tmp_path / "quiz.yaml")


def _as_written_after_the_cue(task: LmEvalTask, row: dict) -> str:
    """What a writer prompted with the synthesis prompt (which ends with the cue ``Question:``) writes for ``row``."""
    written = task.written(row)
    cue = task.synthesis_prompt([])
    assert written.startswith(cue)
    return written[len(cue):]


def test_written_row_shows_question_lettered_options_and_answer_letter(tmp_path: Path) -> None:
    task = _task(tmp_path)
    assert task.written(ROWS[0]) == "Question: Which is a fruit?\nAnswer:\nA. stone\nB. apple\nC. chair\nAnswer: B\n\n"
    assert task.synthesis_prompt(ROWS[:2]) == (task.written(ROWS[0]) + task.written(ROWS[1]) + "Question:")


@pytest.mark.parametrize("index", range(len(ROWS)))
def test_written_row_parses_back_to_the_same_row(tmp_path: Path, index: int) -> None:
    task = _task(tmp_path)
    assert task.parse_synthetic(_as_written_after_the_cue(task, ROWS[index])) == ROWS[index]


def test_string_answers_parse_back_as_the_option_text(tmp_path: Path) -> None:
    rows = [{**r, "label": r["choices"][r["label"]]} for r in ROWS]
    task = _task(tmp_path, rows, text="question", target='"{{label}}"')
    assert task.written(rows[2]) == "How many legs has a cat?\nA. two\nB. three\nC. four\nD. six\nAnswer: C\n\n"
    assert task.parse_synthetic(task.written(rows[2])) == rows[2]


@pytest.mark.parametrize(("text", "reason"), [
    ("Question: Which?\nAnswer:\nA. x\nB. y", "no final 'Answer: <letter>' line"),
    ("Question: Which?\nAnswer:\nA. x\nAnswer: A", "fewer than two lettered options (A. ..., B. ...)"),
    ("Question: Which?\nAnswer:\nA. x\nC. y\nAnswer: A", "the options are not lettered A, B, C, ... in order"),
    ("Question: Which?\nAnswer:\nA. x\nB. x\nAnswer: A", "an option is empty or repeated"),
    ("Question: Which?\nAnswer:\nA. x\nB. y\nAnswer: D", "the answer letter names no option"),
    ("Which?\nA. x\nB. y\nAnswer: A", "the question does not follow doc_to_text"),
    ("Question:  \nAnswer:\nA. x\nB. y\nAnswer: A", "empty field(s): ['question']"),
])
def test_malformed_written_examples_are_refused_with_a_reason(tmp_path: Path, text: str, reason: str) -> None:
    task = _task(tmp_path)
    parsed = task.parse_synthetic(text.removeprefix("Question:"))
    assert isinstance(parsed, ParseFailure) and parsed.reason == reason


def test_choices_from_a_template_expression_cannot_be_read_back(tmp_path: Path) -> None:
    task = _task(tmp_path, choice='"{{choices[::-1]}}"')
    parsed = task.parse_synthetic(_as_written_after_the_cue(task, ROWS[0]))
    assert isinstance(parsed, ParseFailure) and "doc_to_choice and doc_to_target must be field names" in parsed.reason
