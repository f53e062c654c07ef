"""factual: NQ-open (``nq_open``); eval split ``validation`` (3,610 questions), metric: token F1 (and EM).

Records are NQ-open's ``{question, answer: [str, ...]}`` (the original release files and the
Hugging Face layout share it). Splits: ``train`` (87,925 in the release; NQ-open.train.jsonl) and
``validation`` (NQ-open.dev.jsonl, the eval split).

Prompt format, version 1 (lm-evaluation-harness's NQ-open layout): ``Q: {question}?\\nA:`` followed
in training text by `` {answer[0]}\\n\\n``. Greedy answers stop at the line break. ``score`` is
SQuAD-normalised token F1, maximum over the gold answers; ``correct`` (for calibration) is exact
match with any gold answer. Confidence is the model's probability of the stripped answer span.
No verifier: nothing in an open-domain question checks its answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, TaskInfo, normalized_hash
from synthmix.tasks.hf_data import BenchmarkTask, DataSource

QUESTION_PREFIX = "Q:"
ANSWER_PREFIX = "A:"


class Factual(BenchmarkTask):
    """Open-domain factual QA answered from what the model memorised."""

    name = "factual"
    version = "1"
    output_type = "generate"
    eval_split = "validation"
    splits = ("train", "validation")
    split_note = "NQ-open's test answers are not public; the eval split is validation"
    info = TaskInfo(primary_metric="f1", metrics=("f1", "exact_match"), chance=0.0)
    source = DataSource(
        dataset="NQ-open", hub="nq_open", config=None,
        files={"train": ("NQ-open.train.jsonl", "train.jsonl", "nq_open/train-00000-of-00001.parquet"),
               "validation": ("NQ-open.dev.jsonl", "validation.jsonl", "nq_open/validation-00000-of-00001.parquet")},
    )

    def convert(self, raw: Any, split: str) -> list[Example]:
        """``{question, answer}`` with ``answer`` a list of strings."""
        return [{"question": row["question"], "answer": list(row["answer"])} for row in super().convert(raw, split)]

    def example_id(self, ex: Example) -> str:
        """NQ-open has no ids: the question's normalised hash, shortened."""
        return normalized_hash(ex["question"])[:16]

    def prompt(self, ex: Example) -> str:
        """``Q: question? / A:``."""
        return f"{QUESTION_PREFIX} {ex['question']}?\n{ANSWER_PREFIX}"

    def target(self, ex: Example) -> str:
        """The first scorable gold answer, then the blank line that ends an example."""
        return f"{self.reference(ex)}\n\n"

    @property
    def generation(self) -> GenerationSpec:
        """Short answers end at the line break."""
        return GenerationSpec(max_new_tokens=32, stop=("\n",))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One question and its answer."""
        return GenerationSpec(max_new_tokens=64, stop=("\n\n",))

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

    def reference(self, ex: Example) -> str:
        """The first gold answer that survives SQuAD normalisation (``A+`` normalises to nothing and is not scored)."""
        from synthmix.metrics.qa import normalize_answer

        return f" {next((a for a in ex['answer'] if normalize_answer(a)), ex['answer'][0])}"

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """The generated answer without surrounding whitespace."""
        stripped = prediction.strip()
        if not stripped:
            return None
        start = prediction.index(stripped)
        return start, start + len(stripped)
