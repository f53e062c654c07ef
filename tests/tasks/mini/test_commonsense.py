from collections import defaultdict

from synthmix.tasks import get_task
from synthmix.tasks.mini.world import CATEGORY_ENDINGS, NAME_CUE_RATE, build_world


def test_load_questions_about_one_object_share_a_split():
    task = get_task("mini-commonsense", n_train=150, n_validation=50, n_test=150)
    splits_of = defaultdict(set)
    for split in task.splits:
        for ex in task.load(split):
            splits_of[ex["question"]["question_concept"]].add(split)
    assert splits_of and all(len(s) == 1 for s in splits_of.values())


def test_load_asks_place_use_and_kind_with_the_world_answer():
    task = get_task("mini-commonsense", n_train=150, n_validation=50, n_test=150)
    stems = [ex["question"]["stem"] for ex in task.load("train")]
    assert {s.split()[0] for s in stems} == {"Where", "What"} and any(s.startswith("What kind") for s in stems)
    assert all(task.verify(ex) for ex in task.load("train"))


def test_build_world_about_half_the_object_names_carry_their_category_ending():
    objects = build_world(0).objects
    cued = sum(name.endswith(CATEGORY_ENDINGS[cat]) for name, cat in objects.items()) / len(objects)
    assert abs(cued - NAME_CUE_RATE) < 0.1


def _written(ex, answer: str, gap: str = "\n") -> str:
    options = " ".join(f"({c['label']}) {c['text']}" for c in ex["question"]["choices"])
    return f" {ex['question']['stem']}{gap}Choices: {options}{gap}Answer: {answer}\n"


def test_parse_synthetic_reads_blank_lines_and_answers_given_by_label():
    task = get_task("mini-commonsense", n_train=20, n_validation=5, n_test=5)
    ex = task.load("train")[0]
    key = ex["answerKey"]
    text = next(c["text"] for c in ex["question"]["choices"] if c["label"] == key)
    for answer in (text, key, f"({key}) {text}"):
        parsed = task.parse_synthetic(_written(ex, answer, gap="\n\n\n"))
        assert parsed["answerKey"] == key and parsed["question"]["choices"] == ex["question"]["choices"]
    other = "A" if key != "A" else "B"
    assert task.parse_synthetic(_written(ex, f"({other}) {text}")).reason.startswith("answer")


def test_parse_synthetic_repeated_options_parse_but_fail_verify():
    task = get_task("mini-commonsense", n_train=20, n_validation=5, n_test=5)
    ex = task.load("train")[0]
    first = ex["question"]["choices"][0]["text"]
    for c in ex["question"]["choices"][1:]:
        c["text"] = first if c["label"] == "B" else c["text"]
    parsed = task.parse_synthetic(_written(ex, first))
    assert parsed["answerKey"] == "A" and not task.verify(parsed)


def test_pretraining_variant_redraws_the_options_and_keeps_question_and_answer():
    import random

    task = get_task("mini-commonsense", n_train=20, n_validation=5, n_test=5)
    ex = task.pretraining_items(1)[0]
    answer = next(c["text"] for c in ex["question"]["choices"] if c["label"] == ex["answerKey"])
    rng = random.Random(0)
    variants = [task.pretraining_variant(ex, rng) for _ in range(20)]
    for v in variants:
        texts = [c["text"] for c in v["question"]["choices"]]
        assert v["question"]["stem"] == ex["question"]["stem"] and task.verify(v)
        assert texts[[c["label"] for c in v["question"]["choices"]].index(v["answerKey"])] == answer
    assert len({tuple(c["text"] for c in v["question"]["choices"]) for v in variants}) >= 15
    assert len({v["answerKey"] for v in variants}) == 5
    assert ex == task.pretraining_items(1)[0]


def test_pretraining_variant_of_other_tasks_is_the_item():
    import random

    task = get_task("mini-math", n_train=20, n_validation=5, n_test=5)
    ex = task.pretraining_items(1)[0]
    assert task.pretraining_variant(ex, random.Random(0)) is ex
