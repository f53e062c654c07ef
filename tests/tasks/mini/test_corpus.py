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
    assert len(default.people) == WORLD_PEOPLE and len(small.people) == 40
    assert small.people == default.people[:40] == full.people[:40]
    assert small.objects == default.objects == full.objects
