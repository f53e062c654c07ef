"""mini-commonsense: CommonsenseQA-shaped five-way questions about the world's invented objects.

Place and use questions need two hops the pretraining corpus states separately ("a blorp is a kind
of fruit", "fruits are found in the kitchen"); kind questions need one. All questions about an
object share its split (the region is keyed by the object), so fine-tuning items ask about other
objects than the test items and the answer must come from what pretraining stated. The eval split
is ``validation`` (like CommonsenseQA); tuning uses ``dev``. Difficulty knob: ``n_objects`` (the
world's object inventory: more objects, fewer corpus mentions of each, and more questions: about
one eval item per object); a study's mini rungs pretrain on the world its tasks ask about
(``corpus.world_size``), so the base model has seen every object at any size.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterator

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, TaskInfo
from synthmix.tasks.formats.commonsense_qa import LABELS, CommonsenseQAFormat
from synthmix.tasks.mini.common import MiniTask
from synthmix.tasks.mini.world import CATEGORIES, WORLD_OBJECTS, build_world

__all__ = ["LABELS", "OPTION", "RELATIONS", "STEM_PATTERNS", "MiniCommonsense", "draw_options", "relation_answer"]

# relation -> (question template, index into CATEGORIES' (plural, place, use); None = the category itself)
RELATIONS: dict[str, tuple[str, int | None]] = {
    "place": ("Where would you most likely find a {obj}?", 1),
    "use": ("What is a {obj} used for?", 2),
    "kind": ("What kind of thing is a {obj}?", None),
}
STEM_PATTERNS = [re.compile("^" + re.escape(t).replace(r"\{obj\}", r"(?P<obj>\w+)") + "$") for t, _ in RELATIONS.values()]
OPTION = re.compile(r"\(([A-E])\) ([^()]+?)(?= \([A-E]\)|$)")


def relation_answer(category: str, slot: int | None) -> str:
    """The answer text of a relation for an object of ``category``."""
    return category if slot is None else CATEGORIES[category][slot]


def draw_options(answer: str, slot: int | None, rng: random.Random) -> list[str]:
    """Five option texts: ``answer`` at a random position among four other answers of the same relation."""
    texts = rng.sample([text for c in sorted(CATEGORIES) if (text := relation_answer(c, slot)) != answer], 4)
    texts.insert(rng.randrange(5), answer)
    return texts


def _answer_label(answer: str, texts: list[str]) -> str | None:
    """The label an answer names: an option's text, a bare label, or ``(X) text`` with X's text; else ``None``."""
    labelled = re.fullmatch(r"\(?([A-E])\)?(?:\s+(.+))?", answer)
    if labelled and (labelled[2] is None or labelled[2].strip() == texts[LABELS.index(labelled[1])]):
        return labelled[1]
    return LABELS[texts.index(answer)] if answer in texts else None


class MiniCommonsense(CommonsenseQAFormat, MiniTask):
    """Five-way multiple choice over object categories; prediction = the chosen label."""

    name = "mini-commonsense"
    version = "2"
    family = "commonsense"
    output_type = "multiple_choice"
    eval_split = "validation"
    tuning_split = "dev"
    info = TaskInfo(primary_metric="accuracy", metrics=("accuracy", "acc_norm", "acc_norm_tokens"), chance=0.2)

    def __init__(self, seed: int = 0, n_train: int = 150, n_validation: int = 50, n_test: int = 150,
                 n_objects: int = WORLD_OBJECTS) -> None:
        if not isinstance(n_objects, int) or n_objects < 50:
            raise ConfigError(f"task 'mini-commonsense': n_objects must be an integer ≥ 50 (got {n_objects!r})")
        self.n_objects = n_objects
        super().__init__(seed, n_train, n_validation, n_test)

    def knobs(self) -> dict[str, int]:
        """The size of the object inventory."""
        return {"n_objects": self.n_objects}

    def candidates(self) -> Iterator[Example]:
        """Every (object, relation) question once, in a seeded order, with seeded distractors."""
        rng = self.rng()
        objects = build_world(self.seed, n_objects=self.n_objects).objects
        pairs = [(obj, rel) for obj in objects for rel in RELATIONS]
        rng.shuffle(pairs)
        for obj, rel in pairs:
            template, slot = RELATIONS[rel]
            answer = relation_answer(objects[obj], slot)
            texts = draw_options(answer, slot, rng)
            stem = template.format(obj=obj)
            yield {
                "id": "",
                "question": {"stem": stem, "choices": [{"label": lab, "text": t} for lab, t in zip(LABELS, texts, strict=True)],
                             "question_concept": obj},
                "answerKey": LABELS[texts.index(answer)],
            }

    def pretraining_variant(self, ex: Example, rng: random.Random) -> Example:
        """The item with freshly drawn options, so no option set comes with its answer often enough to memorise.

        With each item's options fixed, a small model can memorise which option of a set is right
        without reading the object (mini-280k, pretraining seed 0: .55 on the corpus's own items,
        .24 zero-shot on the eval split); redrawn options leave the object's category as the only cue
        (.69–.79 zero-shot on each relation for pretraining seeds 0, 1 and 2).
        """
        stem = ex["question"]["stem"]
        slot = next(slot for (_, slot), pattern in zip(RELATIONS.values(), STEM_PATTERNS, strict=True) if pattern.match(stem))
        answer = ex["question"]["choices"][LABELS.index(ex["answerKey"])]["text"]
        texts = draw_options(answer, slot, rng)
        variant = copy.deepcopy(ex)
        variant["question"]["choices"] = [{"label": lab, "text": t} for lab, t in zip(LABELS, texts, strict=True)]
        variant["answerKey"] = LABELS[texts.index(answer)]
        return variant

    def region_items(self, region: str, n: int, exact: bool = True) -> list[Example]:
        """Region items with CommonsenseQA-style ids (hash of the question)."""
        items = super().region_items(region, n, exact)
        for ex in items:
            ex["id"] = self.contamination_key(ex)[:32]
        return items

    def group_key(self, ex: Example) -> str:
        """The object asked about: all its questions share a split."""
        from synthmix.tasks.base import normalized_hash

        return normalized_hash(ex["question"]["question_concept"] or ex["question"]["stem"])

    def example_id(self, ex: Example) -> str:
        """The CommonsenseQA-style ``id`` field."""
        return ex["id"] or self.contamination_key(ex)[:32]

    @property
    def generation(self) -> GenerationSpec:
        """Unused for scoring (log-likelihood), kept for free-form sampling."""
        return GenerationSpec(max_new_tokens=8, stop=("\n",))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One question, its choices and its answer; the next ``Question:`` ends it (stray blank lines do not)."""
        return GenerationSpec(max_new_tokens=96, stop=("\nQuestion:",))

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read ``[Question:] stem / Choices: (A) … (E) … / Answer: text`` into CommonsenseQA's layout.

        Blank lines are ignored; the answer may be written as the option's text (the first option
        with that text), its label or both (``(B) garden``). Repeated option texts still parse: a
        bad question is the writer's mistake to keep (``verify`` rejects it), not a parse failure.
        """
        body = text.strip()
        body = body[len("Question:"):].strip() if body.startswith("Question:") else body
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        if len(lines) < 2 or not lines[1].startswith("Choices:"):
            return ParseFailure("no 'Choices:' line after the question")
        stem = lines[0]
        options = OPTION.findall(lines[1][len("Choices:"):].strip())
        if [label for label, _ in options] != list(LABELS):
            return ParseFailure(f"choices must be labelled (A)…(E) once each (got {[lab for lab, _ in options]})")
        if len(lines) < 3 or not lines[2].startswith("Answer:"):
            return ParseFailure("no 'Answer:' line")
        texts = [t.strip() for _, t in options]
        label = _answer_label(lines[2][len("Answer:"):].strip(), texts)
        if label is None:
            return ParseFailure(f"answer {lines[2][7:].strip()!r} is not one of the choices")
        concept = next((m["obj"] for p in STEM_PATTERNS if (m := p.match(stem))), "")
        return {
            "id": "",
            "question": {"stem": stem, "choices": [{"label": lab, "text": t} for lab, t in zip(LABELS, texts, strict=True)],
                         "question_concept": concept},
            "answerKey": label,
        }

    def verify(self, ex: Example) -> bool:
        """The answer is the option the world's category facts imply, and it is listed once."""
        stem = ex["question"]["stem"]
        objects = build_world(self.seed, n_objects=self.n_objects).objects
        for (template, slot), pattern in zip(RELATIONS.values(), STEM_PATTERNS, strict=True):
            match = pattern.match(stem)
            if match and match["obj"] in objects:
                expected = relation_answer(objects[match["obj"]], slot)
                texts = [c["text"] for c in ex["question"]["choices"]]
                return texts.count(expected) == 1 and texts[LABELS.index(ex["answerKey"])] == expected
        return False
