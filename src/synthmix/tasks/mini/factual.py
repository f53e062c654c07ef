"""mini-factual: NQ-open-shaped questions (``question``, ``answer: [...]``) over the world's knowledge base.

The facts are stated only in the pretraining corpus; fine-tuning teaches the question format on
other facts, so a model answers test questions from what it memorised. The eval split is
``validation`` (like NQ-open); tuning uses ``dev``. Difficulty knob: ``n_people`` (more facts to
memorise from the same token budget); the pretraining corpus states the default world
(``WORLD_PEOPLE``), so another value asks about facts the base model never saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, TaskInfo
from synthmix.tasks.mini.common import MiniTask
from synthmix.tasks.mini.world import WORLD_PEOPLE, World, build_world

QUESTION_PREFIX = "Q:"
ANSWER_PREFIX = "A:"


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


class MiniFactual(MiniTask):
    """Open-domain QA over a generated knowledge base; scored by token F1 (max over answers) and EM."""

    name = "mini-factual"
    version = "2"
    family = "factual"
    output_type = "generate"
    eval_split = "validation"
    tuning_split = "dev"
    info = TaskInfo(primary_metric="f1", metrics=("f1", "exact_match"), chance=0.0)

    def __init__(self, seed: int = 0, n_train: int = 250, n_validation: int = 50, n_test: int = 250,
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

    def prompt(self, ex: Example) -> str:
        """``Q: question? / A:``, as lm-evaluation-harness formats NQ-open."""
        return f"{QUESTION_PREFIX} {ex['question']}?\n{ANSWER_PREFIX}"

    def target(self, ex: Example) -> str:
        """The first gold answer, then the blank line that ends an example."""
        return f" {ex['answer'][0]}\n\n"

    @property
    def generation(self) -> GenerationSpec:
        """Short answers end at the line break."""
        return GenerationSpec(max_new_tokens=16, stop=("\n",))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One question and its answer."""
        return GenerationSpec(max_new_tokens=48, stop=("\n\n",))

    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """The shots in training format, then ``Q:`` for the model to write a new question."""
        return "".join(self.format_train(ex) for ex in shots) + QUESTION_PREFIX

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read ``[Q:] question? / A: answer`` into NQ-open's ``question``/``answer``."""
        body = text.strip()
        body = body[len(QUESTION_PREFIX):] if body.startswith(QUESTION_PREFIX) else body
        match = re.fullmatch(r"\s*(.+?)\??\s*\n\s*A:\s*(.+?)\s*", body, flags=re.S)
        if match is None:
            return ParseFailure("expected 'question?' then an 'A: answer' line")
        question, answer = match[1].strip(), match[2].strip()
        if "\n" in question or "\n" in answer:
            return ParseFailure("question and answer must be one line each")
        return {"question": question, "answer": [answer]}

    def score(self, prediction: str, ex: Example) -> float:
        """Token F1 with SQuAD normalisation, max over the gold answers."""
        from synthmix.metrics.qa import token_f1

        return float(token_f1(prediction.strip(), ex["answer"]))

    def correct(self, prediction: str, ex: Example) -> bool:
        """Exact match with any gold answer (SQuAD normalisation)."""
        from synthmix.metrics.qa import exact_match

        return bool(exact_match(prediction.strip(), ex["answer"]))

    def verify(self, ex: Example) -> bool:
        """Whether the knowledge base gives this answer to this question."""
        truth = {item["question"]: item["answer"] for item in knowledge_questions(self.world())}
        gold = truth.get(ex["question"].strip().lower().rstrip("?"))
        return gold is not None and ex["answer"][0].strip().lower() in {a.lower() for a in gold}

    def reference(self, ex: Example) -> str:
        """The first gold answer."""
        return f" {ex['answer'][0]}"

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """The generated answer without surrounding whitespace."""
        stripped = prediction.strip()
        if not stripped:
            return None
        start = prediction.index(stripped)
        return start, start + len(stripped)
