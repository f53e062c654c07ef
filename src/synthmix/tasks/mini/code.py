"""mini-code: HumanEval-shaped list functions (signature, docstring with one doctest, canonical solution, ``check``).

Families: map, filter, filter-then-map and sum/count over a filter, with small integer constants.
Knob ``level``: 1 = map and filter only; 2 (default) adds the two-step compositions. Names and
docstrings follow from the semantics, so two items with the same prompt are the same function.
Tests of model-written examples come from their doctests; all execution goes through the sandbox.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from synthmix.errors import ConfigError
from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, TaskInfo
from synthmix.tasks.formats.humaneval import HumanEvalFormat
from synthmix.tasks.mini.common import MiniTask

CONSTANTS = range(2, 10)


@dataclass(frozen=True)
class Op:
    """One element-wise piece: its docstring phrase, Python expression in ``x`` and semantics."""

    slug: str
    phrase: str
    expr: str
    fn: Callable[[int, int], int | bool]


MAPS = (
    Op("add", "plus {k}", "x + {k}", lambda x, k: x + k),
    Op("times", "times {k}", "x * {k}", lambda x, k: x * k),
    Op("minus", "minus {k}", "x - {k}", lambda x, k: x - k),
)
FILTERS = (
    Op("above", "greater than {k}", "x > {k}", lambda x, k: x > k),
    Op("below", "less than {k}", "x < {k}", lambda x, k: x < k),
    Op("multiple", "divisible by {k}", "x % {k} == 0", lambda x, k: x % k == 0),
    Op("not", "not equal to {k}", "x != {k}", lambda x, k: x != k),
)


@dataclass(frozen=True)
class Spec:
    """A function of the family: name, docstring, one-line body and reference semantics."""

    name: str
    doc: str
    body: str
    fn: Callable[[list[int]], object]


def all_specs(level: int) -> list[Spec]:
    """Every function of the item space at ``level``, in a fixed order."""
    specs: list[Spec] = []
    for m in MAPS:
        for k in CONSTANTS:
            specs.append(Spec(f"{m.slug}_{k}_each", f"Return each element of xs {m.phrase.format(k=k)}.",
                              f"return [{m.expr.format(k=k)} for x in xs]",
                              lambda xs, m=m, k=k: [m.fn(x, k) for x in xs]))
    for f in FILTERS:
        for k in CONSTANTS:
            specs.append(Spec(f"keep_{f.slug}_{k}", f"Return the elements of xs that are {f.phrase.format(k=k)}.",
                              f"return [x for x in xs if {f.expr.format(k=k)}]",
                              lambda xs, f=f, k=k: [x for x in xs if f.fn(x, k)]))
    if level < 2:
        return specs
    for f in FILTERS:
        for k in CONSTANTS:
            specs.append(Spec(f"sum_{f.slug}_{k}", f"Return the sum of the elements of xs that are {f.phrase.format(k=k)}.",
                              f"return sum(x for x in xs if {f.expr.format(k=k)})",
                              lambda xs, f=f, k=k: sum(x for x in xs if f.fn(x, k))))
            specs.append(Spec(f"count_{f.slug}_{k}", f"Return how many elements of xs are {f.phrase.format(k=k)}.",
                              f"return len([x for x in xs if {f.expr.format(k=k)}])",
                              lambda xs, f=f, k=k: len([x for x in xs if f.fn(x, k)])))
            for m in MAPS:
                for j in CONSTANTS:
                    specs.append(Spec(
                        f"keep_{f.slug}_{k}_{m.slug}_{j}",
                        f"Return the elements of xs that are {f.phrase.format(k=k)}, each {m.phrase.format(k=j)}.",
                        f"return [{m.expr.format(k=j)} for x in xs if {f.expr.format(k=k)}]",
                        lambda xs, f=f, k=k, m=m, j=j: [m.fn(x, j) for x in xs if f.fn(x, k)]))
    return specs


def render_prompt(name: str, doc: str, example_call: str, example_result: str) -> str:
    """A HumanEval prompt: signature and a docstring with one doctest."""
    return (f"def {name}(xs):\n    \"\"\"{doc}\n    >>> {name}({example_call})\n    {example_result}\n    \"\"\"\n")


def render_test(name: str, cases: Sequence[tuple[str, str]]) -> str:
    """A HumanEval test: ``check(candidate)`` asserting each (argument, expected) pair."""
    lines = "".join(f"    assert candidate({arg}) == {expected}\n" for arg, expected in cases)
    return f"METADATA = {{}}\n\n\ndef check(candidate):\n{lines}"


PROMPT_PATTERN = re.compile(
    r'def (?P<name>[A-Za-z_]\w*)\(xs\):\n    """(?P<doc>[^\n]+)\n    >>> (?P=name)\((?P<call>[^\n]*)\)\n'
    r'    (?P<result>[^\n]+)\n    """\n(?P<body>(?:    [^\n]*\n?)+)')


class MiniCode(HumanEvalFormat, MiniTask):
    """Function synthesis from a docstring; pass@1 by running ``check`` in the sandbox."""

    name = "mini-code"
    version = "1"
    family = "code"
    output_type = "code"
    eval_split = "test"
    tuning_split = "validation"
    info = TaskInfo(primary_metric="pass@1", metrics=("pass@1",), chance=0.0)
    timeout_s = 5.0

    def __init__(self, seed: int = 0, n_train: int = 250, n_validation: int = 50, n_test: int = 164,
                 level: int = 2) -> None:
        if level not in (1, 2):
            raise ConfigError(f"task 'mini-code': level must be 1 or 2 (got {level!r})")
        self.level = level
        super().__init__(seed, n_train, n_validation, n_test)

    def knobs(self) -> dict[str, int]:
        """The composition level."""
        return {"level": self.level}

    def candidates(self) -> Iterator[Example]:
        """Every function of the item space once, in a seeded order, with seeded test inputs."""
        rng = self.rng()
        specs = all_specs(self.level)
        rng.shuffle(specs)
        for spec in specs:
            inputs = [[rng.randint(-5, 20) for _ in range(rng.randint(3, 7))] for _ in range(5)]
            inputs.append([])
            shown = next((i for i, xs in enumerate(inputs) if spec.fn(xs)), 0)
            inputs.insert(0, inputs.pop(shown))
            cases = [(repr(xs), repr(spec.fn(xs))) for xs in inputs]
            yield {
                "task_id": "",
                "prompt": render_prompt(spec.name, spec.doc, *cases[0]),
                "canonical_solution": f"    {spec.body}\n",
                "test": render_test(spec.name, cases[1:]),
                "entry_point": spec.name,
            }

    def region_items(self, region: str, n: int, exact: bool = True) -> list[Example]:
        """Region items with HumanEval-style ``task_id``s."""
        items = super().region_items(region, n, exact)
        for ex in items:
            ex["task_id"] = f"MiniEval/{self.contamination_key(ex)[:12]}"
        return items

    def example_id(self, ex: Example) -> str:
        """The HumanEval-style ``task_id``."""
        return ex["task_id"] or f"MiniEval/{self.contamination_key(ex)[:12]}"

    def target(self, ex: Example) -> str:
        """The canonical body, then the blank line that ends a function."""
        return ex["canonical_solution"] + "\n"

    @property
    def generation(self) -> GenerationSpec:
        """HumanEval's stop strings; a blank line also ends a one-line body."""
        return GenerationSpec(max_new_tokens=64, stop=("\n\n", "\ndef ", "\nclass ", "\nif __name__", "\nprint("))

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One whole function with its docstring."""
        return GenerationSpec(max_new_tokens=128, stop=("\n\n",))

    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """The shots in training format, then ``def`` for the model to write a new function."""
        return "\n".join(self.format_train(ex) for ex in shots) + "\ndef"

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read ``[def] name(xs): docstring with one doctest, body`` into HumanEval's layout; the doctest is the test."""
        body = text.strip("\n")
        body = body if body.startswith("def ") else "def " + body.lstrip()
        match = PROMPT_PATTERN.match(body + "\n")
        if match is None:
            return ParseFailure("expected 'def name(xs):', a docstring with one '>>>' example, then an indented body")
        try:
            ast.parse(match[0])
            for literal in (match["call"], match["result"]):
                ast.literal_eval(literal)
        except (SyntaxError, ValueError) as exc:
            return ParseFailure(f"not valid Python: {exc.__class__.__name__}")
        prompt = render_prompt(match["name"], match["doc"], match["call"], match["result"])
        return {"task_id": "", "prompt": prompt, "canonical_solution": match["body"].rstrip("\n") + "\n",
                "test": render_test(match["name"], [(match["call"], match["result"])]), "entry_point": match["name"]}
