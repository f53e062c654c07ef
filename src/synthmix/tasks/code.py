"""code: HumanEval (``openai_humaneval``); eval split ``test`` (164 problems), metric: pass@1 in the sandbox.

Records use HumanEval's layout ``{task_id, prompt, canonical_solution, test, entry_point}``; the
prompt is a signature with a docstring, the completion is the body, ``test`` defines
``check(candidate)``. Every execution goes through ``synthmix.sandbox`` (via ``metrics.code``).

What the code task trains on: HumanEval has only its 164 test problems, so training on any of them
would train on the eval set. ``train`` and ``validation`` are MBPP's (``mbpp``, config ``full``:
374 and 90 problems; the original ``mbpp.jsonl`` release is split by task id, 601–974 and 511–600),
the standard crowd-sourced Python-function set of the same kind, converted to HumanEval's layout:
the function's signature plus a docstring holding MBPP's description and its first test as a
``>>>`` example is the prompt, the function body the solution, MBPP's asserts the ``check``
(problems whose function is not a multi-line ``def`` are skipped; their count is in ``skipped``).

Prompt format, version 1: HumanEval's prompt as is; training text is prompt + canonical body and a
blank line. A synthetic example is written after few-shot training texts and the cue ``def``;
``parse_synthetic`` reads the function, takes its docstring's ``>>>`` examples as the tests.
``verify``: the example's own solution passes its own tests in the sandbox. Confidence for code is
the probability of the whole completion, near 0; ECE is unreliable for code.
"""

from __future__ import annotations

import ast
import doctest
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, TaskInfo, normalized_hash
from synthmix.tasks.formats.humaneval import HumanEvalFormat
from synthmix.tasks.hf_data import BenchmarkTask, DataSource, load_split, local_file

HUMANEVAL = DataSource(
    dataset="HumanEval", hub="openai_humaneval", config=None,
    files={"test": ("HumanEval.jsonl.gz", "HumanEval.jsonl", "openai_humaneval/test-00000-of-00001.parquet")},
)
MBPP = DataSource(
    dataset="MBPP (the code task's training data)", hub="mbpp", config="full",
    files={"train": ("mbpp.jsonl", "full/train-00000-of-00001.parquet"),
           "validation": ("mbpp.jsonl", "full/validation-00000-of-00001.parquet")},
)
# MBPP's original release is one file; its splits are task-id ranges (Austin et al. 2021, README)
MBPP_ID_RANGES = {"train": range(601, 975), "validation": range(511, 601)}
STOP = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\n\n\n")


def _doctest_line(assertion: str, indent: str) -> str:
    """``assert f(x) == y`` as a docstring example ``>>> f(x)`` / ``y``; empty when it has another shape."""
    try:
        node = ast.parse(assertion.strip()).body[0]
    except (SyntaxError, IndexError):
        return ""
    if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1
            and isinstance(node.test.ops[0], ast.Eq)):
        return ""
    return f"{indent}>>> {ast.unparse(node.test.left)}\n{indent}{ast.unparse(node.test.comparators[0])}\n"


def mbpp_to_humaneval(row: dict[str, Any]) -> Example | None:
    """An MBPP problem in HumanEval's layout, or ``None`` when its function cannot be split into signature and body."""
    code = row["code"].replace("\r\n", "\n").replace("\t", "    ")
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    first_test = row["test_list"][0]
    called = [f for f in functions if f"{f.name}(" in first_test]
    if not called:
        return None
    func = called[-1]
    lines = code.split("\n")
    body_start = func.body[0].lineno - 1
    if body_start < func.lineno:  # one-line "def f(x): return x"
        return None
    indent = lines[body_start][: len(lines[body_start]) - len(lines[body_start].lstrip())] or "    "
    docstring = f'{indent}"""{row["text"].strip()}\n{_doctest_line(first_test, indent)}{indent}"""\n'
    prompt = "\n".join(lines[:body_start]) + "\n" + docstring
    solution = "\n".join(lines[body_start:]).rstrip() + "\n"
    setup = row.get("test_setup_code") or ""
    asserts = "".join(f"    {t.strip()}\n" for t in row["test_list"])
    test = f"{setup}\n\ndef check(candidate):\n{asserts}"
    return {"task_id": f"MBPP/{row['task_id']}", "prompt": prompt, "canonical_solution": solution, "test": test,
            "entry_point": func.name}


class Code(HumanEvalFormat, BenchmarkTask):
    """Python function synthesis from a docstring; pass@1 by running ``check`` in the sandbox."""

    name = "code"
    version = "1"
    output_type = "code"
    eval_split = "test"
    splits = ("train", "validation", "test")
    split_note = "HumanEval has only test; train and validation are MBPP's (see the module docstring)"
    info = TaskInfo(primary_metric="pass@1", metrics=("pass@1",), chance=0.0)
    source = HUMANEVAL
    timeout_s = 10.0

    def __init__(self, data_dir: str | Path | None = None, hub: bool = True, mbpp_dir: str | Path | None = None) -> None:
        super().__init__(data_dir, hub)
        from synthmix.tasks.hf_data import as_path

        self.mbpp_dir = as_path(mbpp_dir, self.name) if mbpp_dir is not None else self.data_dir
        self.skipped: dict[str, int] = {}

    def read(self, split: str) -> list[Example]:
        """HumanEval for ``test``; MBPP converted to HumanEval's layout for ``train`` and ``validation``."""
        if split == "test":
            return [{k: row[k] for k in ("task_id", "prompt", "canonical_solution", "test", "entry_point")}
                    for row in super().read("test")]
        raw, path = load_split(MBPP, split, self.mbpp_dir, self.hub)
        rows = [r for r in raw if path is None or path.suffix == ".parquet" or int(r["task_id"]) in MBPP_ID_RANGES[split]]
        converted = [mbpp_to_humaneval(r) for r in rows]
        self.skipped[split] = sum(c is None for c in converted)
        return [c for c in converted if c is not None]

    def data_files(self) -> list[Path]:
        """HumanEval's file under ``data_dir`` and MBPP's under ``mbpp_dir`` (when present)."""
        found = set(super().data_files())
        if self.mbpp_dir is not None:
            found |= {p for s in MBPP.files if (p := local_file(MBPP, self.mbpp_dir, s)) is not None}
        return sorted(found)

    def options(self) -> dict[str, Any]:
        """Data locations of HumanEval and MBPP."""
        return {**super().options(), "mbpp_dir": str(self.mbpp_dir) if self.mbpp_dir else None}

    def example_id(self, ex: Example) -> str:
        """HumanEval's (or MBPP's) ``task_id``."""
        return ex["task_id"] or f"Synthetic/{normalized_hash(ex['prompt'])[:12]}"

    def target(self, ex: Example) -> str:
        """The canonical body, then the blank line that ends a function."""
        return ex["canonical_solution"].rstrip("\n") + "\n\n"

    @property
    def generation(self) -> GenerationSpec:
        """HumanEval's stop strings (Chen et al. 2021) and a body of up to 384 tokens."""
        return GenerationSpec(max_new_tokens=384, stop=STOP)

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One whole function with its docstring; the next top-level statement ends it."""
        return GenerationSpec(max_new_tokens=512, stop=("\ndef ", "\nclass ", "\n\n\n"))

    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """The shots in training format, then ``def`` for the model to write a new function."""
        return "".join(self.format_train(ex) for ex in shots) + "def"

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read ``[def] name(args): docstring with >>> examples, body`` into HumanEval's layout."""
        source = text.strip("\n")
        source = source if source.lstrip().startswith("def ") else "def " + source.lstrip()
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            return ParseFailure(f"not valid Python: {exc.msg}")
        func = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
        if func is None or len(func.body) < 2 or ast.get_docstring(func) is None:
            return ParseFailure("expected a function with a docstring and a body")
        examples = doctest.DocTestParser().get_examples(ast.get_docstring(func))
        if not examples:
            return ParseFailure("the docstring has no '>>>' example to test against")
        try:
            for example in examples:
                ast.parse(example.source, mode="eval")
                ast.parse(example.want.strip(), mode="eval")
        except SyntaxError:
            return ParseFailure("a '>>>' example or its expected value is not a Python expression")
        lines = source.split("\n")
        body_start = func.body[1].lineno - 1
        prompt = "\n".join(lines[:body_start]) + "\n"
        solution = "\n".join(lines[body_start:func.end_lineno]).rstrip() + "\n"
        asserts = "".join(f"    assert ({e.source.strip()}) == ({e.want.strip()})\n" for e in examples)
        return {"task_id": "", "prompt": prompt, "canonical_solution": solution,
                "test": f"def check(candidate):\n{asserts}", "entry_point": func.name}
