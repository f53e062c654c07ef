"""commonsense: CommonsenseQA (``commonsense_qa``); eval split ``validation`` (1,221 questions), metric: accuracy.

Records use the original release schema: ``{id, answerKey, question: {stem, question_concept,
choices: [{label, text}] × 5}}``. Rows in the Hugging Face layout (``question`` a string,
``choices: {label: [...], text: [...]}``) are converted to it, so both layouts load to identical
records. Splits: ``train`` (9,741) and ``validation`` (the "dev" file, the eval split).
CommonsenseQA's test split has no answer keys and is not a split here.

Prompt format, version 1 (synthmix's, not lm-eval's; docs/evaluation.md): ``Question: {stem}\nChoices: (A) … (E) …
\nAnswer:``; each option text (with a leading space) is scored as a continuation by its log-likelihood. The
prediction is the chosen option's label; ``accuracy`` is the argmax of the summed log-likelihood (lm-eval's
``acc``), ``acc_norm`` of it per character (lm-eval's) and ``acc_norm_tokens`` per token. Confidence is the
predicted option's probability under the softmax over per-token log-likelihoods (``synthmix.evaluation``).
Perplexity is omitted: the only labelled held-out split is the eval split.
Training text is the prompt followed by the correct option's text. No verifier: nothing outside
the example says which option is right.
"""

from __future__ import annotations

import re
from typing import Any

from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, TaskInfo
from synthmix.tasks.formats.commonsense_qa import LABELS, CommonsenseQAFormat
from synthmix.tasks.hf_data import BenchmarkTask, DataSource

__all__ = ["CHOICES_LINE", "LABELS", "OPTION", "Commonsense", "to_original_schema"]

CHOICES_LINE = re.compile(r"^Choices: (.*)$", re.M)
OPTION = re.compile(r"\(([A-E])\) ([^\n]+?)(?= \([A-E]\) |$)")


def to_original_schema(row: dict[str, Any]) -> Example:
    """A CommonsenseQA row in either layout, as an original-release record."""
    question = row["question"]
    if isinstance(question, dict):
        stem, concept, choices = question["stem"], question.get("question_concept", ""), question["choices"]
        options = [{"label": c["label"], "text": c["text"]} for c in choices]
    else:
        stem, concept = question, row.get("question_concept", "")
        options = [{"label": lab, "text": text} for lab, text in zip(row["choices"]["label"], row["choices"]["text"], strict=True)]
    return {"id": row["id"], "answerKey": row["answerKey"],
            "question": {"stem": stem, "question_concept": concept, "choices": options}}


class Commonsense(CommonsenseQAFormat, BenchmarkTask):
    """Five-way commonsense multiple choice; prediction = the chosen label."""

    name = "commonsense"
    version = "1"
    output_type = "multiple_choice"
    eval_split = "validation"
    splits = ("train", "validation")
    split_note = "CommonsenseQA's test split has no answer keys; the eval split is validation"
    info = TaskInfo(primary_metric="accuracy", metrics=("accuracy", "acc_norm", "acc_norm_tokens"), chance=0.2)
    source = DataSource(
        dataset="CommonsenseQA", hub="commonsense_qa", config=None,
        files={"train": ("train_rand_split.jsonl", "train.jsonl", "data/train-00000-of-00001.parquet"),
               "validation": ("dev_rand_split.jsonl", "validation.jsonl", "data/validation-00000-of-00001.parquet")},
    )

    def convert(self, raw: Any, split: str) -> list[Example]:
        """Either layout → original-release records."""
        return [to_original_schema(row) for row in super().convert(raw, split)]

    def example_id(self, ex: Example) -> str:
        """CommonsenseQA's ``id``."""
        return ex["id"]

    @property
    def generation(self) -> GenerationSpec:
        """Unused for scoring (log-likelihood); kept for free-form sampling."""
        return GenerationSpec(max_new_tokens=16, stop=("\n",))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One question, its five choices and its answer."""
        return GenerationSpec(max_new_tokens=128, stop=("\n\n",))

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read ``[Question:] stem / Choices: (A) … (E) … / Answer: text`` into the original schema."""
        from synthmix.tasks.base import normalized_hash

        body = text.strip()
        body = body[len("Question:"):].strip() if body.startswith("Question:") else body
        stem, _, rest = body.partition("\n")
        line = CHOICES_LINE.search(rest)
        if not stem.strip() or line is None:
            return ParseFailure("no 'Choices:' line after the question")
        options = OPTION.findall(line[1].strip())
        if [label for label, _ in options] != list(LABELS):
            return ParseFailure(f"choices must be labelled (A)…(E) once each (got {[lab for lab, _ in options]})")
        after = rest[line.end():].strip()
        if not after.startswith("Answer:"):
            return ParseFailure("no 'Answer:' line")
        answer = (after[len("Answer:"):].strip().splitlines() or [""])[0].strip()
        texts = [t.strip() for _, t in options]
        if answer not in texts:
            return ParseFailure(f"answer {answer!r} is not one of the choices")
        if len(set(texts)) != len(texts):
            return ParseFailure("duplicate choices")
        return {"id": normalized_hash(stem)[:32], "answerKey": LABELS[texts.index(answer)],
                "question": {"stem": stem.strip(), "question_concept": "",
                             "choices": [{"label": lab, "text": t} for lab, t in zip(LABELS, texts, strict=True)]}}
