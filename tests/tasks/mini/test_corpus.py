import re

from synthmix.tasks import get_task
from synthmix.tasks.mini.corpus import corpus_text

from .conftest import MINI


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def test_corpus_text_contains_no_split_item():
    corpus = _norm("\n".join(corpus_text(0, 300_000)))
    for name in MINI:
        task = get_task(name, seed=0, n_train=100, n_validation=50, n_test=150)
        for split in task.splits:
            leaked = [task.example_id(ex) for ex in task.load(split) if _norm(task.prompt(ex)) in corpus]
            assert leaked == [], (name, split, leaked[:3])


def test_corpus_text_asks_no_split_commonsense_question_and_varies_the_options_of_its_own():
    corpus = "\n".join(corpus_text(0, 300_000))
    task = get_task("mini-commonsense", seed=0, n_train=150, n_validation=50, n_test=180)
    stems = {ex["question"]["stem"] for split in task.splits for ex in task.load(split)}
    asked = re.findall(r"Question: (.+)\nChoices: (.+)\n", corpus)
    assert asked and not stems & {stem for stem, _ in asked}
    options_of = {}
    for stem, options in asked:
        options_of.setdefault(stem, set()).add(options)
    repeated = [opts for opts in options_of.values() if len(opts) > 1]
    assert len(repeated) >= 50


def test_corpus_text_states_the_facts_factual_asks_about():
    corpus = "\n".join(corpus_text(0, 300_000))
    task = get_task("mini-factual", seed=0, n_test=50)
    stated = [ex for ex in task.load("validation") if ex["answer"][0] in corpus]
    assert len(stated) >= 45


def test_corpus_text_same_seed_is_identical():
    assert corpus_text(0, 50_000) == corpus_text(0, 50_000)
    assert corpus_text(0, 50_000) != corpus_text(1, 50_000)


def test_knowledge_base_size_keeps_the_roster_prefix_and_the_object_inventory():
    from synthmix.tasks.mini.world import PEOPLE_ROSTER, WORLD_PEOPLE, build_world

    default, small, full = build_world(0), build_world(0, n_people=40), build_world(0, n_people=PEOPLE_ROSTER)
    large = build_world(0, n_people=1000)
    assert len(default.people) == WORLD_PEOPLE and len(small.people) == 40 and len(large.people) == 1000
    assert small.people == default.people[:40] == full.people[:40] == large.people[:40]
    assert small.objects == default.objects == full.objects == large.objects
    assert len({p.name for p in large.people}) == 1000


def test_object_inventory_size_keeps_its_prefix_and_moves_no_person():
    from synthmix.tasks.mini.world import build_world

    default, large = build_world(0), build_world(0, n_objects=1100)
    assert list(large.objects)[:200] == list(default.objects) and len(large.objects) == 1100
    assert build_world(0, n_people=1000, n_objects=1100).people == build_world(0, n_people=1000).people


def test_world_size_names_only_the_knobs_that_leave_the_default_world():
    from synthmix.tasks.mini.corpus import world_size
    from synthmix.tasks.mini.world import WORLD_OBJECTS

    assert world_size({}) == {}
    assert world_size({"mini-commonsense": {"n_objects": WORLD_OBJECTS, "n_test": 100}}) == {}
    assert world_size({"mini-factual": {"n_people": 1000}, "mini-commonsense": {"n_objects": 1100},
                       "mini-math": {"n_test": 5}}) == {"n_people": 1000, "n_objects": 1100}


def test_corpus_of_a_larger_world_states_its_new_facts_and_leaks_no_split_item():
    from synthmix.tasks.mini.world import build_world

    corpus = "\n".join(corpus_text(0, 400_000, n_people=400, n_objects=600))
    world = build_world(0, n_people=400, n_objects=600)
    new_objects = [obj for obj in list(world.objects)[200:] if f" {obj} " in corpus]
    new_people = [p for p in world.people[300:] if p.name in corpus]
    assert len(new_objects) >= 300 and len(new_people) >= 80
    for name, knob in (("mini-commonsense", {"n_objects": 600}), ("mini-factual", {"n_people": 400})):
        task = get_task(name, seed=0, n_train=100, n_validation=50, n_test=150, **knob)
        flat = _norm(corpus)
        assert not [ex for split in task.splits for ex in task.load(split) if _norm(task.prompt(ex)) in flat]


def test_eval_splits_reach_1000_items_with_the_world_knobs():
    sizes = {"mini-math": {}, "mini-reading": {}, "mini-commonsense": {"n_objects": 1200},
             "mini-factual": {"n_people": 1200}}
    for name, knobs in sizes.items():
        task = get_task(name, seed=0, n_train=10, n_validation=10, n_test=1000, **knobs)
        assert len(task.load(task.eval_split)) == 1000, name
