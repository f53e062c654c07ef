"""Trivial baselines of the mini tasks: what a fine-tuned model must beat to have learned anything.

Each baseline maps an example to a prediction without a model (it may look at the train split);
``trivial_baselines`` scores all that apply with the task's own ``score``, and
``strongest_baseline`` returns the best one on a split.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from synthmix.tasks.base import Example, Task

Predictor = Callable[[Example], str]
NUMBER = re.compile(r"-?\d+")
CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)?\b")


def _majority_label(task: Task) -> Predictor:
    """The most frequent answer key in train (the answer-position prior)."""
    label = Counter(ex["answerKey"] for ex in task.load("train")).most_common(1)[0][0]
    return lambda ex: label


def _most_frequent_answer(task: Task) -> Predictor:
    """The most frequent option text in train answers, else option A."""
    counts = Counter(task.target(ex).strip() for ex in task.load("train"))
    def predict(ex: Example) -> str:
        texts = [c.strip() for c in task.choices(ex)]
        best = max(texts, key=lambda t: counts.get(t, 0))
        return task.choice_labels(ex)[texts.index(best)]
    return predict


def _last_number(ex: Example) -> str:
    """GSM8K's classic floor: the last number in the question."""
    numbers = NUMBER.findall(ex["question"])
    return f"#### {numbers[-1] if numbers else 0}"


def _question_type_answer(task: Task) -> Predictor:
    """The most frequent train answer among questions that start with the same two words."""
    by_type: dict[str, Counter[str]] = {}
    for ex in task.load("train"):
        by_type.setdefault(" ".join(ex["question"].split()[:2]), Counter())[ex["answer"][0]] += 1
    overall = Counter(a for c in by_type.values() for a in c.elements())
    def predict(ex: Example) -> str:
        counts = by_type.get(" ".join(ex["question"].split()[:2]), overall)
        return counts.most_common(1)[0][0]
    return predict


def _copy_span(ex: Example) -> str:
    """A number for how-many/what-year questions, else the first name-like span that is not the title."""
    if re.match(r"(In what year|How many)", ex["question"]):
        numbers = NUMBER.findall(ex["context"])
        return numbers[0] if numbers else "unanswerable"
    spans = [s for s in CAPITALISED.findall(ex["context"]) if ex["title"] not in s and s not in ("The", "It", "About", "Its")]
    return spans[0] if spans else "unanswerable"


def _copy_span_with_word_before(ex: Example) -> str:
    """``_copy_span``'s span with the passage word just before it (mini-reading's answers start at such a word)."""
    span = _copy_span(ex)
    match = re.search(rf"(\w+) {re.escape(span)}", ex["context"])
    return f"{match.group(1)} {span}" if match else span


def _code_identity(ex: Example) -> str:
    """Return the input unchanged."""
    return "    return xs\n"


def baseline_predictors(task: Task) -> dict[str, Predictor]:
    """The trivial predictors that apply to ``task``, by name."""
    family = getattr(task, "family", "")
    if family == "commonsense":
        return {"majority_label": _majority_label(task), "most_frequent_answer": _most_frequent_answer(task)}
    if family == "math":
        return {"last_number": _last_number}
    if family == "factual":
        return {"question_type_answer": _question_type_answer(task)}
    if family == "reading":
        return {"copy_span": _copy_span, "copy_span_with_word_before": _copy_span_with_word_before,
                "always_unanswerable": lambda ex: "unanswerable"}
    if family == "code":
        return {"identity": _code_identity}
    raise ValueError(f"no trivial baselines for task {task.name!r}")


def trivial_baselines(task: Task, split: str) -> dict[str, float]:
    """Mean score of every applicable trivial baseline on ``split``."""
    examples = task.load(split)
    return {name: sum(task.score(predict(ex), ex) for ex in examples) / len(examples)
            for name, predict in baseline_predictors(task).items()}


def strongest_baseline(task: Task, split: str) -> tuple[str, float]:
    """The best trivial baseline on ``split`` and its mean score: the floor a fine-tuned model must beat."""
    scores = trivial_baselines(task, split)
    best = max(scores, key=scores.get)
    return best, scores[best]
