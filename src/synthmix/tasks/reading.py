"""reading: SQuAD 2.0 (``squad_v2``); eval split ``validation`` (11,873 questions), metric: official F1 (and EM).

Records use the Hugging Face layout ``{id, title, context, question, answers: {text: [...],
answer_start: [...]}}``; an unanswerable question has empty lists. The original release files
(``train-v2.0.json``, ``dev-v2.0.json``: ``{version, data: [{title, paragraphs: [{context, qas:
[{id, question, answers, is_impossible}]}]}]}``) are flattened to it in file order, so both layouts
load to identical records. ``plausible_answers`` of impossible questions are not answers and are dropped.

Prompt format, version 1: ``Title: {title}\\nPassage: {context}\\nQuestion: {question}\\nAnswer:``
followed in training text by the first gold answer, or ``unanswerable`` for a question without
one. A generated ``unanswerable`` (any case) is the empty prediction, which the official scorer
counts as "no answer". ``score`` is the official SQuAD 2.0 token F1 (max over gold answers),
``correct`` its exact match. ``verify`` checks extractive consistency: every answer occurs in the
passage at its ``answer_start``; an unanswerable synthetic question cannot be checked and fails.
"""

from __future__ import annotations

from typing import Any

from synthmix.errors import DataError
from synthmix.tasks.base import Example, GenerationSpec, TaskInfo, normalized_hash
from synthmix.tasks.formats.squad import NO_ANSWER, SquadFormat, answer_text
from synthmix.tasks.hf_data import BenchmarkTask, DataSource

__all__ = ["NO_ANSWER", "Reading", "answer_text", "flatten_squad"]


def flatten_squad(document: dict[str, Any]) -> list[Example]:
    """The questions of an original SQuAD 2.0 JSON document, in file order, as HF-layout records."""
    rows: list[Example] = []
    for article in document["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [] if qa.get("is_impossible", False) else qa["answers"]
                rows.append({"id": qa["id"], "title": article["title"], "context": paragraph["context"],
                             "question": qa["question"],
                             "answers": {"text": [a["text"] for a in answers],
                                         "answer_start": [int(a["answer_start"]) for a in answers]}})
    return rows


class Reading(SquadFormat, BenchmarkTask):
    """Extractive reading comprehension with unanswerable questions."""

    name = "reading"
    version = "1"
    output_type = "generate"
    eval_split = "validation"
    splits = ("train", "validation")
    split_note = "SQuAD 2.0's test set is hidden; the eval split is validation (the dev set)"
    info = TaskInfo(primary_metric="f1", metrics=("f1", "exact_match"), chance=0.0)
    source = DataSource(
        dataset="SQuAD 2.0", hub="squad_v2", config=None,
        files={"train": ("train-v2.0.json", "train.jsonl", "squad_v2/train-00000-of-00001.parquet"),
               "validation": ("dev-v2.0.json", "validation.jsonl", "squad_v2/validation-00000-of-00001.parquet")},
    )

    def convert(self, raw: Any, split: str) -> list[Example]:
        """The original JSON document or HF-layout rows → HF-layout records."""
        if isinstance(raw, dict):
            if raw.get("version") != "v2.0" or "data" not in raw:
                raise DataError(f"SQuAD {split}: expected an official v2.0 document (version 'v2.0' with 'data'), "
                                f"got version {raw.get('version')!r}")
            return flatten_squad(raw)
        return [{"id": row["id"], "title": row["title"], "context": row["context"], "question": row["question"],
                 "answers": {"text": list(row["answers"]["text"]), "answer_start": [int(s) for s in row["answers"]["answer_start"]]}}
                for row in raw]

    def example_id(self, ex: Example) -> str:
        """SQuAD's question ``id``."""
        return ex["id"]

    def contamination_key(self, ex: Example) -> str:
        """Passage and question together identify an item."""
        return normalized_hash(ex["context"] + "\n" + ex["question"])

    @property
    def generation(self) -> GenerationSpec:
        """Answer spans are short and end at the line break."""
        return GenerationSpec(max_new_tokens=32, stop=("\n",))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One passage (SQuAD paragraphs average ~150 tokens), a question and its answer."""
        return GenerationSpec(max_new_tokens=320, stop=("\n\n",))

    def verify(self, ex: Example) -> bool:
        """Every answer occurs in the passage at its ``answer_start``; unanswerable items cannot be checked."""
        texts, starts = ex["answers"]["text"], ex["answers"]["answer_start"]
        if not texts or len(texts) != len(starts):
            return False
        return all(s >= 0 and ex["context"][s:s + len(t)] == t for t, s in zip(texts, starts, strict=True))

    def reference(self, ex: Example) -> str:
        """The first gold answer that survives SQuAD normalisation, or ``unanswerable``."""
        from synthmix.metrics.qa import normalize_answer

        texts = [t for t in ex["answers"]["text"] if normalize_answer(t)]
        return f" {texts[0] if texts else NO_ANSWER}"
