"""mini-reading: SQuAD 2.0-shaped passages about invented towns, with answerable and unanswerable questions.

A passage states some of a town's slots (founding year, founder, river, trade, population, mayor,
hills); questions about stated slots are answerable, questions about unstated slots are
unanswerable (empty lists; the slot's cue is absent from the passage). Every stated slot is a
sentence that names the slot right before its value ("... led by mayor Veda Fonkreasru."), and the
answer span starts at that cue ("mayor Veda Fonkreasru"), as SQuAD answers often carry their head
noun ("the river Thames"). Why: the first token of the answer then follows from the question alone,
and the rest is a copy of what follows the cue's one occurrence in the passage, which the induction
copying that tiny models learn in pretraining can do. With bare values (version 1) the first token
must be found by matching the question's words against the passage, and no rung learned that in the
2M-token budget, even from a corpus of nothing but reading items (mini-280k: answerable-question
F1 .003-.027); with cue spans the base mini-280k reached .53 on answerable questions. All questions
of a passage share its split. The eval split is ``validation`` (like SQuAD 2.0); tuning uses
``dev``. Knobs: ``n_sentences`` (slots stated per passage) and ``unanswerable_fraction``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, TaskInfo, normalized_hash
from synthmix.tasks.formats.squad import NO_ANSWER, SquadFormat, answer_text
from synthmix.tasks.mini.common import MiniTask
from synthmix.tasks.mini.world import unique_words

__all__ = ["NO_ANSWER", "PRODUCTS", "QUESTION_SLOT", "SLOTS", "MiniReading", "answer_text", "question_slot", "states_slot"]

PRODUCTS = ("copper", "wool", "cheese", "glass", "salt", "timber", "silk", "pottery", "honey", "wine")
# slot -> (sentence template, question template, cue): the cue is the answer span's start and
# occurs in a passage only in that slot's sentence
SLOTS: dict[str, tuple[str, str, str]] = {
    "year": ("{town} was founded in the year {value}.", "In what year was {town} founded?", "year"),
    "founder": ("It was founded by the settler {value}.", "Who was the first settler of {town}?", "settler"),
    "river": ("The river {value} flows through the town.", "Which river flows through {town}?", "river"),
    "product": ("{town} is known for its trade in {value}.", "What is {town} known for?", "trade in"),
    "population": ("It has a population of {value}.", "How many people live in {town}?", "population of"),
    "mayor": ("The town is led by mayor {value}.", "Who is the mayor of {town}?", "mayor"),
    "hills": ("It lies below the hills of {value}.", "Below which hills does {town} lie?", "hills of"),
}
QUESTION_SLOT = {re.compile("^" + re.escape(q).replace(r"\{town\}", r"(?P<town>\w+)") + "$"): slot
                 for slot, (_, q, _) in SLOTS.items()}


def question_slot(question: str) -> str | None:
    """The slot a generated question asks about, or ``None`` for an unknown question."""
    return next((slot for pattern, slot in QUESTION_SLOT.items() if pattern.match(question)), None)


def states_slot(context: str, slot: str) -> bool:
    """Whether ``context`` states ``slot``: its cue occurs as whole words (invented names are capitalised)."""
    return re.search(rf"\b{re.escape(SLOTS[slot][2])}\b", context) is not None


class MiniReading(SquadFormat, MiniTask):
    """Extractive QA with unanswerable questions; scored by the official SQuAD 2.0 F1 and EM."""

    name = "mini-reading"
    version = "2"  # 2: answer spans start at the slot's cue word
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
                    span = f"{SLOTS[slot][2]} {values[slot]}"
                    answers = {"text": [span], "answer_start": [context.index(span)]}
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
        return slot is not None and not states_slot(ex["context"], slot)

    def reference(self, ex: Example) -> str:
        """The first gold answer, or ``unanswerable``."""
        return f" {ex['answers']['text'][0] if ex['answers']['text'] else NO_ANSWER}"
