"""Reading a study's YAML safely: alias bombs, deep nesting and duplicate keys are errors naming the line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthmix.cli import app
from synthmix.config import load_study, read_yaml
from synthmix.errors import ConfigError
from toy_study import toy_study

ALIAS_BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    assert len(ALIAS_BOMB) < 1200  # expands to 9**9 = 387 million strings
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_study(path)
    assert time.perf_counter() - t0 < 1.0
    assert str(caught.value) == (f"{path}: YAML error at line 6, column 4: expands to more than 100000 values "
                                 "(aliases of aliases?)")


def test_a_duplicate_key_names_the_key_and_both_lines(tmp_path: Path) -> None:
    path = toy_study(tmp_path)
    text = path.read_text()
    path.write_text(text + "name: again\n")
    line = len(text.splitlines()) + 1
    with pytest.raises(ConfigError) as caught:
        load_study(path)
    assert str(caught.value) == (f"{path}: YAML error at line {line}, column 1: duplicate key 'name' "
                                 "(first at line 1); keep one of them")
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 2 and "duplicate key 'name'" in result.output


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(Exception, match="nested deeper than 64 levels"):
        read_yaml("x: " + "[" * 70 + "]" * 70 + "\n")


def test_a_self_referencing_alias_is_refused() -> None:
    with pytest.raises(Exception, match="an alias refers to a node containing it"):
        read_yaml("a: &a [1, *a]\n")


def test_ordinary_anchors_and_merge_keys_still_load() -> None:
    data = read_yaml("base: &b {lr: 0.001, epochs: 3}\nrun: {<<: *b, epochs: 5}\nlist: [*b, *b]\n")
    assert data == {"base": {"lr": 0.001, "epochs": 3}, "run": {"lr": 0.001, "epochs": 5},
                    "list": [{"lr": 0.001, "epochs": 3}, {"lr": 0.001, "epochs": 3}]}
