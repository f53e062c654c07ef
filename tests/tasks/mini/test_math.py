import pytest

from synthmix.tasks import ParseFailure, get_task
from synthmix.tasks.mini.math import evaluate_expression


@pytest.fixture(scope="module")
def task():
    return get_task("mini-math", seed=0, n_train=200, n_validation=50, n_test=200)


def test_load_every_answer_recomputes_from_its_solution(task):
    for split in task.splits:
        assert all(task.verify(ex) for ex in task.load(split))


def test_verify_wrong_arithmetic_fails(task):
    ex = task.load("test")[0]
    bad = dict(ex, answer=ex["answer"].replace("#### ", "#### 1"))
    assert task.verify(bad) is False


def test_evaluate_expression_division_is_exact():
    assert evaluate_expression("7/2") * 2 == 7
    with pytest.raises(ValueError):
        evaluate_expression("__import__('os')")


def test_load_schema_is_gsm8k(task):
    ex = task.load("train")[0]
    assert set(ex) == {"question", "answer"}
    assert ex["answer"].splitlines()[-1].startswith("#### ")


def test_parse_synthetic_round_trips_training_text(task):
    ex = task.load("train")[1]
    text = task.synthesis_prompt(task.load("train")[:2]) + task.format_train(ex)[len("Question:"):]
    generated = text[len(task.synthesis_prompt(task.load("train")[:2])):]
    assert task.parse_synthetic(generated) == ex


def test_parse_synthetic_without_final_answer_fails(task):
    result = task.parse_synthetic(" Ana has 3 eggs. How many?\nAnswer: 3+1 = 4")
    assert isinstance(result, ParseFailure) and "####" in result.reason


def test_answer_span_points_at_final_number(task):
    ex = task.load("test")[0]
    pred = task.reference(ex)
    start, end = task.answer_span(pred)
    assert pred[start:end] == ex["answer"].rsplit("#### ", 1)[1]
