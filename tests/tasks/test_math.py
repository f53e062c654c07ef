"""GSM8K on its own files: oracle, wrong answers, the carved validation split, the verifier, and unreachable data."""

import os
import subprocess
import sys

import pytest
from shared_paths import DATA as SHARED_DATA

from synthmix.errors import ConfigError, DataError
from synthmix.tasks import ParseFailure, get_task
from synthmix.tasks.math import evaluate_arithmetic

DATA = SHARED_DATA / "math"
real = pytest.mark.skipif(not DATA.is_dir(), reason="the GSM8K files in shared/data/math are not on this machine")


@pytest.fixture(scope="module")
def task():
    return get_task("math", data_dir=DATA)


@real
def test_oracle_scores_every_gsm8k_test_problem(task):
    test = task.load(task.eval_split)
    assert task.eval_split == "test" and len(test) == 1319
    assert sum(task.score(task.reference(ex), ex) for ex in test) == 1319


@real
def test_off_by_one_answer_scores_zero(task):
    test = task.load("test")
    assert sum(task.score(f"... so the answer is\n#### {int(float(task.gold(ex))) + 1}", ex) for ex in test) == 0


@real
def test_train_and_validation_partition_gsm8k_train(task):
    train, validation = task.load("train"), task.load("validation")
    assert len(train) + len(validation) == 7473 and 300 < len(validation) < 450
    keys = {task.contamination_key(ex) for ex in train}
    assert not keys & {task.contamination_key(ex) for ex in validation}
    assert not keys & {task.contamination_key(ex) for ex in task.load("test")}


@real
def test_data_files_name_both_gsm8k_files(task):
    assert [p.name for p in task.data_files()] == ["test.jsonl", "train.jsonl"]


@real
def test_verify_accepts_most_gold_solutions_and_rejects_a_wrong_step(task):
    test = task.load("test")
    passed = [task.verify(ex) for ex in test]
    assert sum(passed) / len(test) > 0.9  # 91.6 %: the rest leave their last step unannotated
    ex = test[passed.index(True)]
    expr, value = ex["answer"].split("<<", 1)[1].split(">>", 1)[0].split("=")
    assert task.verify(dict(ex, answer=ex["answer"].replace(f"<<{expr}={value}>>", f"<<{expr}={value}1>>", 1))) is False


def test_evaluate_arithmetic_is_exact_and_refuses_code():
    assert evaluate_arithmetic("16-3-4") == 9 and evaluate_arithmetic("(1/3)*3") == 1 and evaluate_arithmetic(".5*4") == 2
    with pytest.raises(ValueError):
        evaluate_arithmetic("__import__('os').getcwd()")


def test_parse_synthetic_round_trips_training_text():
    task = get_task("math")
    ex = {"question": "Ana has 3 boxes of 4 eggs. How many eggs?", "answer": "3*4=<<3*4=12>>12\n#### 12"}
    assert task.parse_synthetic(task.format_train(ex)) == ex
    assert task.verify(ex) is True
    assert isinstance(task.parse_synthetic("Question: Ana has eggs.\nAnswer: 12"), ParseFailure)


def test_correct_reads_flexible_final_numbers():
    task = get_task("math")
    ex = {"question": "q", "answer": "x\n#### 1,018"}
    assert task.correct(" so\n#### $1,018", ex) and task.correct("the answer is 1018.", ex) and not task.correct("#### 18", ex)
    assert task.answer_span(" so\n#### 1018") == (9, 13)


def test_unknown_split_is_not_aliased():
    with pytest.raises(ConfigError, match="splits: train, validation, test"):
        get_task("math").load("dev")


def test_no_data_dir_and_no_hub_names_dataset_split_and_both_ways():
    with pytest.raises(DataError) as info:
        get_task("math", hub=False).load("test")
    message = str(info.value)
    assert "GSM8K" in message and "'test'" in message and "data_dir" in message and "load_dataset('gsm8k', 'main'" in message


def test_data_dir_without_the_files_lists_the_expected_names(tmp_path):
    with pytest.raises(DataError, match="test.jsonl or main/test-00000-of-00001.parquet"):
        get_task("math", data_dir=tmp_path).load("test")


def test_unreachable_hub_gives_data_error_not_a_traceback():
    code = ("from synthmix.tasks import get_task\nfrom synthmix.errors import DataError\n"
            "try:\n    get_task('math').load('test')\nexcept DataError as e:\n    print('DATAERROR', e)\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.startswith("DATAERROR GSM8K (gsm8k) split 'test'") and "hub failed" in out.stdout


def test_get_task_is_cheap_and_imports_no_torch():
    code = ("import sys\nfrom synthmix.tasks import get_task\n"
            "tasks = [get_task(n) for n in ('math', 'commonsense', 'factual', 'reading', 'code')]\n"
            "print([t.version for t in tasks], [t.has_verifier for t in tasks], 'torch' in sys.modules, 'datasets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "['1', '1', '1', '1', '1'] [True, False, False, True, True] False False"


def test_prompt_format_lm_eval_scores_like_lm_evals_strict_match() -> None:
    from synthmix.tasks import get_task

    task = get_task("math", data_dir=DATA, prompt_format="lm-eval")
    ex = {"question": "q", "answer": "so 3 * 6 = 18\n#### 1,018"}
    assert task.correct("#### 1,018.", ex) and task.correct("#### $1018", ex) is False  # strict regex needs a digit
    assert not task.correct("the answer is 1018", ex)  # no '####': strict-match says [invalid]
    assert task.generation.stop == ("Question:", "</s>", "<|im_end|>")
    assert task.options()["prompt_format"] == "lm-eval" and "prompt_format" not in get_task("math", data_dir=DATA).options()
    with pytest.raises(ConfigError, match="prompt_format"):
        get_task("math", data_dir=DATA, prompt_format="harness")
