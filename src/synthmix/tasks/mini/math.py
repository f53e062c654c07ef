"""mini-math: GSM8K-shaped multi-step word problems with worked solutions, ``<<a+b=c>>`` annotations and ``#### N``.

Difficulty knobs: ``steps`` (operations after the start, default 1) and ``max_number`` (largest
operand, default 6); the defaults keep the answers learnable by the mini ladder. Every answer recomputes from the solution's annotated arithmetic (``verify``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, TaskInfo
from synthmix.tasks.formats.gsm8k import ANSWER_PREFIX, QUESTION_PREFIX, GSM8KFormat
from synthmix.tasks.mini.common import MiniTask
from synthmix.tasks.mini.world import build_world

__all__ = ["ANNOTATION", "ANSWER_PREFIX", "FINAL", "ITEMS", "N_NAMES", "QUESTION_PREFIX", "MiniMath",
           "evaluate_expression", "final_number"]

ITEMS = ("apples", "marbles", "stamps", "coins", "shells", "pencils", "cards", "beads", "eggs", "books", "stones", "ribbons")
N_NAMES = 20  # a small cast: invented names cost a tiny model capacity the arithmetic needs
ANNOTATION = re.compile(r"<<([0-9+\-*/ ]+)=(-?\d+)>>")
FINAL = re.compile(r"####\s*(-?[\d,]*\.?\d+)")


def evaluate_expression(expr: str) -> Fraction:
    """Exact value of ``a op b`` (one binary operator on integers), the calculator annotations' grammar."""
    match = re.fullmatch(r"\s*(\d+)\s*([+\-*/])\s*(\d+)\s*", expr)
    if match is None:
        raise ValueError(f"not a binary integer expression: {expr!r}")
    a, op, b = Fraction(int(match[1])), match[2], Fraction(int(match[3]))
    if op == "/" and b == 0:
        raise ValueError(f"division by zero in {expr!r}")
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else a}[op]


def final_number(text: str) -> str | None:
    """The number after the last ``####`` with commas removed, or ``None``."""
    found = FINAL.findall(text)
    return found[-1].replace(",", "") if found else None


class MiniMath(GSM8KFormat, MiniTask):
    """GSM8K-shaped arithmetic word problems over the world's people."""

    name = "mini-math"
    version = "2"
    family = "math"
    output_type = "generate"
    eval_split = "test"
    tuning_split = "validation"
    info = TaskInfo(primary_metric="accuracy", metrics=("accuracy",), chance=0.0)
    final_answer = FINAL

    def __init__(self, seed: int = 0, n_train: int = 1000, n_validation: int = 200, n_test: int = 500,
                 steps: int = 1, max_number: int = 6) -> None:
        if not isinstance(steps, int) or not 1 <= steps <= 6:
            raise ConfigError(f"task 'mini-math': steps must be an integer in 1..6 (got {steps!r})")
        if not isinstance(max_number, int) or not 3 <= max_number <= 1000:
            raise ConfigError(f"task 'mini-math': max_number must be an integer in 3..1000 (got {max_number!r})")
        self.steps = steps
        self.max_number = max_number
        super().__init__(seed, n_train, n_validation, n_test)

    def knobs(self) -> dict[str, int]:
        """Number of operations and the largest operand."""
        return {"steps": self.steps, "max_number": self.max_number}

    def candidates(self) -> Iterator[Example]:
        """An endless stream of problems over the world's first names."""
        rng = self.rng()
        names = [p.name.split()[0] for p in build_world(self.seed).people[:N_NAMES]]
        hi = self.max_number
        while True:
            person, friend = rng.sample(names, 2)
            item = rng.choice(ITEMS)
            if rng.random() < 0.5:
                a, b = rng.randint(2, hi), rng.randint(2, min(hi, 9))
                value = a * b
                story = [f"{person} has {a} boxes with {b} {item} in each box."]
                work = [f"{person} starts with {a}*{b} = <<{a}*{b}={value}>>{value} {item}."]
            else:
                value = rng.randint(2, hi)
                story = [f"{person} has {value} {item}."]
                work = []
            for _ in range(self.steps):
                op = rng.choice(("add", "sub", "mul", "div"))
                if op == "add":
                    b = rng.randint(1, hi)
                    new = value + b
                    story.append(f"Then {person} buys {b} more {item}.")
                    work.append(f"After buying {b} more, {person} has {value}+{b} = <<{value}+{b}={new}>>{new} {item}.")
                elif op == "sub" and value > 1:
                    b = rng.randint(1, min(hi, value - 1))
                    new = value - b
                    story.append(f"Then {person} gives {b} {item} to {friend}.")
                    work.append(f"After giving {b} away, {person} has {value}-{b} = <<{value}-{b}={new}>>{new} {item}.")
                elif op == "div" and any(value % d == 0 for d in (2, 3, 4)):
                    b = rng.choice([d for d in (2, 3, 4) if value % d == 0])
                    new = value // b
                    story.append(f"Then {person} splits the {item} into {b} equal piles and keeps one pile.")
                    work.append(f"One pile has {value}/{b} = <<{value}/{b}={new}>>{new} {item}.")
                else:
                    b = rng.choice((2, 3))
                    new = value * b
                    times = {2: "twice", 3: "three times"}[b]
                    story.append(f"Then {person} ends up with {times} as many {item}.")
                    work.append(f"Now {person} has {value}*{b} = <<{value}*{b}={new}>>{new} {item}.")
                value = new
            story.append(f"How many {item} does {person} have now?")
            yield {"question": " ".join(story), "answer": "\n".join(work) + f"\n#### {value}"}

    def example_id(self, ex: Example) -> str:
        """GSM8K has no ids: the contamination hash, shortened."""
        return self.contamination_key(ex)[:16]

    @property
    def generation(self) -> GenerationSpec:
        """A solution is a few short lines; a blank line or a new question ends it."""
        return GenerationSpec(max_new_tokens=160, stop=("\n\n", QUESTION_PREFIX))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One whole problem with its solution; the blank line before the next one ends it."""
        return GenerationSpec(max_new_tokens=256, stop=("\n\n",))

    def gold(self, ex: Example) -> str:
        """The gold final number."""
        number = final_number(ex["answer"])
        if number is None:
            raise ValueError(f"example has no '#### N' answer: {ex['answer'][-40:]!r}")
        return number

    def correct(self, prediction: str, ex: Example) -> bool:
        """Whether the extracted final number equals the gold one."""
        from synthmix.metrics.qa import extract_gsm8k_answer

        predicted = extract_gsm8k_answer(prediction)
        return predicted is not None and _same_number(predicted, self.gold(ex))

    def verify(self, ex: Example) -> bool:
        """Every ``<<expr=value>>`` is right and the final answer equals the last computed value."""
        annotations = ANNOTATION.findall(ex["answer"])
        number = final_number(ex["answer"])
        if not annotations or number is None:
            return False
        try:
            if any(evaluate_expression(expr) != int(value) for expr, value in annotations):
                return False
        except ValueError:
            return False
        return _same_number(number, annotations[-1][1])

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """The final number after the last ``####``."""
        matches = list(FINAL.finditer(prediction))
        return matches[-1].span(1) if matches else None


def _same_number(a: str, b: str) -> bool:
    """Numeric equality of two number strings (``12`` == ``12.0``)."""
    try:
        return Fraction(a.replace(",", "")) == Fraction(b.replace(",", ""))
    except ValueError:
        return False
