"""GSM8K's format ``{question, answer}`` (a worked solution ending in ``#### N``), shared by ``math`` and ``mini-math``.

Prompt ``Question: {question}\\nAnswer:`` (lm-evaluation-harness's layout), target the solution and
a blank line; accuracy on the final number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from synthmix.tasks.base import Example, ParseFailure, Task

QUESTION_PREFIX = "Question:"
ANSWER_PREFIX = "Answer:"


class GSM8KFormat(Task):
    """Prompt, target, synthesis, parsing and scoring of GSM8K-shaped word problems."""

    # the ``#### N`` final-answer pattern (its group 1 is the number); each task sets its own
    final_answer: re.Pattern[str]

    def prompt(self, ex: Example) -> str:
        """``Question: … / Answer:``."""
        return f"{QUESTION_PREFIX} {ex['question']}\n{ANSWER_PREFIX}"

    def target(self, ex: Example) -> str:
        """The worked solution ending in ``#### N``, then the blank line that ends an example."""
        return f" {ex['answer']}\n\n"

    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """The shots in training format, then ``Question:`` for the model to write a new problem."""
        return "".join(self.format_train(ex) for ex in shots) + QUESTION_PREFIX

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read ``[Question:] q / Answer: solution #### N`` into ``{question, answer}``, cut after the first ``#### N``."""
        body = text.strip()
        body = body[len(QUESTION_PREFIX):] if body.startswith(QUESTION_PREFIX) else body
        if ANSWER_PREFIX not in body:
            return ParseFailure("no 'Answer:' line")
        question, _, answer = body.partition(ANSWER_PREFIX)
        question, answer = question.strip(), answer.strip()
        if not question:
            return ParseFailure("empty question")
        match = self.final_answer.search(answer)
        if match is None:
            return ParseFailure("no '#### N' final answer")
        return {"question": question, "answer": answer[: match.end()]}

    def score(self, prediction: str, ex: Example) -> float:
        """Accuracy: exact numeric match of the final number."""
        return float(self.correct(prediction, ex))

    def reference(self, ex: Example) -> str:
        """The gold worked solution, as a model should write it."""
        return f" {ex['answer']}"
