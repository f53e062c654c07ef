"""NQ-open on its own dev file: oracle, wrong answers, synthesis parsing and the missing train file."""


import pytest
from shared_paths import DATA as SHARED_DATA

from synthmix.errors import DataError
from synthmix.tasks import ParseFailure, get_task

DATA = SHARED_DATA / "factual"
real = pytest.mark.skipif(not DATA.is_dir(), reason="NQ-open.dev.jsonl in shared/data/factual is not on this machine")


@pytest.fixture(scope="module")
def task():
    return get_task("factual", data_dir=DATA)


@real
def test_oracle_scores_every_validation_question(task):
    validation = task.load(task.eval_split)
    assert task.eval_split == "validation" and len(validation) == 3610
    assert sum(task.score(task.reference(ex), ex) for ex in validation) == 3610
    assert sum(task.correct(task.reference(ex), ex) for ex in validation) == 3610


@real
def test_reference_skips_answers_the_normaliser_empties(task):
    ex = next(ex for ex in task.load("validation") if ex["answer"][0] == "A+")
    assert task.reference(ex) == " AB+" and task.score(" A+", ex) == 0.0


@real
def test_fixed_wrong_answer_scores_near_zero(task):
    validation = task.load("validation")
    assert sum(task.score(" zzyzx quorble", ex) for ex in validation) == 0.0


@real
def test_missing_train_file_names_both_ways_to_supply_it(task):
    with pytest.raises(DataError, match=r"NQ-open \(nq_open\) split 'train'.*NQ-open.train.jsonl.*load_dataset\('nq_open', split='train'\)"):
        task.load("train")


def test_f1_takes_the_best_gold_answer():
    task = get_task("factual")
    ex = {"question": "who wrote it", "answer": ["Bob Russell", "Bobby Scott"]}
    assert task.score(" Bob Russell\n", ex) == 1.0 and task.score("Russell", ex) == pytest.approx(2 / 3)
    assert task.correct(" the Bob Russell.", ex) and not task.correct("Russell", ex)


def test_parse_synthetic_round_trips_training_text():
    task = get_task("factual")
    ex = {"question": "when did the moon landing happen", "answer": ["1969"]}
    assert task.parse_synthetic(task.format_train(ex)) == ex
    assert isinstance(task.parse_synthetic("Q: no answer line"), ParseFailure)
