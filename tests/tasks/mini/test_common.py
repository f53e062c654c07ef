import json

import pytest

from synthmix.errors import ConfigError, DataError
from synthmix.tasks import ParseFailure, get_task
from synthmix.tasks.base import normalized_hash
from synthmix.tasks.mini.common import REGIONS, region_of

from .conftest import SMALL

SCHEMAS = {
    "mini-math": {"question", "answer"},
    "mini-commonsense": {"id", "question", "answerKey"},
    "mini-factual": {"question", "answer"},
    "mini-reading": {"id", "title", "context", "question", "answers"},
    "mini-code": {"task_id", "prompt", "canonical_solution", "test", "entry_point"},
}
METRICS_NEEDED = {"mini-math", "mini-factual", "mini-reading"}


def test_regions_cover_every_bucket_once():
    buckets = sorted(b for low, high in REGIONS.values() for b in range(low, high))
    assert buckets == list(range(100))


def test_load_splits_are_sized_and_named_like_the_real_dataset(task):
    assert task.eval_split == ("test" if task.name in ("mini-math", "mini-code") else "validation")
    sizes = {"train": SMALL["n_train"], task.tuning_split: SMALL["n_validation"], task.eval_split: SMALL["n_test"]}
    assert {split: len(task.load(split)) for split in task.splits} == sizes


def test_load_splits_are_disjoint_by_hash_and_by_region(task):
    keys = {split: {task.contamination_key(ex) for ex in task.load(split)} for split in task.splits}
    groups = {split: {task.group_key(ex) for ex in task.load(split)} for split in task.splits}
    splits = list(keys)
    for i, a in enumerate(splits):
        assert len(keys[a]) == len(task.load(a))
        for b in splits[i + 1:]:
            assert not keys[a] & keys[b] and not groups[a] & groups[b]
    for split in splits:
        assert {region_of(g) for g in groups[split]} == {task.split_region[split]}


def test_load_same_seed_is_byte_identical_and_other_seed_differs(task):
    twin = get_task(task.name, seed=0, **SMALL)
    other = get_task(task.name, seed=1, **SMALL)
    for split in task.splits:
        assert json.dumps(twin.load(split), sort_keys=True) == json.dumps(task.load(split), sort_keys=True)
    assert json.dumps(other.load("train")) != json.dumps(task.load("train"))


def test_load_larger_sizes_extend_the_same_items(task):
    bigger = get_task(task.name, seed=0, n_train=SMALL["n_train"] * 2, n_validation=1, n_test=1)
    assert bigger.load("train")[: SMALL["n_train"]] == task.load("train")


def test_load_schema_matches_the_real_dataset(task):
    ex = task.load(task.eval_split)[0]
    assert set(ex) == SCHEMAS[task.name]
    assert task.example_id(ex)


def test_load_unknown_split_raises(task):
    with pytest.raises(ConfigError, match="no split"):
        task.load("nonsense")


def test_parse_synthetic_round_trips_training_text(task):
    for ex in task.load("train")[:10]:
        parsed = task.parse_synthetic(task.format_train(ex))
        assert not isinstance(parsed, ParseFailure), parsed
        assert task.contamination_key(parsed) == task.contamination_key(ex)
        assert task.format_train(parsed) == task.format_train(ex)


def test_parse_synthetic_garbage_is_a_failure_with_reason(task):
    result = task.parse_synthetic("the the the")
    assert isinstance(result, ParseFailure) and result.reason


def test_synthesis_prompt_shows_shots_in_training_format(task):
    shots = task.load("train")[:2]
    prompt = task.synthesis_prompt(shots)
    assert all(task.format_train(ex).strip("\n") in prompt for ex in shots)


def test_verify_holds_for_every_generated_example(task):
    if task.name == "mini-code":
        pytest.importorskip("synthmix.sandbox")
    for split in task.splits:
        assert all(task.verify(ex) for ex in task.load(split)[:10 if task.name == "mini-code" else None])


def test_reference_scores_100_percent(task):
    if task.name in METRICS_NEEDED:
        pytest.importorskip("synthmix.metrics.qa")
    if task.name == "mini-code":
        pytest.importorskip("synthmix.metrics.code")
    examples = task.load(task.eval_split)[:10 if task.name == "mini-code" else None]
    assert all(task.score(task.reference(ex), ex) == 1.0 and task.correct(task.reference(ex), ex) for ex in examples)


def test_fixed_wrong_answer_scores_the_floor(task):
    if task.name in METRICS_NEEDED:
        pytest.importorskip("synthmix.metrics.qa")
    if task.name == "mini-code":
        pytest.importorskip("synthmix.metrics.code")
    examples = task.load(task.eval_split)[:10 if task.name == "mini-code" else None]
    wrong = {"mini-math": " #### -1", "mini-commonsense": "Z", "mini-factual": " zzz", "mini-reading": " zzz",
             "mini-code": "    return None\n"}[task.name]
    mean = sum(task.score(wrong, ex) for ex in examples) / len(examples)
    assert mean == 0.0


def test_region_items_exhausted_raises_data_error():
    with pytest.raises(DataError, match="only"):
        get_task("mini-code", n_test=10_000, level=1).load("test")


def test_contamination_key_is_the_normalised_prompt_hash():
    task = get_task("mini-math", n_train=1)
    ex = task.load("train")[0]
    assert task.contamination_key(ex) == normalized_hash(task.prompt(ex).upper())
