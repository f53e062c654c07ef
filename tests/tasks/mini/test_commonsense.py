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
