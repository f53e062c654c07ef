"""Tasks written as lm-evaluation-harness task YAMLs, read with lm-eval's semantics (no lm-eval import).

Supported keys: ``task``, ``dataset_path`` (``json``/``csv``/``parquet`` with ``dataset_kwargs.data_files``, or an
HF dataset id), ``dataset_name``, ``training_split``/``validation_split``/``test_split``/``fewshot_split``,
``output_type`` (``multiple_choice``, ``generate_until``), ``doc_to_text``/``doc_to_target``/``doc_to_choice``
(a field name, a list, or a Jinja template, as lm-eval resolves them), ``description``, ``target_delimiter``
(default ``" "``), ``fewshot_delimiter`` (default ``"\\n\\n"``), ``num_fewshot``, ``generation_kwargs``
(``until``, ``max_gen_toks``, ``do_sample``, ``temperature``), ``metric_list`` (``acc``, ``acc_norm``,
``exact_match`` with ``ignore_case``/``ignore_punctuation``/``regexes_to_ignore``), ``filter_list`` (``regex`` with
``regex_pattern``/``group_select``, then ``take_first``). Ignored as bookkeeping: ``tag``, ``group``, ``metadata``,
``repeats``, ``dataset_kwargs`` beyond ``data_files``, ``should_decontaminate``, ``doc_to_decontamination_query``.
Anything else (``process_docs: !function ...`` included) is refused, naming the file and key. synthmix's own keys sit
under ``synthmix:``: ``synthesis_template``, ``verifier`` (``module:function``), ``answer_type: code`` (pass@1 of the
row's ``test``/``entry_point`` fields in the sandbox) with ``test_field``/``entry_point_field``.

Synthetic rows (see docs/your-own-task.md): a generation task's writer writes its training text, read back through
``doc_to_text``/``doc_to_target`` when they are plain ``{{ field }}`` templates; a multiple-choice writer writes the
question, the options lettered ``A.``, ``B.``, ... and ``Answer: <letter>``; a code writer writes a function whose
docstring's ``>>>`` examples become its tests.

lm-eval semantics reproduced: a multiple-choice request is ``(context, target_delimiter + choice)`` with the context
``description + shots + doc_to_text(doc)``; shots are ``doc_to_text(d) + target_delimiter + target(d)`` joined and
ended by ``fewshot_delimiter``, drawn by ``random.Random(1234).sample`` over the fewshot split in document order
(one draw per evaluated document, dropping the document itself when the splits are equal), like lm-eval's
``ContextSampler``. A string target of a multiple-choice task is looked up in the choices.
"""

from __future__ import annotations

import ast
import json
import math
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthmix.config import StudyLoader, read_yaml
from synthmix.errors import ConfigError, DataError
from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, Task, TaskInfo, normalized_hash

__all__ = ["FEWSHOT_SEED", "LmEvalTask", "Metric", "RegexFilter", "load_task_yaml"]

FEWSHOT_SEED = 1234
INVALID = "[invalid]"
_KNOWN = {"task", "dataset_path", "dataset_name", "dataset_kwargs", "training_split", "validation_split", "test_split",
          "fewshot_split", "output_type", "doc_to_text", "doc_to_target", "doc_to_choice", "description",
          "target_delimiter", "fewshot_delimiter", "num_fewshot", "generation_kwargs", "metric_list", "filter_list",
          "tag", "group", "metadata", "repeats", "should_decontaminate", "doc_to_decontamination_query", "synthmix"}
_SYNTHMIX_KEYS = {"verifier", "synthesis_template", "answer_type", "test_field", "entry_point_field"}
_ANSWER_TYPES = {"code"}
LETTERS = string.ascii_uppercase
# HumanEval's stop strings (Chen et al. 2021), as the built-in code task uses them
CODE_STOP = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\n\n\n")
CODE_TIMEOUT_S = 10.0
_LOCAL_FORMATS = {"json", "csv", "parquet"}
_GENERATION_KEYS = {"until", "max_gen_toks", "do_sample", "temperature", "top_p"}
_METRIC_KEYS = {"metric", "aggregation", "higher_is_better", "ignore_case", "ignore_punctuation", "regexes_to_ignore"}
_METRICS = {"multiple_choice": {"acc", "acc_norm"}, "generate_until": {"exact_match", "f1"}}


class _Loader(StudyLoader):
    """The study's safe loader (duplicate keys refused) that reads lm-eval's ``!function`` tag as a marker, so it can be refused by name."""


_Loader.add_constructor("!function", lambda loader, node: ("!function", loader.construct_scalar(node)))


@dataclass(frozen=True)
class RegexFilter:
    """lm-eval's ``regex`` filter followed by ``take_first``: the ``group_select``-th match, else ``[invalid]``."""

    name: str
    pattern: re.Pattern[str]
    group_select: int = 0

    def span(self, text: str) -> tuple[int, int] | None:
        """Character span of the selected match (its first non-empty group), or None."""
        matches = list(self.pattern.finditer(text))
        if not matches:
            return None
        try:
            m = matches[self.group_select]
        except IndexError:
            m = matches[0]
        if self.pattern.groups == 0:
            return m.span()
        if self.pattern.groups == 1:
            return m.span(1)
        groups = [i for i in range(1, self.pattern.groups + 1) if m.group(i)]
        return m.span(groups[0]) if groups else None

    def apply(self, text: str) -> str:
        """The filtered answer exactly as lm-eval's filter returns it (stripped), or ``[invalid]``."""
        span = self.span(text)
        return text[span[0]:span[1]].strip() if span else INVALID


@dataclass(frozen=True)
class Metric:
    """One ``metric_list`` entry with lm-eval's ``exact_match`` options."""

    name: str
    ignore_case: bool = False
    ignore_punctuation: bool = False
    regexes_to_ignore: tuple[str, ...] = ()

    def exact_match(self, prediction: str, reference: str) -> bool:
        """HF ``evaluate``'s exact_match as lm-eval applies it: strip regexes, case, punctuation; then equality."""
        for pattern in self.regexes_to_ignore:
            prediction, reference = re.sub(pattern, "", prediction), re.sub(pattern, "", reference)
        if self.ignore_case:
            prediction, reference = prediction.lower(), reference.lower()
        if self.ignore_punctuation:
            table = str.maketrans("", "", string.punctuation)
            prediction, reference = prediction.translate(table), reference.translate(table)
        return prediction == reference


@dataclass(eq=False)  # a task is compared and hashed by identity, like every other Task
class LmEvalTask(Task):
    """A task defined by an lm-eval YAML; examples are the dataset's rows as dicts."""

    path: Path
    config: dict[str, Any]
    metrics: tuple[Metric, ...] = ()
    filters: tuple[RegexFilter, ...] = ()
    _rows: dict[str, list[Example]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import hashlib

        self.name = str(self.config.get("task", self.path.stem))
        self.extras = dict(self.config.get("synthmix") or {})
        self.is_code = self.extras.get("answer_type") == "code"
        # the YAML's text is part of the task's identity (its data files enter ids through ``data_files``)
        self.version = "lm-eval-2:" + hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]
        kind = self.config["output_type"]
        self.output_type = "multiple_choice" if kind == "multiple_choice" else "code" if self.is_code else "generate"
        self.eval_split = self.config.get("test_split") or self.config.get("validation_split")
        if not self.eval_split:
            raise ConfigError(f"{self.path}: needs test_split or validation_split (the split to evaluate)")
        self.tuning_split = self.config.get("validation_split") or self.config.get("training_split") or self.eval_split
        self.splits = tuple(dict.fromkeys(s for s in (self.config.get("training_split"), self.config.get("validation_split"),
                                                      self.config.get("test_split")) if s))
        primary = self.metrics[0].name if self.metrics else ("acc" if kind == "multiple_choice" else "exact_match")
        self.info = TaskInfo(primary_metric=primary, metrics=tuple(m.name for m in self.metrics) or (primary,))
        if self.is_code:
            self.info = TaskInfo(primary_metric="pass@1", metrics=("pass@1",), chance=0.0)
        # a code solution continues its prompt's indentation, so code defaults to no delimiter
        self.target_delimiter = str(self.config.get("target_delimiter", "" if self.is_code else " "))
        self.fewshot_delimiter = str(self.config.get("fewshot_delimiter", "\n\n"))
        self.num_fewshot = int(self.config.get("num_fewshot", 0) or 0)
        self._env = _jinja()

    # data -----------------------------------------------------------------------------------------
    def _source(self) -> tuple[str, dict[str, Any]]:
        """The ``datasets.load_dataset`` builder and keyword arguments, local data files resolved against the YAML."""
        kwargs = dict(self.config.get("dataset_kwargs") or {})
        builder = str(self.config["dataset_path"])
        if builder in _LOCAL_FORMATS:
            files = kwargs.get("data_files")
            if not isinstance(files, dict) or not files:
                raise ConfigError(f"{self.path}: dataset_kwargs.data_files must map split names to files "
                                  f"when dataset_path is {builder!r}")
            resolved = {}
            for split, name in files.items():
                file = Path(str(name)).expanduser()
                file = file if file.is_absolute() else self.path.parent / file
                if not file.is_file():
                    raise DataError(f"{self.path}: dataset_kwargs.data_files.{split}: {file} does not exist")
                resolved[split] = str(file)
            return builder, {"data_files": resolved}
        return builder, {k: v for k, v in {"name": self.config.get("dataset_name")}.items() if v}

    def data_files(self) -> list[Path]:
        """The local files the task reads (their hashes enter artifact ids)."""
        builder, kwargs = self._source()
        return [Path(f) for f in kwargs.get("data_files", {}).values()] if builder in _LOCAL_FORMATS else []

    def load(self, split: str) -> list[Example]:
        """The rows of ``split`` in file order, each checked to render."""
        if split not in self._rows:
            builder, kwargs = self._source()
            if builder in _LOCAL_FORMATS:
                if split not in kwargs["data_files"]:
                    raise ConfigError(f"{self.path}: split {split!r} has no file in dataset_kwargs.data_files "
                                      f"(have {sorted(kwargs['data_files'])})")
                source = kwargs["data_files"][split]
                rows = _read_local(builder, Path(source))
            else:
                source = f"{builder} on the hub"
                rows = self._read_hub(builder, split, kwargs)
            for i, row in enumerate(rows):
                self._check_row(row, split, i, source)
            self._rows[split] = rows
        return self._rows[split]

    def _read_hub(self, builder: str, split: str, kwargs: dict[str, Any]) -> list[Example]:
        """A split of a Hugging Face dataset, through ``datasets`` as lm-eval reads it."""
        import datasets

        try:
            return [dict(r) for r in datasets.load_dataset(builder, split=split, **kwargs)]
        except (FileNotFoundError, ValueError, ConnectionError) as exc:
            raise DataError(f"{self.path}: cannot load split {split!r} of {builder!r}: {exc}") from exc

    def _check_row(self, row: Example, split: str, index: int, source: str = "") -> None:
        """Render every template of one row so a missing field fails here, naming the data file and row."""
        try:
            self.doc_to_text(row)
            target = self.doc_to_target(row)
            if self.output_type == "multiple_choice":
                self.gold_index(row, target)
            if self.is_code:
                for key in ("test_field", "entry_point_field"):
                    name = self._code_field(key)
                    if not isinstance(row.get(name), str) or not row[name].strip():
                        raise DataError(f"field {name!r} (synthmix.{key}) must be non-empty text; "
                                        f"the row has fields {sorted(row)}")
        except (DataError, ConfigError) as exc:
            where = f" of {source}" if source else ""
            raise DataError(f"{self.path}: split {split!r} row {index}{where}: {exc}") from None

    # lm-eval's doc_to_* --------------------------------------------------------------------------
    def _render(self, key: str, template: str, doc: Example) -> str:
        """A Jinja template rendered on a row; an undefined field names the key and field."""
        import jinja2

        try:
            return self._env.from_string(template).render(**doc)
        except jinja2.UndefinedError as exc:
            raise DataError(f"{key}: template {template!r}: {exc.message}; the row has fields {sorted(doc)}") from None
        except jinja2.TemplateError as exc:
            raise ConfigError(f"{self.path}: {key}: bad template {template!r}: {exc}") from None

    def doc_to_text(self, doc: Example) -> str:
        """The question text: a field's value or the rendered template."""
        spec = self.config["doc_to_text"]
        if isinstance(spec, str) and spec in doc:
            return str(doc[spec])
        return self._render("doc_to_text", str(spec), doc)

    def doc_to_target(self, doc: Example) -> Any:
        """The target: a field's value, an int, or the rendered template (digits → int when there are choices)."""
        spec = self.config["doc_to_target"]
        if isinstance(spec, int):
            return spec
        if isinstance(spec, str) and spec in doc:
            return doc[spec]
        rendered = self._render("doc_to_target", str(spec), doc)
        if rendered.isdigit() and "doc_to_choice" in self.config:
            return ast.literal_eval(rendered)
        if len(rendered) >= 2 and rendered[0] == "[" and rendered[-1] == "]":
            try:
                return ast.literal_eval(rendered)
            except (SyntaxError, ValueError):
                return rendered
        return rendered

    def doc_to_choice(self, doc: Example) -> list[str]:
        """The options: a list, a field holding one, or a template rendering a Python list literal."""
        spec = self.config["doc_to_choice"]
        if isinstance(spec, list):
            return [str(c) for c in spec]
        if isinstance(spec, dict):
            return [str(c) for c in spec.values()]
        if isinstance(spec, str) and spec in doc:
            return [str(c) for c in doc[spec]]
        rendered = self._render("doc_to_choice", str(spec), doc)
        try:
            return [str(c) for c in ast.literal_eval(rendered)]
        except (SyntaxError, ValueError):
            raise DataError(f"doc_to_choice: {spec!r} renders {rendered[:80]!r}, not a list") from None

    def gold_index(self, doc: Example, target: Any = None) -> int:
        """Index of the correct option (a string target is looked up among the choices)."""
        target = self.doc_to_target(doc) if target is None else target
        choices = self.doc_to_choice(doc)
        if isinstance(target, str):
            if target not in choices:
                raise DataError(f"doc_to_target gives {target!r}, which is not one of the choices {choices}")
            return choices.index(target)
        if not isinstance(target, int) or not 0 <= target < len(choices):
            raise DataError(f"doc_to_target gives {target!r}, not an option index below {len(choices)}")
        return target

    def target_text(self, doc: Example) -> str:
        """The gold continuation's text (without the delimiter), as lm-eval writes it after a shot."""
        if self.output_type == "multiple_choice":
            return self.doc_to_choice(doc)[self.gold_index(doc)]
        target = self.doc_to_target(doc)
        return str(target[0] if isinstance(target, list) else target)

    # Task protocol --------------------------------------------------------------------------------
    def example_id(self, ex: Example) -> str:
        """The row's ``id``/``doc_id`` field, else the hash of its rendered question."""
        for key in ("id", "doc_id"):
            if key in ex:
                return str(ex[key])
        return normalized_hash(self.doc_to_text(ex))[:16]

    def context(self, ex: Example, num_fewshot: int, shots: Sequence[Example] = ()) -> str:
        """lm-eval's ``fewshot_context``: description, the shots, then ``doc_to_text``."""
        prefix = str(self.config.get("description", "") or "")
        if num_fewshot and shots:
            prefix += self.fewshot_delimiter.join(self.doc_to_text(d) + self.target_delimiter + self.target_text(d)
                                                  for d in shots) + self.fewshot_delimiter
        return prefix + self.doc_to_text(ex)

    def fewshot_draws(self, examples: Sequence[Example], num_fewshot: int, eval_split: str) -> list[list[Example]]:
        """The shots of each example in order, drawn like lm-eval's sampler (seed 1234, one draw per document)."""
        if num_fewshot == 0:
            return [[] for _ in examples]
        split = self.config.get("fewshot_split") or self.config.get("training_split") or self.config.get("validation_split")
        if not split:
            raise ConfigError(f"{self.path}: num_fewshot > 0 needs fewshot_split, training_split or validation_split")
        docs = self.load(split)
        rnd = random.Random(FEWSHOT_SEED)
        draws = []
        for ex in examples:
            same = split == eval_split
            picked = rnd.sample(docs, num_fewshot + 1 if same else num_fewshot)
            draws.append([d for d in picked if d != ex][:num_fewshot] if same else picked)
        return draws

    def prompt(self, ex: Example) -> str:
        """The zero-shot context (training and synthesis use this)."""
        return self.context(ex, 0)

    def target(self, ex: Example) -> str:
        """The delimiter, the gold continuation, then the fewshot delimiter that ends an example in training text."""
        return self.target_delimiter + self.target_text(ex) + self.fewshot_delimiter

    def choices(self, ex: Example) -> list[str]:
        """lm-eval's continuations: the target delimiter, then each option."""
        return [self.target_delimiter + c for c in self.doc_to_choice(ex)]

    def choice_labels(self, ex: Example) -> list[str]:
        """The options themselves label them."""
        return self.doc_to_choice(ex)

    @property
    def generation(self) -> GenerationSpec:
        """``generation_kwargs.until`` and ``max_gen_toks`` (lm-eval's default 256; until defaults to the fewshot
        delimiter, for code to HumanEval's stop strings)."""
        kwargs = self.config.get("generation_kwargs") or {}
        until = kwargs.get("until", list(CODE_STOP) if self.is_code else [self.fewshot_delimiter])
        return GenerationSpec(max_new_tokens=int(kwargs.get("max_gen_toks", 256)),
                              stop=tuple([until] if isinstance(until, str) else until))

    def synthesis_prompt(self, shots: Sequence[Example]) -> str:
        """``synthmix.synthesis_template`` (Jinja over ``shots``, the shots as ``written``, and ``examples``, the rows),
        else the written shots and doc_to_text's opening words (``def`` for code)."""
        written = [self.written(ex) for ex in shots]
        template = self.extras.get("synthesis_template")
        if template is not None:
            return self._env.from_string(template).render(shots=written, examples=list(shots))
        return "".join(written) + self._text_prefix().rstrip(" ")

    def written(self, ex: Example) -> str:
        """A row as the writer is shown it and asked to write one: the training text, or for multiple choice the
        question, its options lettered ``A.``, ``B.``, ... one per line and ``Answer: <letter>``; each ends with the
        fewshot delimiter."""
        if self.output_type != "multiple_choice":
            return self.format_train(ex)
        options = "".join(f"{LETTERS[i]}. {c}\n" for i, c in enumerate(self.doc_to_choice(ex)))
        return f"{self.doc_to_text(ex)}\n{options}Answer: {LETTERS[self.gold_index(ex)]}{self.fewshot_delimiter}"

    @property
    def synthesis_generation(self) -> GenerationSpec:
        """One example: it ends where the next shot would start (the fewshot delimiter; for code, the next top-level
        statement, as the built-in code task's writer stops)."""
        if self.is_code:
            return GenerationSpec(max_new_tokens=512, stop=("\ndef ", "\nclass ", "\n\n\n"))
        return GenerationSpec(max_new_tokens=256, stop=(self.fewshot_delimiter,) if self.fewshot_delimiter.strip("\n") == "" else ())

    def parse_synthetic(self, text: str) -> Example | ParseFailure:
        """Read a written example back through the templates: ``doc_to_text + target_delimiter + doc_to_target``.

        Works for generation tasks whose two templates are literal text around plain ``{{ field }}`` placeholders
        (gsm8k-style); the parsed row must render again. Other templates and multiple choice give a ParseFailure
        saying so.
        """
        if self.output_type == "multiple_choice":
            return self._parse_multiple_choice(text)
        if self.is_code:
            return self._parse_code(text)
        pattern = _template_regex(self.config["doc_to_text"], self.target_delimiter, self.config["doc_to_target"])
        if pattern is None:
            return ParseFailure(f"task {self.name!r}: doc_to_text/doc_to_target are not plain '{{{{ field }}}}' templates, "
                                "so a written example cannot be read back")
        body = text.strip("\n")
        cue = self._text_prefix().rstrip(" ")
        m = pattern.fullmatch(body) or pattern.fullmatch(cue + body) or pattern.fullmatch(cue + " " + body.lstrip(" "))
        if m is None:
            return ParseFailure("the text does not follow the task's template (doc_to_text, delimiter, doc_to_target)")
        row = {k: v.strip() for k, v in m.groupdict().items()}
        if not all(row.values()):
            return ParseFailure(f"empty field(s): {[k for k, v in row.items() if not v]}")
        try:
            self._check_row(row, "synthetic", 0)
        except DataError as exc:
            return ParseFailure(str(exc))
        return row

    def _parse_multiple_choice(self, text: str) -> Example | ParseFailure:
        """Read ``question / A. option / B. option ... / Answer: <letter>`` (as ``written`` writes it) into a row."""
        fields = _field_of(self.config["doc_to_choice"]), _field_of(self.config["doc_to_target"])
        if None in fields or not isinstance(self.config["doc_to_text"], str):
            return ParseFailure(f"task {self.name!r}: doc_to_choice and doc_to_target must be field names (or "
                                "'{{ field }}') for written multiple-choice examples to be read back")
        choice_field, target_field = fields
        body = text.strip("\n")
        cue = self._text_prefix().rstrip(" ")
        lines = (body if body.startswith(cue) else cue + body).split("\n")
        answer = re.fullmatch(r"Answer:\s*([A-Z])\W*", lines[-1].strip())
        if answer is None:
            return ParseFailure("no final 'Answer: <letter>' line")
        start = len(lines) - 1
        while start > 0 and re.match(r"[A-Z]\. ", lines[start - 1]):
            start -= 1
        options = [line[3:].strip() for line in lines[start:-1]]
        if len(options) < 2:
            return ParseFailure("fewer than two lettered options (A. ..., B. ...)")
        if [line[0] for line in lines[start:-1]] != list(LETTERS[:len(options)]):
            return ParseFailure("the options are not lettered A, B, C, ... in order")
        if not all(options) or len(set(options)) < len(options):
            return ParseFailure("an option is empty or repeated")
        gold = LETTERS.index(answer.group(1))
        if gold >= len(options):
            return ParseFailure("the answer letter names no option")
        row = self._question_fields("\n".join(lines[:start]))
        if isinstance(row, ParseFailure):
            return row
        sample = self.load(self.config.get("training_split") or self.eval_split)[0].get(target_field)
        row.update({choice_field: options, target_field: options[gold] if isinstance(sample, str) else gold})
        try:
            self._check_row(row, "synthetic", 0)
        except DataError as exc:
            return ParseFailure(str(exc))
        return row

    def _question_fields(self, question: str) -> Example | ParseFailure:
        """The fields doc_to_text reads, read back from its rendered text (a field name, or a plain template)."""
        spec = str(self.config["doc_to_text"])
        if _field_of(spec) is not None:
            fields = {_field_of(spec): question.strip()}
        else:
            pattern = _plain_regex(spec)
            if pattern is None:
                return ParseFailure(f"task {self.name!r}: doc_to_text is not a plain '{{{{ field }}}}' template, "
                                    "so a written question cannot be read back")
            m = pattern.fullmatch(question)
            if m is None:
                return ParseFailure("the question does not follow doc_to_text")
            fields = {k: v.strip() for k, v in m.groupdict().items()}
        if not all(fields.values()):
            return ParseFailure(f"empty field(s): {sorted(k for k, v in fields.items() if not v)}")
        return fields

    def _parse_code(self, text: str) -> Example | ParseFailure:
        """A written function (signature, docstring with ``>>>`` examples, body) read the way the code task reads
        one, into this YAML's prompt, solution, test and entry-point fields."""
        from synthmix.tasks.code import Code

        names = _field_of(self.config["doc_to_text"]), _field_of(self.config["doc_to_target"])
        if None in names:
            return ParseFailure(f"task {self.name!r}: doc_to_text and doc_to_target must be field names (or "
                                "'{{ field }}') for written code examples to be read back")
        parsed = Code.parse_synthetic(self, text)  # reads only the text, not the task
        if isinstance(parsed, ParseFailure):
            return parsed
        row = {names[0]: parsed["prompt"], names[1]: parsed["canonical_solution"],
               self._code_field("test_field"): parsed["test"],
               self._code_field("entry_point_field"): parsed["entry_point"]}
        try:
            self._check_row(row, "synthetic", 0)
        except DataError as exc:
            return ParseFailure(str(exc))
        return row

    def _code_field(self, key: str) -> str:
        """The row field holding a code task's tests (``test_field``) or function name (``entry_point_field``)."""
        return str(self.extras.get(key, {"test_field": "test", "entry_point_field": "entry_point"}[key]))

    def _text_prefix(self) -> str:
        """The literal text before doc_to_text's first placeholder (the synthesis prompt may end with it);
        empty when doc_to_text is a field name, and ``def`` for code (the writer starts a function)."""
        if self.is_code:
            return "def"
        spec = str(self.config["doc_to_text"])
        return "" if _field_of(spec) is not None else re.split(r"{{", spec, maxsplit=1)[0]

    def extract(self, prediction: str) -> str | None:
        """The answer the first filter extracts (the whole stripped text without filters); None when unparsed."""
        if self.output_type in ("multiple_choice", "code"):
            return prediction
        if not self.filters:
            return prediction.strip()
        answer = self.filters[0].apply(prediction)
        return None if answer == INVALID else answer

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """Span of the first filter's answer (for answer-probability confidence)."""
        if self.filters and not self.is_code:
            return self.filters[0].span(prediction)
        return super().answer_span(prediction)

    def exact_match(self, prediction: str, ex: Example, flt: RegexFilter | None = None) -> bool:
        """lm-eval's exact_match of a generation after ``flt`` (the first filter by default)."""
        flt = flt if flt is not None else (self.filters[0] if self.filters else None)
        answer = flt.apply(prediction) if flt else prediction
        metric = next((m for m in self.metrics if m.name == "exact_match"), Metric("exact_match"))
        return metric.exact_match(answer, self.target_text(ex))

    def correct(self, prediction: str, ex: Example) -> bool:
        """Multiple choice: the predicted option is the gold one; generation: exact_match after the first filter."""
        if self.output_type == "multiple_choice":
            return self.doc_to_choice(ex).index(prediction) == self.gold_index(ex)
        if self.is_code:
            return self.passes(prediction, ex)
        return self.exact_match(prediction, ex)

    def passes(self, completion: str, ex: Example) -> bool:
        """pass@1 of one completion: ``prompt + completion``, the row's tests and ``check(entry_point)`` run in the
        sandbox, passing only when the program reaches its end (the sandbox's unforgeable completion token)."""
        from synthmix.metrics.code import run_humaneval_problem

        return run_humaneval_problem(self.doc_to_text(ex), completion, ex[self._code_field("test_field")],
                                     ex[self._code_field("entry_point_field")], timeout_s=CODE_TIMEOUT_S).passed

    def score(self, prediction: str, ex: Example) -> float:
        """The primary metric of one prediction: SQuAD token F1 of the filtered answer when it is ``f1``, else 1.0 when correct."""
        if self.info.primary_metric == "f1":
            from synthmix.metrics.qa import token_f1

            answer = self.filters[0].apply(prediction) if self.filters else prediction
            return token_f1(answer, [self.target_text(ex)])
        return float(self.correct(prediction, ex))

    def verify(self, ex: Example) -> bool | None:
        """``synthmix.verifier`` (a ``module:function`` taking a row, returning a bool) on a row; None without one."""
        verifier = self.extras.get("verifier")
        if verifier is None:
            return self.passes(self.target_text(ex), ex) if self.is_code else None
        return bool(_import_callable(self.path, verifier)(ex))

    @property
    def has_verifier(self) -> bool:
        """Whether the YAML names a verifier or is code (whose solution must pass its own tests)."""
        return self.is_code or bool(self.extras.get("verifier"))

    def reference(self, ex: Example) -> str:
        """The gold option, or the gold target text."""
        return self.target_text(ex)

    def options(self) -> dict[str, Any]:
        """The YAML file identifies the task."""
        return {"yaml": str(self.path)}


def _import_callable(path: Path, spec: Any) -> Any:
    """The ``module:function`` named by ``synthmix.verifier``, or a ConfigError naming the file and key."""
    import importlib

    module, _, attr = str(spec).partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{path}: synthmix.verifier: cannot import {spec!r} ({exc}); write 'package.module:function'") from None
    if not callable(fn):
        raise ConfigError(f"{path}: synthmix.verifier: {spec!r} is not callable")
    return fn


_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}")


def _field_of(spec: Any) -> str | None:
    """The one field a spec names: a bare field name or a template that is just ``{{ field }}``; else None."""
    if not isinstance(spec, str):
        return None
    m = _PLACEHOLDER.fullmatch(spec.strip()) or re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)", spec)
    return m.group(1) if m else None


def _template_regex(text: Any, delimiter: str, target: Any) -> re.Pattern[str] | None:
    """A regex reading ``text + delimiter + target`` back into fields; None unless both are plain-placeholder templates."""
    if not isinstance(text, str) or not isinstance(target, str):
        return None
    return _plain_regex(text + delimiter + target)


def _plain_regex(whole: str) -> re.Pattern[str] | None:
    """A regex reading a rendered template back into its fields; None unless it is literal text and ``{{ field }}``s."""
    if "{%" in whole or "{{" in _PLACEHOLDER.sub("", whole):
        return None
    out, seen, end = [], set(), 0
    for m in _PLACEHOLDER.finditer(whole):
        out.append(re.escape(whole[end:m.start()]))
        name = m.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        end = m.end()
    if not seen:
        return None
    out.append(re.escape(whole[end:]))
    return re.compile("".join(out), re.S)


def _read_local(kind: str, file: Path) -> list[Example]:
    """Rows of a local JSON Lines (or JSON array), CSV or Parquet file; a field a row lacks stays absent."""
    try:
        if kind == "json":
            text = file.read_text(encoding="utf-8")
            rows = json.loads(text) if text.lstrip().startswith("[") else [
                json.loads(line) for line in text.splitlines() if line.strip()]
        elif kind == "csv":
            import pandas as pd

            rows = [{k: v for k, v in r.items() if not (isinstance(v, float) and math.isnan(v))}
                    for r in pd.read_csv(file).to_dict("records")]
        else:
            import pyarrow.parquet as pq

            rows = pq.read_table(file).to_pylist()
    except (ValueError, OSError) as exc:
        raise DataError(f"{file}: cannot read as {kind}: {exc}") from None
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(f"{file}: row {i} is not an object of fields")
    return rows


def _jinja() -> Any:
    """lm-eval's Jinja environment: undefined fields raise, trailing newlines kept, a ``regex_replace`` filter."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.BaseLoader(), undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["regex_replace"] = lambda s, pattern, repl: re.sub(pattern, repl, s)
    return env


def _metrics(path: Path, entries: Any, kind: str) -> tuple[Metric, ...]:
    """The ``metric_list`` entries synthmix computes; others are refused by name."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: metric_list must be a list of {{metric: ...}} entries")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "metric" not in entry:
            raise ConfigError(f"{path}: metric_list[{i}] needs a 'metric' key")
        unknown = set(entry) - _METRIC_KEYS
        if unknown:
            raise ConfigError(f"{path}: metric_list[{i}]: unknown key {sorted(unknown)[0]!r} (known: {sorted(_METRIC_KEYS)})")
        if entry["metric"] not in _METRICS[kind]:
            raise ConfigError(f"{path}: metric_list[{i}].metric {entry['metric']!r} is not supported for {kind} "
                              f"(supported: {sorted(_METRICS[kind])})")
        out.append(Metric(str(entry["metric"]), bool(entry.get("ignore_case", False)),
                          bool(entry.get("ignore_punctuation", False)), tuple(entry.get("regexes_to_ignore") or ())))
    return tuple(out)


def _filters(path: Path, entries: Any) -> tuple[RegexFilter, ...]:
    """``filter_list`` entries of the shape ``[regex, take_first]``; anything else is refused by name."""
    out = []
    for i, entry in enumerate(entries or []):
        steps = entry.get("filter") if isinstance(entry, dict) else None
        if not isinstance(steps, list) or not steps:
            raise ConfigError(f"{path}: filter_list[{i}] needs a non-empty 'filter' list")
        regex = [s for s in steps if s.get("function") == "regex"]
        other = [s.get("function") for s in steps if s.get("function") not in ("regex", "take_first")]
        if other or len(regex) != 1:
            raise ConfigError(f"{path}: filter_list[{i}]: only one 'regex' then 'take_first' is supported (got "
                              f"{[s.get('function') for s in steps]})")
        try:
            pattern = re.compile(regex[0]["regex_pattern"])
        except (KeyError, re.error) as exc:
            raise ConfigError(f"{path}: filter_list[{i}].regex_pattern: {exc}") from None
        out.append(RegexFilter(str(entry.get("name", f"filter{i}")), pattern, int(regex[0].get("group_select", 0))))
    return tuple(out)


def load_task_yaml(path: str | Path) -> LmEvalTask:
    """Read and check an lm-eval task YAML; any unsupported key or value names the file and key."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"task file {path} does not exist")
    try:
        config = read_yaml(path.read_text(encoding="utf-8"), _Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: a task YAML is a mapping of keys")
    for key, value in config.items():
        if key not in _KNOWN:
            raise ConfigError(f"{path}: unknown key {key!r} (synthmix reads: {', '.join(sorted(_KNOWN))})")
        if isinstance(value, tuple) and value[:1] == ("!function",):
            raise ConfigError(f"{path}: {key}: '!function {value[1]}' (Python code) is not supported; "
                              "write it as a field name, a list or a Jinja template")
    extras = config.get("synthmix") or {}
    if not isinstance(extras, dict) or set(extras) - _SYNTHMIX_KEYS:
        bad = sorted(set(extras) - _SYNTHMIX_KEYS) if isinstance(extras, dict) else extras
        raise ConfigError(f"{path}: synthmix: unknown key(s) {bad} (known: {sorted(_SYNTHMIX_KEYS)})")
    if "answer_type" in extras:
        if extras["answer_type"] not in _ANSWER_TYPES:
            raise ConfigError(f"{path}: synthmix.answer_type {extras['answer_type']!r} is not supported (known: "
                              f"{sorted(_ANSWER_TYPES)}; exact match and f1 come from metric_list)")
        if config.get("output_type") != "generate_until" or "metric_list" in config or "filter_list" in config:
            raise ConfigError(f"{path}: synthmix.answer_type: code needs output_type: generate_until and no "
                              "metric_list or filter_list (it is scored by pass@1 in the sandbox)")
    if "verifier" in extras:
        _import_callable(path, extras["verifier"])
    kind = config.get("output_type")
    if kind not in _METRICS:
        raise ConfigError(f"{path}: output_type {kind!r} is not supported (use multiple_choice or generate_until)")
    required = ["dataset_path", "doc_to_text", "doc_to_target"] + (["doc_to_choice"] if kind == "multiple_choice" else [])
    for key in required:
        if key not in config:
            raise ConfigError(f"{path}: missing key {key!r} (needed for output_type {kind})")
    unknown = set(config.get("generation_kwargs") or {}) - _GENERATION_KEYS
    if unknown:
        raise ConfigError(f"{path}: generation_kwargs: unknown key {sorted(unknown)[0]!r} (known: {sorted(_GENERATION_KEYS)})")
    if (config.get("generation_kwargs") or {}).get("do_sample"):
        raise ConfigError(f"{path}: generation_kwargs.do_sample: true is not supported; evaluation decodes greedily")
    return LmEvalTask(path=path, config=config, metrics=_metrics(path, config.get("metric_list"), kind),
                      filters=_filters(path, config.get("filter_list")))
