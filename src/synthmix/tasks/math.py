"""math: GSM8K (``gsm8k``, config ``main``); eval split ``test`` (1,319 problems), metric: accuracy.

Records are GSM8K's own ``{question, answer}``; ``answer`` is the worked solution with ``<<a*b=c>>``
calculator annotations, ending in ``#### N``.

Splits: ``test`` (the eval split); ``train`` and ``validation`` are GSM8K's train file split by the
normalised hash of the question: 5 % (about 370 problems) form ``validation``, used for tuning and
never trained on; the rest (about 7,100) is ``train``. GSM8K publishes no validation split of its own.

Prompt format, version 1 (lm-evaluation-harness's GSM8K layout, zero-shot after fine-tuning):
``Question: {question}\\nAnswer:`` followed in training text by `` {answer}\\n\\n``. A synthetic example
is written after few-shot training texts and the cue ``Question:``. Scoring extracts the number
after ``####`` (falling back to the last number, lm-eval's flexible extract) and compares it
numerically with the gold final number. ``prompt_format: lm-eval`` scores as lm-evaluation-harness's ``gsm8k``
``strict-match`` does instead: stop at ``Question:`` (not a blank line), take the first ``#### N`` match and
compare it as a string with the gold number after removing ``,``, ``$`` and a trailing ``.``. ``verify`` recomputes every annotation with a safe
arithmetic evaluator and checks the final answer equals the last computed value.
"""

from __future__ import annotations

import ast
import operator
import re
from fractions import Fraction
from typing import Any

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, TaskInfo, normalized_hash
from synthmix.tasks.formats.gsm8k import ANSWER_PREFIX, QUESTION_PREFIX, GSM8KFormat
from synthmix.tasks.hf_data import BenchmarkTask, DataSource, holdout

__all__ = ["ANNOTATION", "ANSWER_PREFIX", "FINAL", "QUESTION_PREFIX", "VALIDATION_PERCENT", "Math",
           "evaluate_arithmetic", "final_number", "same_number"]

FINAL = re.compile(r"####\s*\$?\s*(-?[\d,]*\.?\d+)")
ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>=]*)>>")
VALIDATION_PERCENT = 5

_OPERATORS: dict[type, Any] = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                               ast.Div: operator.truediv, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}


def evaluate_arithmetic(expr: str) -> Fraction:
    """Exact value of an arithmetic expression of numbers, + - * / % // ** and parentheses; anything else raises."""

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return Fraction(str(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, exponent = value(node.left), value(node.right)
            if exponent.denominator != 1 or abs(exponent) > 64:
                raise ValueError(f"unsupported exponent in {expr!r}")
            return base ** int(exponent)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, (ast.Div, ast.Mod, ast.FloorDiv)) and right == 0:
                raise ValueError(f"division by zero in {expr!r}")
            return Fraction(_OPERATORS[type(node.op)](left, right))
        raise ValueError(f"not plain arithmetic: {expr!r}")

    try:
        tree = ast.parse(expr.replace(",", "").replace("$", "").strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {expr!r}") from exc
    return value(tree.body)


def final_number(text: str) -> str | None:
    """The number after the last ``####`` with commas and ``$`` removed, or ``None``."""
    found = FINAL.findall(text)
    return found[-1].replace(",", "") if found else None


def same_number(a: str, b: str) -> bool:
    """Numeric equality of two number strings (``12`` == ``12.0`` == ``1,2``-free ``12``)."""
    try:
        return Fraction(a.replace(",", "").replace("$", "")) == Fraction(b.replace(",", "").replace("$", ""))
    except (ValueError, ZeroDivisionError):
        return False


def _annotation_holds(expr: str, stated: str) -> bool:
    """Whether ``expr`` evaluates to the stated value, allowing the rounding GSM8K writers used (to its decimals)."""
    try:
        result = evaluate_arithmetic(expr)
        claimed = Fraction(stated.replace(",", "").replace("$", "").strip())
    except (ValueError, ZeroDivisionError, OverflowError):
        return False
    decimals = len(stated.strip().partition(".")[2])
    return result == claimed or abs(result - claimed) <= Fraction(1, 2 * 10**decimals)


PROMPT_FORMATS = ("synthmix", "lm-eval")
LM_EVAL_UNTIL = ("Question:", "</s>", "<|im_end|>")
LM_EVAL_STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
_LM_EVAL_IGNORE = (",", r"\$", r"(?s).*#### ", r"\.$")


def _lm_eval_clean(text: str) -> str:
    """lm-eval gsm8k's exact_match normalisation: its ``regexes_to_ignore`` removed, lower-cased."""
    for pattern in _LM_EVAL_IGNORE:
        text = re.sub(pattern, "", text)
    return text.lower()


class Math(GSM8KFormat, BenchmarkTask):
    """GSM8K grade-school word problems with worked solutions; accuracy on the final number."""

    name = "math"
    version = "1"
    output_type = "generate"
    eval_split = "test"
    splits = ("train", "validation", "test")
    split_note = "GSM8K has train and test; validation is a 5 % hash-held-out slice of train"
    info = TaskInfo(primary_metric="accuracy", metrics=("accuracy",), chance=0.0)
    final_answer = FINAL
    source = DataSource(
        dataset="GSM8K", hub="gsm8k", config="main",
        files={"train": ("train.jsonl", "main/train-00000-of-00001.parquet"),
               "test": ("test.jsonl", "main/test-00000-of-00001.parquet")},
    )

    def __init__(self, data_dir: Any = None, hub: bool = True, prompt_format: str = "synthmix") -> None:
        if prompt_format not in PROMPT_FORMATS:
            raise ConfigError(f"task 'math': prompt_format must be one of {PROMPT_FORMATS} (got {prompt_format!r})")
        self.prompt_format = prompt_format
        super().__init__(data_dir, hub)

    def options(self) -> dict[str, Any]:
        """Data source options, plus ``prompt_format`` when it is not the default (so default ids stay as they were)."""
        extra = {"prompt_format": self.prompt_format} if self.prompt_format != "synthmix" else {}
        return {**super().options(), **extra}

    def convert(self, raw: Any, split: str) -> list[Example]:
        """GSM8K rows are already ``{question, answer}`` in both layouts."""
        return [{"question": row["question"], "answer": row["answer"]} for row in super().convert(raw, split)]

    def read(self, split: str) -> list[Example]:
        """``train``/``validation`` come from GSM8K's train file, split by question hash."""
        if split == "test":
            return super().read("test")
        kept, held = holdout(super().read("train"), lambda ex: ex["question"], VALIDATION_PERCENT)
        return held if split == "validation" else kept

    def example_id(self, ex: Example) -> str:
        """GSM8K has no ids: the question's normalised hash, shortened."""
        return normalized_hash(ex["question"])[:16]

    @property
    def generation(self) -> GenerationSpec:
        """GSM8K solutions run to a few hundred tokens; a blank line or a new question ends one (lm-eval: ``Question:``)."""
        if self.prompt_format == "lm-eval":
            return GenerationSpec(max_new_tokens=256, stop=LM_EVAL_UNTIL)
        return GenerationSpec(max_new_tokens=256, stop=("\n\n", QUESTION_PREFIX))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One problem with its solution."""
        return GenerationSpec(max_new_tokens=384, stop=("\n\n",))

    def gold(self, ex: Example) -> str:
        """The gold final number."""
        number = final_number(ex["answer"])
        if number is None:
            from synthmix.errors import DataError

            raise DataError(f"GSM8K example {self.example_id(ex)} has no '#### N' line: {ex['answer'][-60:]!r}")
        return number

    def correct(self, prediction: str, ex: Example) -> bool:
        """Whether the extracted final number equals the gold one (lm-eval: its strict-match exact match)."""
        from synthmix.metrics.qa import extract_gsm8k_answer

        if self.prompt_format == "lm-eval":
            found = LM_EVAL_STRICT.search(prediction)
            return found is not None and _lm_eval_clean(found[1].strip()) == _lm_eval_clean(ex["answer"])

        predicted = extract_gsm8k_answer(prediction)
        return predicted is not None and same_number(predicted, self.gold(ex))

    def verify(self, ex: Example) -> bool:
        """Every ``<<expr=value>>`` recomputes and the final answer equals the last annotated value."""
        annotations = ANNOTATION.findall(ex["answer"])
        number = final_number(ex["answer"])
        if not annotations or number is None:
            return False
        if not all(_annotation_holds(expr, value) for expr, value in annotations):
            return False
        return same_number(number, annotations[-1][1].strip())

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """The number after the last ``####``; else the last number (what ``correct`` reads; lm-eval: the first ``####``)."""
        if self.prompt_format == "lm-eval":
            found = LM_EVAL_STRICT.search(prediction)
            return found.span(1) if found else None
        matches = list(FINAL.finditer(prediction))
        if matches:
            return matches[-1].span(1)
        numbers = list(re.finditer(r"-?\$?[0-9][0-9,]*(?:\.[0-9]+)?", prediction))
        return numbers[-1].span() if numbers else None
