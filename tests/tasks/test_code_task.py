"""HumanEval on its own file, run in the sandbox; MBPP (the code task's training data) converted to HumanEval's layout."""

import json
import time

import pytest
from shared_paths import DATA as SHARED_DATA

from synthmix.errors import DataError
from synthmix.metrics.code import run_problems
from synthmix.tasks import ParseFailure, get_task
from synthmix.tasks.code import mbpp_to_humaneval

DATA = SHARED_DATA / "code"
real = pytest.mark.skipif(not DATA.is_dir(), reason="HumanEval.jsonl.gz in shared/data/code is not on this machine")

# written for these tests in MBPP's release schema (mbpp.jsonl); task ids place them in train (601-974) and validation (511-600)
MBPP_ROWS = [
    {"task_id": 601, "text": "Write a function to return the largest of three numbers.",
     "code": "def largest_of_three(a, b, c):\r\n  best = a\r\n  for x in (b, c):\r\n    if x > best:\r\n      best = x\r\n  return best",
     "test_list": ["assert largest_of_three(1, 5, 3) == 5", "assert largest_of_three(-1, -5, -3) == -1"],
     "test_setup_code": "", "challenge_test_list": []},
    {"task_id": 602, "text": "Write a function to count vowels in a string.",
     "code": "import re\ndef helper(s):\n    return s.lower()\ndef count_vowels(s):\n    return len(re.findall('[aeiou]', helper(s)))",
     "test_list": ["assert count_vowels('Banana') == 3", "assert count_vowels('xyz') == 0"],
     "test_setup_code": "", "challenge_test_list": []},
    {"task_id": 603, "text": "Write a one-line function.", "code": "def one(x): return x",
     "test_list": ["assert one(1) == 1"], "test_setup_code": "", "challenge_test_list": []},
    {"task_id": 520, "text": "Write a function to double a number.", "code": "def double(x):\n    return 2 * x",
     "test_list": ["assert double(4) == 8"], "test_setup_code": "", "challenge_test_list": []},
]


@pytest.fixture(scope="module")
def task():
    return get_task("code", data_dir=DATA)


def as_items(examples, completions):
    return [{"prompt": ex["prompt"], "completion": c, "test": ex["test"], "entry_point": ex["entry_point"]}
            for ex, c in zip(examples, completions, strict=True)]


@real
def test_eval_split_is_humaneval_test(task):
    test = task.load(task.eval_split)
    assert task.eval_split == "test" and len(test) == 164 and test[0]["task_id"] == "HumanEval/0"


@real
def test_oracle_and_wrong_answer_through_the_task_on_a_sample(task):
    sample = task.load("test")[::20]
    assert [task.score(task.reference(ex), ex) for ex in sample] == [1.0] * len(sample)
    assert [task.score("    return None\n", ex) for ex in sample] == [0.0] * len(sample)


@real
@pytest.mark.slow
def test_all_164_canonical_solutions_pass_in_the_sandbox(task):
    test = task.load("test")
    start = time.perf_counter()
    results = run_problems(as_items(test, [task.reference(ex) for ex in test]), timeout_s=task.timeout_s)
    wall = time.perf_counter() - start
    assert [r.reason for r in results if not r.passed] == [] and len(results) == 164
    wrong = run_problems(as_items(test, ["    return None\n"] * 164), timeout_s=task.timeout_s)
    assert sum(r.passed for r in wrong) == 0
    print(f"164 canonical solutions in {wall:.1f} s")


def test_train_without_mbpp_names_mbpp_and_both_ways(task):
    with pytest.raises(DataError, match=r"MBPP .*\(mbpp\) split 'train'.*mbpp.jsonl.*load_dataset\('mbpp', 'full', split='train'\)"):
        task.load("train")


@pytest.fixture
def with_mbpp(tmp_path):
    (tmp_path / "mbpp.jsonl").write_text("".join(json.dumps(r) + "\n" for r in MBPP_ROWS))
    return get_task("code", data_dir=DATA if DATA.is_dir() else None, mbpp_dir=tmp_path, hub=False)


def test_mbpp_release_file_splits_by_task_id_and_skips_one_liners(with_mbpp):
    train = with_mbpp.load("train")
    assert [ex["task_id"] for ex in train] == ["MBPP/601", "MBPP/602"] and with_mbpp.skipped["train"] == 1
    assert [ex["task_id"] for ex in with_mbpp.load("validation")] == ["MBPP/520"]
    assert any(p.name == "mbpp.jsonl" for p in with_mbpp.data_files())


def test_mbpp_conversion_is_humaneval_shaped_and_passes_its_tests(with_mbpp):
    first, second = with_mbpp.load("train")
    assert first["prompt"].endswith('  """Write a function to return the largest of three numbers.\n  >>> largest_of_three(1, 5, 3)\n  5\n  """\n')
    assert second["prompt"].startswith("import re\ndef helper(s):") and second["entry_point"] == "count_vowels"
    assert with_mbpp.verify(first) and with_mbpp.verify(second)
    assert with_mbpp.score("  return a\n", first) == 0.0


def test_parse_synthetic_round_trips_training_text(with_mbpp):
    ex = mbpp_to_humaneval(MBPP_ROWS[3])
    written = with_mbpp.format_train(ex)[len("def"):]
    parsed = with_mbpp.parse_synthetic(written)
    assert parsed["entry_point"] == "double" and parsed["canonical_solution"] == "    return 2 * x\n"
    assert with_mbpp.verify(parsed) is True
    assert with_mbpp.verify(dict(parsed, canonical_solution="    return x\n")) is False
    assert isinstance(with_mbpp.parse_synthetic(" f(x):\n    return x\n"), ParseFailure)
    assert isinstance(with_mbpp.parse_synthetic(' f(x):\n    """No example."""\n    return x\n'), ParseFailure)
