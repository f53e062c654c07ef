"""Study files: defaults, folders, and ≥20 malformed studies that each give exit code 2 and a precise message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthmix.cli import app
from synthmix.config import load_study
from synthmix.errors import ConfigError
from synthmix.tasks import Task, register_task, task_names
from synthmix.tasks.mini.factual import MiniFactual


class UnverifiedFactual(MiniFactual):
    """mini-factual without its verifier: a task for which the ``verified`` regime must be refused."""

    verify = Task.verify


if "unverified-factual" not in task_names():
    register_task("unverified-factual", UnverifiedFactual)

GOOD = """\
name: ok
blocks:
  - name: main
    models: [mini-120k]
    tasks: [mini-math]
    shares: [0, 0.5]
    iterations: [1]
"""

# (file content, substrings the message must contain)
BAD: list[tuple[str, bytes | str, list[str]]] = [
    ("unknown top-level key", GOOD + "colour: blue\n", ["colour", "unknown key", "'blue'"]),
    ("unknown block key", GOOD.replace("    iterations: [1]\n", "    iterations: [1]\n    sharez: [0.1]\n"),
     ["blocks[0].sharez", "unknown key"]),
    ("share above 1", GOOD.replace("[0, 0.5]", "[0, 1.3]"), ["blocks[0].shares", "1.3", "[0, 1]"]),
    ("negative share", GOOD.replace("[0, 0.5]", "[-0.1]"), ["blocks[0].shares", "-0.1"]),
    ("share as text", GOOD.replace("[0, 0.5]", "[0, lots]"), ["blocks[0].shares[1]", "'lots'"]),
    ("negative iteration", GOOD.replace("iterations: [1]", "iterations: [-1]"), ["blocks[0].iterations", "-1", "≥ 0"]),
    ("iteration as float", GOOD.replace("iterations: [1]", "iterations: [1.5]"), ["blocks[0].iterations[0]", "1.5"]),
    ("missing models", GOOD.replace("    models: [mini-120k]\n", ""), ["blocks[0].models", "missing"]),
    ("empty models", GOOD.replace("[mini-120k]", "[]"), ["blocks[0].models", "[]"]),
    ("missing name", GOOD.replace("name: ok\n", ""), ["name", "missing"]),
    ("missing blocks", "name: ok\n", ["blocks", "missing"]),
    ("duplicate share", GOOD.replace("[0, 0.5]", "[0.5, 0.5]"), ["duplicate share", "0.5"]),
    ("duplicate seed", GOOD + "    seeds: [1, 1]\n", ["duplicate seed"]),
    ("duplicate block name", GOOD + "  - name: main\n    models: [mini-120k]\n    tasks: [mini-math]\n    shares: [0]\n"
     "    iterations: [1]\n", ["block name 'main' is used twice"]),
    ("unknown regime", GOOD + "    regimes: [replce]\n", ["blocks[0].regimes[0]", "'replce'", "replace"]),
    ("unknown task", GOOD.replace("[mini-math]", "[mini-maths]"), ["blocks[0].tasks[0]", "mini-maths", "Did you mean"]),
    ("verified without verifier", GOOD.replace("[mini-math]", "[unverified-factual]") + "    regimes: [verified]\n",
     ["verified", "unverified-factual", "verifier"]),
    ("yaml syntax error", GOOD + "  - name: [unclosed\n", ["YAML syntax error", "line"]),
    ("empty file", "", ["empty file"]),
    ("only a comment", "# nothing\n", ["empty file"]),
    ("list instead of mapping", "- name: ok\n", ["a study must be a mapping", "list"]),
    ("scalar document", "just text\n", ["a study must be a mapping", "str"]),
    ("non-utf8", b"name: caf\xe9\n", ["not UTF-8", "0xe9"]),
    ("wrong type for training", GOOD + "training: fast\n", ["training", "'fast'"]),
    ("negative lr", GOOD + "training:\n  lr: -1\n", ["training.lr", "-1"]),
    ("top_p above 1", GOOD + "generation:\n  top_p: 1.5\n", ["generation.top_p", "1.5"]),
    ("unknown timeout kind", GOOD + "timeouts:\n  trian: 10\n", ["timeouts", "trian"]),
    ("zero threads", GOOD + "threads: 0\n", ["threads", "0"]),
    ("options for unused task", GOOD + "tasks:\n  mini-code: {n_test: 5}\n", ["tasks.mini-code", "no block uses"]),
    ("unknown mini rung", GOOD.replace("[mini-120k]", "[mini-270k]"), ["blocks[0].models[0]", "'mini-270k'", "mini-280k"]),
    ("bad study name", GOOD.replace("name: ok", "name: 'a b/c'"), ["name", "'a b/c'"]),
    ("unknown correction", GOOD + "analysis:\n  correction: sidak\n", ["analysis.correction", "'sidak'", "bonferroni"]),
    ("margin in percent", GOOD + "analysis:\n  equivalence_margin: 3\n", ["analysis.equivalence_margin", "3"]),
]


def test_load_study_defaults_resolve_relative_to_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    study = load_study(path)
    assert study.generation.temperature == 0.8 and study.generation.top_p == 0.9
    assert study.training.epochs == 3 and study.training.lr == 1e-5 and study.training.batch_size == 32
    assert study.study_dir == tmp_path / "runs" / "ok"
    assert study.blocks[0].regimes == ["replace"] and study.blocks[0].seeds == [0]
    assert (study.analysis.correction, study.analysis.alpha, study.analysis.equivalence_margin) == ("bonferroni", 0.05, 0.03)


@pytest.mark.parametrize(("what", "content", "needles"), BAD, ids=[b[0] for b in BAD])
def test_bad_study_exits_2_with_message(tmp_path: Path, what: str, content: bytes | str, needles: list[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError) as info:
        load_study(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for needle in needles:
        assert needle in message, f"{what}: {needle!r} not in {message!r}"
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "\n\n" not in result.output.strip()


def test_bad_study_real_process_exit_code_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("[0, 0.5]", "[0, 1.3]"))
    proc = subprocess.run([sys.executable, "-m", "synthmix.cli", "run", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "shares" in proc.stderr


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the study file"):
        load_study(tmp_path / "nope.yaml")


def test_slurm_array_setting_is_accepted_and_defaults_off(tmp_path) -> None:
    from synthmix.config import SlurmSettings

    assert SlurmSettings().array is False
    assert SlurmSettings(array=True).array is True


BYO_STUDY = """
name: byo
blocks:
  - name: main
    models: [{model}]
    tasks: [mini-math]
    shares: [0.0]
    iterations: [0]
task_modules: [my_tasks.py]
tasks:
  mini-math: {{n_train: 16, n_validation: 8, n_test: 8}}
"""


def _byo_study(root, model: str):
    (root / "my_tasks.py").write_text("")
    (root / "study.yaml").write_text(BYO_STUDY.format(model=model))
    return root / "study.yaml"


def test_relative_model_path_resolves_against_the_study_file_not_the_cwd(tmp_path, monkeypatch):
    from synthmix.plan import build_plan

    (tmp_path / "proj" / "models" / "tiny").mkdir(parents=True)
    path = _byo_study(tmp_path / "proj", "models/tiny")
    keys = []
    for cwd in (tmp_path, tmp_path / "proj" / "models"):
        monkeypatch.chdir(cwd)
        study = load_study(path.relative_to(tmp_path) if cwd == tmp_path else path)
        assert study.blocks[0].models == [str(tmp_path / "proj" / "models" / "tiny")]
        assert study.task_modules == [str(tmp_path / "proj" / "my_tasks.py")]
        keys.append(list(build_plan(study).steps))
    assert keys[0] == keys[1]


def test_local_folder_named_like_a_mini_rung_is_a_folder(tmp_path):
    (tmp_path / "mini-mine").mkdir()
    study = load_study(_byo_study(tmp_path, "mini-mine"))
    assert study.blocks[0].models == [str(tmp_path / "mini-mine")]


def test_unknown_mini_rung_that_is_no_folder_is_still_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"blocks\[0\].models\[0\]: unknown mini rung \(got 'mini-mine'\)"):
        load_study(_byo_study(tmp_path, "mini-mine"))


def test_hub_id_stays_as_written(tmp_path):
    study = load_study(_byo_study(tmp_path, "EleutherAI/pythia-70m"))
    assert study.blocks[0].models == ["EleutherAI/pythia-70m"]


def test_task_option_paths_resolve_against_the_study_file(tmp_path):
    from synthmix.config import resolve_paths

    study = load_study(_byo_study(tmp_path, "mini-120k"))
    raw = study.model_copy(update={"tasks": {"mini-math": {"data_dir": "data/x", "n_train": 16, "note": "a/b"}}})
    resolved = resolve_paths(raw, tmp_path / "sub" / "study.yaml")
    assert resolved.tasks["mini-math"] == {"data_dir": str(tmp_path / "sub" / "data" / "x"), "n_train": 16, "note": "a/b"}
