"""The generated world the mini tasks share: invented names, a knowledge base and object categories.

Everything is a pure function of the world seed, so the pretraining corpus (which states the
facts) and the tasks (which ask about them) agree without passing files around.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr", "st", "th", "sh")
VOWELS = ("a", "e", "i", "o", "u", "ai", "ou", "ea")
CODAS = ("", "", "", "n", "r", "l", "s", "m", "k")

OCCUPATIONS = (
    "baker", "miner", "weaver", "sailor", "farmer", "painter", "teacher", "doctor", "potter", "smith",
    "singer", "tailor", "hunter", "builder", "fisher", "merchant", "scribe", "brewer", "carpenter", "judge",
)

# category -> (plural, place where it is found, what it is used for)
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "fruit": ("fruits", "kitchen", "eating"),
    "tool": ("tools", "workshop", "building things"),
    "garment": ("garments", "wardrobe", "keeping warm"),
    "instrument": ("instruments", "concert hall", "making music"),
    "toy": ("toys", "playroom", "playing games"),
    "book": ("books", "library", "reading stories"),
    "flower": ("flowers", "garden", "decorating rooms"),
    "vehicle": ("vehicles", "garage", "traveling far"),
    "medicine": ("medicines", "pharmacy", "healing illness"),
    "utensil": ("utensils", "drawer", "cooking food"),
}

# category -> the name ending that most of its objects share (like English "-berry" or "-saw"): a
# model can generalise a category from the name, and must memorise the objects without one
CATEGORY_ENDINGS: dict[str, str] = {
    "fruit": "pom", "tool": "zak", "garment": "lin", "instrument": "tun", "toy": "bib",
    "book": "pag", "flower": "pet", "vehicle": "rov", "medicine": "cur", "utensil": "ket",
}
NAME_CUE_RATE = 0.5


def make_word(rng: random.Random, n_syllables: int) -> str:
    """An invented pronounceable word of ``n_syllables`` syllables."""
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(n_syllables))


def unique_words(rng: random.Random, n: int, syllables: tuple[int, int], taken: set[str]) -> list[str]:
    """``n`` distinct invented words not in ``taken`` (which is updated), in generation order."""
    words: list[str] = []
    while len(words) < n:
        word = make_word(rng, rng.randint(*syllables))
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


@dataclass(frozen=True)
class Person:
    """A knowledge-base person: the facts mini-factual asks about."""

    name: str
    birthplace: str
    birth_year: int
    occupation: str


@dataclass(frozen=True)
class World:
    """The knowledge base and object inventory of one world seed."""

    seed: int
    countries: tuple[str, ...]
    capitals: dict[str, str]
    town_country: dict[str, str]
    people: tuple[Person, ...]
    objects: dict[str, str]


# The default world: the one the pretraining corpus states. Small enough that a tiny model sees
# each fact many times in a pretraining budget of a few million tokens: with 300 people the
# smallest rungs recalled no birth year or birthplace (mini-factual F1 .02-.04 against a .018
# baseline); with 150, mini-120k reached .10-.15.
WORLD_PEOPLE = 150
WORLD_OBJECTS = 200
# People are drawn from a roster of this many names before the objects and the knowledge base keeps
# the first ``n_people``; people beyond the roster come from a stream of their own, drawn after. So
# the knowledge-base size never moves the object inventory, nor the object count the people
# (mini-commonsense stays the same world whatever mini-factual's ``n_people``, and the reverse).
PEOPLE_ROSTER = 300


def draw_people(rng: random.Random, n: int, towns: list[str], taken: set[str]) -> list[Person]:
    """``n`` people with unique names (first names, then last names, then each one's facts, in that order)."""
    firsts = [w.capitalize() for w in unique_words(rng, n, (2, 2), taken)]
    lasts = [w.capitalize() for w in unique_words(rng, n, (1, 2), taken)]
    return [
        Person(name=f"{first} {last}", birthplace=rng.choice(towns), birth_year=rng.randint(1700, 1999),
               occupation=rng.choice(OCCUPATIONS))
        for first, last in zip(firsts, lasts, strict=True)
    ]


@lru_cache(maxsize=8)
def build_world(seed: int, n_people: int = WORLD_PEOPLE, n_objects: int = WORLD_OBJECTS) -> World:
    """The world of ``seed``: countries with capitals, towns, people and invented objects with categories.

    People past the roster are named apart from the objects (their stream sees only the names drawn
    before the objects), so one of them may share a word with an object: "Blorpa Tam" and "a blorpa"
    never meet in one question.
    """
    rng = random.Random(f"mini-world:{seed}")
    taken: set[str] = set()
    countries = [w.capitalize() for w in unique_words(rng, 12, (2, 3), taken)]
    towns = [w.capitalize() for w in unique_words(rng, 72, (2, 2), taken)]
    capitals = {country: towns[i] for i, country in enumerate(countries)}
    town_country = {town: countries[i % len(countries)] for i, town in enumerate(towns)}
    roster = draw_people(rng, PEOPLE_ROSTER, towns, taken)
    named_before_objects = set(taken)
    categories = sorted(CATEGORIES)
    objects: dict[str, str] = {}
    while len(objects) < n_objects:
        category = categories[rng.randrange(len(categories))]
        cue = rng.random() < NAME_CUE_RATE
        name = make_word(rng, rng.randint(1, 2) if cue else rng.randint(2, 3)) + (CATEGORY_ENDINGS[category] if cue else "")
        if name not in taken:
            taken.add(name)
            objects[name] = category
    beyond = max(0, n_people - PEOPLE_ROSTER)
    extra = draw_people(random.Random(f"mini-world:{seed}:people"), beyond, towns, named_before_objects) if beyond else []
    people = tuple([*roster, *extra][:n_people])
    return World(seed, tuple(countries), capitals, town_country, people, objects)
