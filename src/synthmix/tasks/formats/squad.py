"""SQuAD 2.0's format ``{id, title, context, question, answers: {text, answer_start}}``, shared by ``reading`` and ``mini-reading``.

Prompt ``Title: …\\nPassage: …\\nQuestion: …\\nAnswer:``, target the task's ``reference`` (first
gold answer or ``unanswerable``) and a blank line; official SQuAD 2.0 F1 and exact match, where a
generated ``unanswerable`` is the empty ("no answer") prediction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from synthmix.tasks.base import Example, ParseFailure, Task, normalized_hash
from synthmix.tasks.formats.spans import stripped_span

NO_ANSWER = "unanswerable"


def answer_text(prediction: str) -> str:
    """A generated answer as SQuAD 2.0 scores it: stripped, with ``unanswerable`` meaning the empty answer."""
    text = prediction.strip()
    return "" if text.lower() == NO_ANSWER else text


class SquadFormat(Task):
    """Prompt, target, synthesis, parsing and scoring of SQuAD 2.0-shaped questions."""

    # whether a synthetic answer missing from its passage fails to parse (else it keeps answer_start -1)
    require_answer_in_passage: bool = False

    def prompt(self, ex: Example) -> str:
        """Title, passage and question, then ``Answer:``."""
        return f"Title: {ex['title']}\nPassage: {ex['context']}\nQuestion: {ex['question']}\nAnswer:"

    def target(self, ex: Example) -> str:
        """The task's gold answer (``reference``, or ``unanswerable``), then the blank line that ends an example."""
        return f"{self.reference(ex)}\n\n"

    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """The shots in training format, then ``Title:`` for the model to write a new one."""
        return "".join(self.format_train(ex) for ex in shots) + "Title:"

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read ``[Title:] t / Passage: p / Question: q / Answer: a`` into SQuAD 2.0's layout."""
        body = text.strip()
        body = body[len("Title:"):] if body.startswith("Title:") else body
        match = re.fullmatch(r"\s*(.+?)\nPassage: (.+?)\nQuestion: (.+?)\nAnswer:(.*)", body, flags=re.S)
        if match is None:
            return ParseFailure("expected Title, Passage, Question and Answer lines")
        title, context, question, answer = (g.strip() for g in match.groups())
        if "\n" in answer:
            return ParseFailure("answer must be one line")
        if answer_text(answer):
            start = context.find(answer)
            if start < 0 and self.require_answer_in_passage:
                return ParseFailure("answer does not occur in the passage")
            answers = {"text": [answer], "answer_start": [start]}
        else:
            answers = {"text": [], "answer_start": []}
        return {"id": normalized_hash(context + question)[:24], "title": title, "context": context,
                "question": question, "answers": answers}

    def score(self, prediction: str, ex: Example) -> float:
        """Official SQuAD 2.0 token F1 (max over answers; no gold answer = unanswerable)."""
        from synthmix.metrics.qa import token_f1

        return float(token_f1(answer_text(prediction), ex["answers"]["text"]))

    def correct(self, prediction: str, ex: Example) -> bool:
        """Official SQuAD 2.0 exact match."""
        from synthmix.metrics.qa import exact_match

        return bool(exact_match(answer_text(prediction), ex["answers"]["text"]))

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """The generated answer (``unanswerable`` included) without surrounding whitespace."""
        return stripped_span(prediction)
