"""docs/cli.md is generated from the Typer app and never drifts from it."""

from __future__ import annotations

from pathlib import Path

from synthmix.cli_docs import cli_reference

CLI_DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_docs_cli_is_the_generated_one() -> None:
    assert CLI_DOC.read_text(encoding="utf-8") == cli_reference() + "\n", (
        "docs/cli.md is stale: run `python -m synthmix.cli_docs > docs/cli.md`")


def test_cli_reference_lists_every_command_and_option() -> None:
    import typer

    from synthmix.cli import app

    text = cli_reference()
    for name, command in typer.main.get_command(app).commands.items():
        assert f"## `{name}`" in text
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert f"`{opt}`" in text, (name, opt)
    assert "| `--dry-run` | `False` | Say what would run, run nothing. |" in text
