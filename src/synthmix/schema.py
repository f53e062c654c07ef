"""The study file's JSON Schema (for editors) and its Markdown reference, both generated from ``config.Study``.

``docs/study-reference.md`` is ``study_reference()``'s output (``synthmix schema --markdown``); a test fails
when the two differ, so the reference lists every key, type, default and meaning the code accepts.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from synthmix.config import Study

REFERENCE_TITLE = "# Study file reference"
REFERENCE_INTRO = """\
Every key a study YAML file accepts, with its type, default and meaning. Generated from the pydantic
models in `src/synthmix/config.py` by `synthmix schema --markdown > docs/study-reference.md`; a test fails
when this page and the code differ. Unknown keys are errors. Every relative path (model folders, path-like
task options such as `data_dir`, `task_modules`, `store`, `study_dir`, `tracking_dir`) resolves against the
study file's folder. `synthmix schema` prints the JSON Schema, for editors that validate YAML."""


def study_json_schema() -> dict[str, Any]:
    """The JSON Schema of a study file."""
    return Study.model_json_schema()


def _type_name(annotation: Any) -> str:
    """A short, readable name of a field's type (``list[int]``, ``mlflow | wandb | null``)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: Any) -> str:
    """The default as YAML-ish text; ``required`` when there is none, ``(section)`` for a nested model."""
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{json.dumps(value, default=str)}`"


def _nested(annotation: Any) -> list[type[BaseModel]]:
    """The config models a field's type contains (a section, a list or mapping of sections)."""
    found = [annotation] if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []
    for arg in typing.get_args(annotation):
        found += _nested(arg)
    return found


def study_reference() -> str:
    """The Markdown reference of every key of a study file, section by section."""
    sections: list[tuple[str, type[BaseModel]]] = [("top level", Study)]
    out = [REFERENCE_TITLE, "", REFERENCE_INTRO, ""]
    seen: set[type[BaseModel]] = {Study}
    i = 0
    while i < len(sections):
        where, model = sections[i]
        i += 1
        doc = (model.__doc__ or "").strip().splitlines()[0]
        out += [f"## {where}", "", doc, "", "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            out.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {field.description} |")
            for sub in _nested(field.annotation):
                if sub not in seen:
                    seen.add(sub)
                    prefix = "" if where == "top level" else f"{where}."
                    many = typing.get_origin(field.annotation) in (list, dict) or any(
                        typing.get_origin(a) in (list, dict) for a in typing.get_args(field.annotation))
                    sections.append((f"{prefix}{name}{'[…]' if many else ''}", sub))
        out.append("")
    return "\n".join(out)
