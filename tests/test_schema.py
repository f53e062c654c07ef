"""The study JSON Schema and the generated reference: complete, and docs/study-reference.md never drifts."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel
from typer.testing import CliRunner

from synthmix.cli import app
from synthmix.config import Study
from synthmix.schema import study_json_schema, study_reference

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "study-reference.md"


def _fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[tuple[type[BaseModel], str, object]]:
    out = []
    for name, field in model.model_fields.items():
        out.append((model, name, field))
        from synthmix.schema import _nested

        for sub in _nested(field.annotation):
            if sub not in seen:
                seen.add(sub)
                out += _fields(sub, seen)
    return out


def test_docs_study_reference_is_the_generated_one() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == study_reference() + "\n", (
        "docs/study-reference.md is stale: run `synthmix schema --markdown > docs/study-reference.md`")


def test_every_study_key_has_a_meaning_and_a_reference_row() -> None:
    text = study_reference()
    for model, name, field in _fields(Study, {Study}):
        assert field.description, f"{model.__name__}.{name} has no description"
        assert f"| `{name}` | " in text


def test_reference_rows_show_type_and_default() -> None:
    text = study_reference()
    assert '| `method` | "full" \\| "lora" | `"full"` | full: every weight trains; lora: adapters only (peft) |' in text
    assert "| `target_modules` | list[str] \\| null | `null` | modules that get adapters; default: peft's choice" in text
    assert "| `blocks` | list[Block] | required | the grid, as one or more rectangles of conditions |" in text


def test_schema_command_prints_the_json_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == study_json_schema()
    assert set(schema["properties"]) == set(Study.model_fields)
    assert schema["required"] == ["name", "blocks"] and schema["additionalProperties"] is False
