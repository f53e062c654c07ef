"""CommonsenseQA's format ``{id, answerKey, question: {stem, question_concept, choices}}``, shared by ``commonsense`` and ``mini-commonsense``.

Prompt ``Question: {stem}\\nChoices: (A) … (E) …\\nAnswer:``; each option text (with a leading
space) is a continuation scored by log-likelihood; the prediction is the chosen label.
"""

from __future__ import annotations

from collections.abc import Sequence

from synthmix.tasks.base import Example, Task

LABELS = ("A", "B", "C", "D", "E")


class CommonsenseQAFormat(Task):
    """Prompt, options, target, synthesis cue and scoring of CommonsenseQA-shaped questions."""

    def contamination_key(self, ex: Example) -> str:
        """The question stem identifies an item (option order may differ between copies)."""
        from synthmix.tasks.base import normalized_hash

        return normalized_hash(ex["question"]["stem"])

    def prompt(self, ex: Example) -> str:
        """The stem and the labelled options, then ``Answer:``."""
        options = " ".join(f"({c['label']}) {c['text']}" for c in ex["question"]["choices"])
        return f"Question: {ex['question']['stem']}\nChoices: {options}\nAnswer:"

    def choices(self, ex: Example) -> list[str]:
        """The option texts as continuations of the prompt, in label order."""
        return [f" {c['text']}" for c in ex["question"]["choices"]]

    def choice_labels(self, ex: Example) -> list[str]:
        """The option labels ``A`` … ``E``."""
        return [c["label"] for c in ex["question"]["choices"]]

    def target(self, ex: Example) -> str:
        """The correct option's text, then the blank line that ends an example."""
        return self.choices(ex)[self.choice_labels(ex).index(ex["answerKey"])] + "\n\n"

    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """The shots in training format, then ``Question:`` for the model to write a new one."""
        return "".join(self.format_train(ex) for ex in shots) + "Question:"

    def score(self, prediction: str, ex: Example) -> float:
        """Accuracy: the predicted label is the answer key."""
        return float(self.correct(prediction, ex))

    def correct(self, prediction: str, ex: Example) -> bool:
        """Whether the predicted label equals ``answerKey``."""
        return prediction.strip() == ex["answerKey"]

    def reference(self, ex: Example) -> str:
        """The gold label."""
        return ex["answerKey"]
