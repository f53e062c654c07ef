"""The pretraining corpus of the mini world: knowledge-base facts, category facts, and task-format documents.

Task material comes only from each task's ``pretrain`` hash region, so no train, tuning or eval
item is ever in the corpus; the facts the factual and commonsense questions ask about are stated
as sentences (those questions themselves never appear). Task documents pack one to
``MAX_ITEMS_PER_DOCUMENT`` items in training format back to back, exactly as few-shot synthesis
prompts show them, so the base model already writes whole examples (question, answer, ``#### N``)
after a ``Question:``; the corpus is dominated by these formats because a tiny model learns little
else from a few million tokens. Documents are a pure function of the world seed and the document index.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from synthmix.tasks.base import Example
from synthmix.tasks.mini.common import MiniTask
from synthmix.tasks.mini.world import CATEGORIES, WORLD_OBJECTS, WORLD_PEOPLE, World, build_world

BIOGRAPHY_TEMPLATES = (
    "{name} was born in {town} in {year}. {name} worked as a {job}.",
    "{name} was a {job}. {name} was born in {year} in the town of {town}.",
    "Born in {town} in {year}, {name} became a {job}.",
    "The {job} {name} came from {town}, where {name} was born in {year}.",
)
TOWN_TEMPLATES = ("{town} is a town in {country}.", "The town of {town} lies in {country}.")
CAPITAL_TEMPLATES = ("The capital of {country} is {capital}.", "{capital} is the capital city of {country}.")
OBJECT_TEMPLATES = ("A {obj} is a kind of {category}.", "The {obj} is a {category}.", "Every {obj} is a {category}.")
CATEGORY_TEMPLATES = (
    "{plural} are usually found in the {place}.", "You keep {plural} in the {place}.",
    "People use {plural} for {use}.", "{plural} are good for {use}.",
)
# family -> relative weight of its documents in the corpus. Reading weighs 1 (was 2, then 20 % of the
# tokens): no rung learns to retrieve from a passage in this budget, even from a corpus of nothing but
# reading items, so those tokens went to the facts (6 -> 8), which raised mini-120k's mini-factual F1
# from .073 to .130 and its mini-commonsense accuracy from .58 to .64 (two fine-tuning seeds).
FAMILY_WEIGHTS = {"facts": 8, "math": 3, "commonsense": 2, "factual": 1, "reading": 1, "code": 1}
TASK_FAMILIES = ("math", "commonsense", "factual", "reading", "code")
TASK_ITEMS_PER_FAMILY = 2000
# study task -> its option that sizes the world the corpus states
WORLD_KNOBS = {"mini-factual": "n_people", "mini-commonsense": "n_objects"}
MAX_ITEMS_PER_DOCUMENT = 3
FACTS_PER_DOCUMENT = 6


def fact_document(world: World, rng: random.Random) -> str:
    """A short paragraph of knowledge-base and category facts (object facts most often: there are most of them)."""
    sentences = []
    for _ in range(FACTS_PER_DOCUMENT):
        kind = rng.random()
        if kind < 0.35:
            p = rng.choice(world.people)
            sentences.append(rng.choice(BIOGRAPHY_TEMPLATES).format(
                name=p.name, town=p.birthplace, year=p.birth_year, job=p.occupation))
        elif kind < 0.4:
            town = rng.choice(sorted(world.town_country))
            sentences.append(rng.choice(TOWN_TEMPLATES).format(town=town, country=world.town_country[town]))
        elif kind < 0.43:
            country = rng.choice(world.countries)
            sentences.append(rng.choice(CAPITAL_TEMPLATES).format(country=country, capital=world.capitals[country]))
        elif kind < 0.9:
            obj = rng.choice(sorted(world.objects))
            sentences.append(rng.choice(OBJECT_TEMPLATES).format(obj=obj, category=world.objects[obj]))
        else:
            category = rng.choice(sorted(CATEGORIES))
            plural, place, use = CATEGORIES[category]
            sentences.append(rng.choice(CATEGORY_TEMPLATES).format(plural=plural, place=place, use=use).capitalize())
    return " ".join(sentences)


def world_size(task_options: dict[str, dict]) -> dict[str, int]:
    """The world-size knobs of a study's mini tasks that differ from the default world, as pretraining parameters.

    ``task_options`` maps task names to their study options; the corpus must state the world the
    tasks ask about, so a study that enlarges mini-factual's knowledge base or mini-commonsense's
    object inventory pretrains its rungs on that larger world.
    """
    defaults = {"n_people": WORLD_PEOPLE, "n_objects": WORLD_OBJECTS}
    sizes = {knob: task_options.get(task, {}).get(knob, defaults[knob]) for task, knob in WORLD_KNOBS.items()}
    return {knob: value for knob, value in sizes.items() if value != defaults[knob]}


def task_pool(family: str, seed: int, n_people: int = WORLD_PEOPLE, n_objects: int = WORLD_OBJECTS) -> tuple[MiniTask, list[Example]]:
    """A task family's mini task in the given world and its pretraining-region items (never in any split)."""
    from synthmix.tasks import get_task

    knobs = {"factual": {"n_people": n_people}, "commonsense": {"n_objects": n_objects}}.get(family, {})
    task = get_task(f"mini-{family}", seed=seed, **knobs)
    return task, task.pretraining_items(TASK_ITEMS_PER_FAMILY if family != "code" else 200)


def iter_documents(seed: int, n_people: int = WORLD_PEOPLE, n_objects: int = WORLD_OBJECTS) -> Iterator[str]:
    """An endless, seeded stream of corpus documents: fact paragraphs and packs of task items.

    Each task item is drawn in its task's ``pretraining_variant`` for that occurrence (mini-commonsense
    redraws its options) and written in training format, ending in a blank line.
    """
    world = build_world(seed, n_people=n_people, n_objects=n_objects)
    rng = random.Random(f"mini-corpus:{seed}")
    pools = {family: task_pool(family, seed, n_people, n_objects) for family in TASK_FAMILIES}
    families = [f for f, w in FAMILY_WEIGHTS.items() for _ in range(w)]
    while True:
        family = rng.choice(families)
        if family == "facts":
            yield fact_document(world, rng)
        else:
            task, items = pools[family]
            k = rng.randint(1, MAX_ITEMS_PER_DOCUMENT)
            yield "".join(task.format_train(task.pretraining_variant(rng.choice(items), rng)) for _ in range(k)).rstrip("\n")


def corpus_text(seed: int, n_chars: int, n_people: int = WORLD_PEOPLE, n_objects: int = WORLD_OBJECTS) -> list[str]:
    """The first documents of the stream whose total length reaches ``n_chars``."""
    docs: list[str] = []
    total = 0
    for doc in iter_documents(seed, n_people, n_objects):
        docs.append(doc)
        total += len(doc) + 1
        if total >= n_chars:
            return docs
    raise AssertionError("the document stream is endless")
