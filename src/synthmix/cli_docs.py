"""docs/cli.md, generated from the Typer app: every command, its arguments and options with defaults and help.

Regenerate with ``python -m synthmix.cli_docs > docs/cli.md``; a test fails when the page and the app differ.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

INTRO = """\
# Command line

Every `synthmix` command with its arguments and options. Generated from the app by
`python -m synthmix.cli_docs > docs/cli.md`; a test fails when this page and the code differ.

Global option: `synthmix --debug COMMAND …` shows tracebacks. Exit codes: 0 ok; 1 a step failed (the rest
finished and were kept); 2 bad input (the message names the file, field or row and what to do); `monitor`:
3 warn, 4 critical."""


def _is_argument(param: Any) -> bool:
    """Whether a command parameter is a positional argument (Typer vendors click, so no isinstance)."""
    return getattr(param, "param_type_name", "") == "argument"


def _option_row(param: Any) -> str:
    """One Markdown table row of an option or argument."""
    if _is_argument(param):
        name = f"`{param.name.upper()}`"
    else:
        names = list(param.opts) + list(getattr(param, "secondary_opts", []))
        name = " / ".join(f"`{n}`" for n in names)
    help_text = (getattr(param, "help", None) or "").replace("|", "\\|").replace("\n", " ")
    default = param.default
    shown = "" if default is None or _is_argument(param) or callable(default) else f"`{default}`"
    if hasattr(default, "value"):
        shown = f"`{default.value}`"
    return f"| {name} | {shown} | {help_text} |"


def cli_reference() -> str:
    """The Markdown reference of every command."""
    from synthmix.cli import app

    group = typer.main.get_command(app)
    out = [INTRO, ""]
    for name in sorted(group.commands):
        command = group.commands[name]
        params = [p for p in command.params if p.name != "help"]
        usage = " ".join(["synthmix", name] + [p.name.upper() for p in params if _is_argument(p)])
        out += [f"## `{name}`", "", (command.help or "").strip().split("\n\n")[0].replace("\n", " "), "",
                f"```\n{usage} [OPTIONS]\n```", ""]
        if params:
            out += ["| argument / option | default | meaning |", "| --- | --- | --- |"]
            out += [_option_row(p) for p in params]
            out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(cli_reference() + "\n")
