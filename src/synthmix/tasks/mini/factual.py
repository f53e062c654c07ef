"""mini-factual: NQ-open-shaped questions (``question``, ``answer: [...]``) over the world's knowledge base.

The facts are stated only in the pretraining corpus; fine-tuning teaches the question format on
other facts, so a model answers test questions from what it memorised. The eval split is
``validation`` (like NQ-open); tuning uses ``dev``. Difficulty knob: ``n_people`` (the
knowledge base's size: more people, fewer corpus mentions of each fact, and more questions: about
one eval item per person); a study's mini rungs pretrain on the world its tasks ask about
(``corpus.world_size``), so the base model has seen every person at any size.
"""

from __future__ import annotations

from collections.abc import Iterator

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, TaskInfo
from synthmix.tasks.formats.nq_open import ANSWER_PREFIX, QUESTION_PREFIX, NQOpenFormat
from synthmix.tasks.mini.common import MiniTask
from synthmix.tasks.mini.world import WORLD_PEOPLE, World, build_world

__all__ = ["ANSWER_PREFIX", "QUESTION_PREFIX", "MiniFactual", "knowledge_questions"]


def knowledge_questions(world: World) -> list[Example]:
    """Every question the knowledge base answers, with its gold answers (aliases included)."""
    items: list[Example] = []
    for person in world.people:
        items.append({"question": f"where was {person.name.lower()} born", "answer": [person.birthplace]})
        items.append({"question": f"what year was {person.name.lower()} born", "answer": [str(person.birth_year)]})
        items.append({"question": f"what was the occupation of {person.name.lower()}",
                      "answer": [person.occupation, f"a {person.occupation}"]})
    for town, country in world.town_country.items():
        items.append({"question": f"which country is {town.lower()} in", "answer": [country]})
    for country, capital in world.capitals.items():
        items.append({"question": f"what is the capital of {country.lower()}", "answer": [capital]})
    return items


class MiniFactual(NQOpenFormat, MiniTask):
    """Open-domain QA over a generated knowledge base; scored by token F1 (max over answers) and EM."""

    name = "mini-factual"
    version = "3"  # 3: the default knowledge base has 150 people (was 300)
    family = "factual"
    output_type = "generate"
    eval_split = "validation"
    tuning_split = "dev"
    info = TaskInfo(primary_metric="f1", metrics=("f1", "exact_match"), chance=0.0)

    # n_test 150: the default 150-person world holds 156 distinct eval questions (250 could never be drawn)
    def __init__(self, seed: int = 0, n_train: int = 250, n_validation: int = 50, n_test: int = 150,
                 n_people: int = WORLD_PEOPLE) -> None:
        if not isinstance(n_people, int) or n_people < 20:
            raise ConfigError(f"task 'mini-factual': n_people must be an integer ≥ 20 (got {n_people!r})")
        self.n_people = n_people
        super().__init__(seed, n_train, n_validation, n_test)

    def knobs(self) -> dict[str, int]:
        """The number of people in the knowledge base."""
        return {"n_people": self.n_people}

    def world(self) -> World:
        """The knowledge base these questions are about."""
        return build_world(self.seed, n_people=self.n_people)

    def candidates(self) -> Iterator[Example]:
        """Every knowledge-base question once, in a seeded order."""
        items = knowledge_questions(self.world())
        self.rng().shuffle(items)
        yield from items

    def example_id(self, ex: Example) -> str:
        """NQ-open has no ids: the contamination hash, shortened."""
        return self.contamination_key(ex)[:16]

    def contamination_key(self, ex: Example) -> str:
        """The question identifies an item."""
        from synthmix.tasks.base import normalized_hash

        return normalized_hash(ex["question"])

    @property
    def generation(self) -> GenerationSpec:
        """Short answers end at the line break."""
        return GenerationSpec(max_new_tokens=16, stop=("\n",))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One question and its answer."""
        return GenerationSpec(max_new_tokens=48, stop=("\n\n",))

    def verify(self, ex: Example) -> bool:
        """Whether the knowledge base gives this answer to this question."""
        truth = {item["question"]: item["answer"] for item in knowledge_questions(self.world())}
        gold = truth.get(ex["question"].strip().lower().rstrip("?"))
        return gold is not None and ex["answer"][0].strip().lower() in {a.lower() for a in gold}

    def reference(self, ex: Example) -> str:
        """The first gold answer."""
        return f" {ex['answer'][0]}"
