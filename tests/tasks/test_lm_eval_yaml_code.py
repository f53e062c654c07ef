"""Code-with-tests task YAMLs (``synthmix: {answer_type: code}``): pass@1 by running each row's tests in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmix.errors import ConfigError, DataError
from synthmix.tasks.base import ParseFailure
from synthmix.tasks.lm_eval_yaml import CODE_STOP, LmEvalTask, load_task_yaml

ROWS = [
    {"prompt": 'def add(a, b):\n    """Return the sum of a and b."""\n', "solution": "    return a + b\n",
     "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
     "entry_point": "add"},
    {"prompt": 'def is_even(n):\n    """Whether n is even."""\n', "solution": "    return n % 2 == 0\n",
     "test": "def check(candidate):\n    assert candidate(4) is True\n    assert candidate(7) is False\n",
     "entry_point": "is_even"},
    {"prompt": 'def reverse_words(s):\n    """The words of s in reverse order, joined by single spaces."""\n',
     "solution": "    return ' '.join(reversed(s.split()))\n",
     "test": "def check(candidate):\n    assert candidate('a b  c') == 'c b a'\n    assert candidate('') == ''\n",
     "entry_point": "reverse_words"},
]
WRONG = ["    return a - b\n", "    return n % 2 == 1\n", "    return s[::-1]\n"]

TASK = """\
task: tiny-code
dataset_path: json
dataset_kwargs:
  data_files: {train: rows.jsonl, test: rows.jsonl}
training_split: train
test_split: test
output_type: generate_until
doc_to_text: prompt
doc_to_target: "{{solution}}"
synthmix: {answer_type: code}
"""


def _task(tmp_path: Path, text: str = TASK, rows: list[dict] = ROWS) -> LmEvalTask:
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "code.yaml").write_text(text)
    return load_task_yaml(tmp_path / "code.yaml")


def test_code_task_scores_pass_at_1_with_humaneval_stops_and_no_delimiter(tmp_path: Path) -> None:
    task = _task(tmp_path)
    assert (task.output_type, task.info.primary_metric, task.target_delimiter) == ("code", "pass@1", "")
    assert task.generation.stop == CODE_STOP and task.synthesis_generation.stop == ("\ndef ", "\nclass ", "\n\n\n")
    assert task.format_train(ROWS[0]) == ROWS[0]["prompt"] + ROWS[0]["solution"] + "\n\n"


@pytest.mark.parametrize("index", range(len(ROWS)))
def test_gold_solutions_pass_and_wrong_ones_fail_in_the_sandbox(tmp_path: Path, index: int) -> None:
    task = _task(tmp_path)
    row = task.load("test")[index]
    assert task.score(row["solution"], row) == 1.0 and task.verify(row) is True
    assert task.score(WRONG[index], row) == 0.0 and task.correct(WRONG[index], row) is False


def test_a_completion_that_exits_0_before_the_tests_run_does_not_pass(tmp_path: Path) -> None:
    task = _task(tmp_path)
    assert task.correct("    import os\n    os._exit(0)\nadd(1, 2)\n", ROWS[0]) is False


def test_written_function_parses_into_the_yaml_fields(tmp_path: Path) -> None:
    task = _task(tmp_path)
    assert task.synthesis_prompt(ROWS[:1]) == task.format_train(ROWS[0]) + "def"
    text = ' double(x):\n    """Twice x.\n    >>> double(4)\n    8\n    """\n    return 2 * x\n'
    row = task.parse_synthetic(text)
    assert row == {"prompt": 'def double(x):\n    """Twice x.\n    >>> double(4)\n    8\n    """\n',
                   "solution": "    return 2 * x\n", "entry_point": "double",
                   "test": "def check(candidate):\n    assert (double(4)) == (8)\n"}
    assert task.verify(row) is True


def test_written_function_without_examples_is_refused(tmp_path: Path) -> None:
    parsed = _task(tmp_path).parse_synthetic(' f(x):\n    """No examples."""\n    return x\n')
    assert parsed == ParseFailure("the docstring has no '>>>' example to test against")


def test_row_without_tests_is_named_with_its_field(tmp_path: Path) -> None:
    rows = [ROWS[0], {k: v for k, v in ROWS[1].items() if k != "test"}]
    with pytest.raises(DataError, match=r"split 'test' row 1 of .*rows\.jsonl: field 'test' \(synthmix\.test_field\)"):
        _task(tmp_path, rows=rows).load("test")


@pytest.mark.parametrize(("change", "message"), [
    ("{answer_type: code}", None),
    ("{answer_type: regex}", "synthmix.answer_type 'regex' is not supported"),
    ("{answer_type: code}\nmetric_list: [{metric: exact_match}]", "synthmix.answer_type: code needs output_type"),
])
def test_answer_type_is_checked_at_load(tmp_path: Path, change: str, message: str | None) -> None:
    text = TASK.replace("{answer_type: code}", change)
    if message is None:
        assert _task(tmp_path, text).is_code
    else:
        with pytest.raises(ConfigError, match=message):
            _task(tmp_path, text)
