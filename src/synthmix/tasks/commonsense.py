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

``prompt_format: lm-eval`` uses lm-evaluation-harness's ``commonsense_qa`` layout instead: ``Question: {stem}\nA. …
\nE. …\nAnswer:`` with the letters `` A`` … `` E`` as continuations and training targets (synthetic examples are
written and parsed in the same layout).
Training text is the prompt followed by the correct option's text. No verifier: nothing outside
the example says which option is right.
"""

from __future__ import annotations

import re
from typing import Any

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, TaskInfo
from synthmix.tasks.formats.commonsense_qa import LABELS, CommonsenseQAFormat
from synthmix.tasks.hf_data import BenchmarkTask, DataSource

__all__ = ["CHOICES_LINE", "LABELS", "OPTION", "PROMPT_FORMATS", "Commonsense", "to_original_schema"]

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


PROMPT_FORMATS = ("synthmix", "lm-eval")
LETTERED = re.compile(r"^(?:Question:)?\s*(?P<stem>[^\n]+)\n" + "".join(rf"{x}\. (?P<{x}>[^\n]+)\n" for x in LABELS)
                      + r"Answer: ?(?P<answer>[A-E])\b")


def _parse_lettered(text: str) -> Example | ParseFailure:
    """Read lm-eval's ``Question: stem / A. … / E. … / Answer: X`` layout into the original schema."""
    from synthmix.tasks.base import normalized_hash

    m = LETTERED.match(text.strip())
    if m is None:
        return ParseFailure("not 'Question:', five lines 'A. …' to 'E. …' and 'Answer: <letter>'")
    texts = [m[x].strip() for x in LABELS]
    if len(set(texts)) != len(texts):
        return ParseFailure("duplicate choices")
    stem = m["stem"].strip()
    return {"id": normalized_hash(stem)[:32], "answerKey": m["answer"],
            "question": {"stem": stem, "question_concept": "",
                         "choices": [{"label": lab, "text": t} for lab, t in zip(LABELS, texts, strict=True)]}}


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

    def __init__(self, data_dir: Any = None, hub: bool = True, prompt_format: str = "synthmix") -> None:
        if prompt_format not in PROMPT_FORMATS:
            raise ConfigError(f"task 'commonsense': prompt_format must be one of {PROMPT_FORMATS} (got {prompt_format!r})")
        self.prompt_format = prompt_format
        super().__init__(data_dir, hub)

    def options(self) -> dict[str, Any]:
        """Data source options, plus ``prompt_format`` when it is not the default (so default ids stay as they were)."""
        extra = {"prompt_format": self.prompt_format} if self.prompt_format != "synthmix" else {}
        return {**super().options(), **extra}

    def prompt(self, ex: Example) -> str:
        """synthmix's layout, or lm-eval's lettered one."""
        if self.prompt_format == "synthmix":
            return super().prompt(ex)
        options = "".join(f"{c['label']}. {c['text']}\n" for c in ex["question"]["choices"])
        return f"Question: {ex['question']['stem'].strip()}\n{options}Answer:"

    def choices(self, ex: Example) -> list[str]:
        """Option texts (synthmix) or the letters (lm-eval), each after a space."""
        if self.prompt_format == "synthmix":
            return super().choices(ex)
        return [f" {c['label']}" for c in ex["question"]["choices"]]

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
        """Read ``[Question:] stem / Choices: (A) … (E) … / Answer: text`` (or lm-eval's lettered layout) into the original schema."""
        from synthmix.tasks.base import normalized_hash

        if self.prompt_format == "lm-eval":
            return _parse_lettered(text)
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
