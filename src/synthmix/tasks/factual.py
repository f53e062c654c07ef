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

from typing import Any

from synthmix.tasks.base import Example, GenerationSpec, TaskInfo, normalized_hash
from synthmix.tasks.formats.nq_open import ANSWER_PREFIX, QUESTION_PREFIX, NQOpenFormat
from synthmix.tasks.hf_data import BenchmarkTask, DataSource

__all__ = ["ANSWER_PREFIX", "QUESTION_PREFIX", "Factual"]


class Factual(NQOpenFormat, BenchmarkTask):
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

    @property
    def generation(self) -> GenerationSpec:
        """Short answers end at the line break."""
        return GenerationSpec(max_new_tokens=32, stop=("\n",))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One question and its answer."""
        return GenerationSpec(max_new_tokens=64, stop=("\n\n",))

    def reference(self, ex: Example) -> str:
        """The first gold answer that survives SQuAD normalisation (``A+`` normalises to nothing and is not scored)."""
        from synthmix.metrics.qa import normalize_answer

        return f" {next((a for a in ex['answer'] if normalize_answer(a)), ex['answer'][0])}"
