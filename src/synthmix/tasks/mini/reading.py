"""mini-reading: SQuAD 2.0-shaped passages about invented towns, with answerable and unanswerable questions.

A passage states some of a town's slots (founding year, founder, river, trade, population, mayor,
hills); questions about stated slots are answerable (``answer_start`` points at the span),
questions about unstated slots are unanswerable (empty lists; the answer's keyword is absent from
the passage). All questions of a passage share its split. The eval split is ``validation`` (like
SQuAD 2.0); tuning uses ``dev``. Knobs: ``n_sentences`` (slots stated per passage) and
``unanswerable_fraction``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, TaskInfo, normalized_hash
from synthmix.tasks.formats.squad import NO_ANSWER, SquadFormat, answer_text
from synthmix.tasks.mini.common import MiniTask
from synthmix.tasks.mini.world import unique_words

__all__ = ["NO_ANSWER", "PRODUCTS", "QUESTION_SLOT", "SLOTS", "MiniReading", "answer_text", "question_slot"]

PRODUCTS = ("copper", "wool", "cheese", "glass", "salt", "timber", "silk", "pottery", "honey", "wine")
# slot -> (sentence template, question template, keyword that appears only in that slot's sentence)
SLOTS: dict[str, tuple[str, str, str]] = {
    "year": ("{town} was founded in {value}.", "In what year was {town} founded?", "was founded in"),
    "founder": ("Its first settler was {value}.", "Who was the first settler of {town}?", "first settler"),
    "river": ("The river {value} flows through the town.", "Which river flows through {town}?", "The river"),
    "product": ("{town} is known for its {value}.", "What is {town} known for?", "known for"),
    "population": ("About {value} people live there.", "How many people live in {town}?", "people live there"),
    "mayor": ("The mayor of {town} is {value}.", "Who is the mayor of {town}?", "The mayor of"),
    "hills": ("It lies below the {value} hills.", "Below which hills does {town} lie?", " hills."),
}
QUESTION_SLOT = {re.compile("^" + re.escape(q).replace(r"\{town\}", r"(?P<town>\w+)") + "$"): slot
                 for slot, (_, q, _) in SLOTS.items()}


def question_slot(question: str) -> str | None:
    """The slot a generated question asks about, or ``None`` for an unknown question."""
    return next((slot for pattern, slot in QUESTION_SLOT.items() if pattern.match(question)), None)


class MiniReading(SquadFormat, MiniTask):
    """Extractive QA with unanswerable questions; scored by the official SQuAD 2.0 F1 and EM."""

    name = "mini-reading"
    version = "1"
    family = "reading"
    output_type = "generate"
    eval_split = "validation"
    tuning_split = "dev"
    info = TaskInfo(primary_metric="f1", metrics=("f1", "exact_match"), chance=0.0)
    require_answer_in_passage = True

    def __init__(self, seed: int = 0, n_train: int = 1000, n_validation: int = 200, n_test: int = 1000,
                 n_sentences: int = 4, unanswerable_fraction: float = 0.33) -> None:
        if not isinstance(n_sentences, int) or not 2 <= n_sentences <= len(SLOTS) - 1:
            raise ConfigError(f"task 'mini-reading': n_sentences must be an integer in 2..{len(SLOTS) - 1} (got {n_sentences!r})")
        if not isinstance(unanswerable_fraction, (int, float)) or not 0 <= unanswerable_fraction <= 1:
            raise ConfigError(f"task 'mini-reading': unanswerable_fraction must be in [0, 1] (got {unanswerable_fraction!r})")
        self.n_sentences = n_sentences
        self.unanswerable_fraction = float(unanswerable_fraction)
        super().__init__(seed, n_train, n_validation, n_test)

    def knobs(self) -> dict[str, float]:
        """Passage length (slots stated) and the share of unanswerable questions."""
        return {"n_sentences": self.n_sentences, "unanswerable_fraction": self.unanswerable_fraction}

    def candidates(self) -> Iterator[Example]:
        """An endless stream of passages, each followed by its questions (one per slot asked)."""
        rng = self.rng()
        taken: set[str] = set()
        while True:
            town, founder_a, founder_b, river, mayor_a, mayor_b, hills = (
                w.capitalize() for w in unique_words(rng, 7, (2, 3), taken))
            values = {"year": str(rng.randint(1100, 1899)), "founder": f"{founder_a} {founder_b}", "river": river,
                      "product": rng.choice(PRODUCTS), "population": str(rng.randint(200, 9000)),
                      "mayor": f"{mayor_a} {mayor_b}", "hills": hills}
            order = list(SLOTS)
            rng.shuffle(order)
            stated, unstated = order[: self.n_sentences], order[self.n_sentences:]
            context = " ".join(SLOTS[s][0].format(town=town, value=values[s]) for s in stated)
            asked = [s for s in stated if rng.random() >= self.unanswerable_fraction]
            asked += [s for s in unstated if rng.random() < self.unanswerable_fraction]
            rng.shuffle(asked)
            for slot in asked:
                question = SLOTS[slot][1].format(town=town)
                if slot in stated:
                    start = context.index(SLOTS[slot][0].format(town=town, value=values[slot]))
                    start += SLOTS[slot][0].format(town=town, value="\0").index("\0")
                    answers = {"text": [values[slot]], "answer_start": [start]}
                else:
                    answers = {"text": [], "answer_start": []}
                yield {"id": normalized_hash(context + question)[:24], "title": town, "context": context,
                       "question": question, "answers": answers}

    def group_key(self, ex: Example) -> str:
        """The passage decides the split, so a passage never straddles two splits."""
        return normalized_hash(ex["context"])

    def example_id(self, ex: Example) -> str:
        """The SQuAD-style ``id`` field."""
        return ex["id"]

    @property
    def generation(self) -> GenerationSpec:
        """Short spans end at the line break."""
        return GenerationSpec(max_new_tokens=16, stop=("\n",))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One passage, question and answer."""
        return GenerationSpec(max_new_tokens=160, stop=("\n\n",))

    def verify(self, ex: Example) -> bool:
        """Answerable: every ``answer_start`` points at its text; unanswerable: the asked slot is not stated."""
        texts, starts = ex["answers"]["text"], ex["answers"]["answer_start"]
        if texts:
            return len(texts) == len(starts) and all(ex["context"][s:s + len(t)] == t for t, s in zip(texts, starts, strict=True))
        slot = question_slot(ex["question"])
        return slot is not None and SLOTS[slot][2] not in ex["context"]

    def reference(self, ex: Example) -> str:
        """The first gold answer, or ``unanswerable``."""
        return f" {ex['answers']['text'][0] if ex['answers']['text'] else NO_ANSWER}"
