"""NQ-open's format ``{question, answer: [str, ...]}``, shared by ``factual`` and ``mini-factual``.

Prompt ``Q: {question}?\\nA:`` (lm-evaluation-harness's layout), target the task's ``reference``
and a blank line; SQuAD-normalised token F1 (max over gold answers) and exact match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from synthmix.tasks.base import Example, ParseFailure, Task
from synthmix.tasks.formats.spans import stripped_span

QUESTION_PREFIX = "Q:"
ANSWER_PREFIX = "A:"


class NQOpenFormat(Task):
    """Prompt, target, synthesis, parsing and scoring of NQ-open-shaped questions."""

    def prompt(self, ex: Example) -> str:
        """``Q: question? / A:``."""
        return f"{QUESTION_PREFIX} {ex['question']}?\n{ANSWER_PREFIX}"

    def target(self, ex: Example) -> str:
        """The task's gold answer (``reference``), then the blank line that ends an example."""
        return f"{self.reference(ex)}\n\n"

    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """The shots in training format, then ``Q:`` for the model to write a new question."""
        return "".join(self.format_train(ex) for ex in shots) + QUESTION_PREFIX

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read ``[Q:] question? / A: answer`` into ``{question, answer: [answer]}``."""
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

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """The generated answer without surrounding whitespace."""
        return stripped_span(prediction)
