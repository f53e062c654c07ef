"""The Task protocol: one interface for the real benchmarks and the mini world.

Examples are plain dicts in the dataset's own record schema (GSM8K's ``question``/``answer``,
CommonsenseQA's ``question``/``choices``/``answerKey``, ...), so the same scoring path runs on
real and procedural data. Predictions are always strings: the chosen option's label for
multiple choice, the generated text for generation tasks, the completion for code.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Example = dict[str, Any]
OutputType = Literal["multiple_choice", "generate", "code"]


@dataclass(frozen=True)
class GenerationSpec:
    """How a task's answers are decoded: stop strings and the new-token cap."""

    max_new_tokens: int
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParseFailure:
    """Why a model-written synthetic sample could not be read into the task's schema."""

    reason: str


@dataclass(frozen=True)
class TaskInfo:
    """Static facts about a task that travel with its results (metric names, direction)."""

    primary_metric: str
    metrics: tuple[str, ...] = field(default_factory=tuple)
    chance: float = 0.0


def normalized_hash(text: str) -> str:
    """Hash of a text after NFKC, lower-casing and whitespace collapsing: the contamination key."""
    norm = unicodedata.normalize("NFKC", text).lower()
    norm = re.sub(r"\s+", " ", norm).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def tuning_split(task: Task) -> str | None:
    """The split settings are chosen on: the task's ``tuning_split``, else ``validation``; None when that is its eval split or absent."""
    name = getattr(task, "tuning_split", "validation")
    if name == task.eval_split or name not in getattr(task, "splits", (name,)):
        return None
    return name


class Task(ABC):
    """A benchmark as synthmix needs it: data, prompts, synthesis, parsing, scoring and verification."""

    name: str
    version: str
    output_type: OutputType
    eval_split: str
    info: TaskInfo

    @abstractmethod
    def load(self, split: str) -> list[Example]:
        """The examples of ``split`` (``train``, ``validation`` or the task's ``eval_split``), in a fixed order."""

    @abstractmethod
    def example_id(self, ex: Example) -> str:
        """A stable identifier of an example, unique within its split."""

    @abstractmethod
    def prompt(self, ex: Example) -> str:
        """The text the model is conditioned on when answering ``ex``."""

    @abstractmethod
    def target(self, ex: Example) -> str:
        """The gold completion that follows ``prompt(ex)`` in training text (the loss is taken on it)."""

    def format_train(self, ex: Example) -> str:
        """The full training text of ``ex``: prompt followed by its gold completion."""
        return self.prompt(ex) + self.target(ex)

    def choices(self, ex: Example) -> list[str]:
        """The option continuations of a multiple-choice example, in label order."""
        raise NotImplementedError(f"task {self.name!r} is not multiple choice")

    def choice_labels(self, ex: Example) -> list[str]:
        """The option labels of a multiple-choice example (``A`` … ``E``), aligned with ``choices``."""
        raise NotImplementedError(f"task {self.name!r} is not multiple choice")

    @property
    @abstractmethod
    def generation(self) -> GenerationSpec:
        """Decoding settings for answers (stop strings, max new tokens)."""

    @abstractmethod
    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """A few-shot prompt that asks the model to write one new example of the task."""

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """Decoding settings for writing a whole synthetic example."""
        return GenerationSpec(max_new_tokens=256, stop=("\n\n\n",))

    @abstractmethod
    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read model-written text into the task's record schema, or say why it cannot be."""

    @abstractmethod
    def score(self, prediction: str, ex: Example) -> float:
        """The task metric of one prediction (accuracy, F1 or pass) in [0, 1]."""

    @abstractmethod
    def correct(self, prediction: str, ex: Example) -> bool:
        """Whether a prediction counts as correct for calibration (accuracy, EM, all tests pass)."""

    def verify(self, ex: Example) -> bool | None:
        """Whether a (synthetic) example is internally consistent; ``None`` when the task has no verifier."""
        return None

    @property
    def has_verifier(self) -> bool:
        """Whether ``verify`` is implemented (the ``verified`` regime needs it)."""
        return type(self).verify is not Task.verify

    @abstractmethod
    def reference(self, ex: Example) -> str:
        """The gold answer written as a model's prediction would be: the oracle check scores it 100 %."""

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """Character span of the final answer inside a generated prediction (for its confidence)."""
        text = prediction.rstrip()
        return (0, len(text)) if text else None

    def contamination_key(self, ex: Example) -> str:
        """Normalised hash that identifies an example across splits, corpora and synthetic pools."""
        return normalized_hash(self.prompt(ex))

    def data_files(self) -> list[Path]:
        """Files the task reads; their hashes enter artifact ids so changed data is never reused."""
        return []

    def options(self) -> dict[str, Any]:
        """The options the task was built with (seed, sizes, data_dir), for ids and reports."""
        return {}
