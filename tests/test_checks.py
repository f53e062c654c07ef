"""Plan-time checks: missing model folders, uncached hub ids, bad data files and rows fail before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthmix.checks import check_data_file, check_model, check_study
from synthmix.cli import app
from synthmix.config import load_study
from synthmix.errors import PlanError

STUDY = """
name: byo
blocks:
  - name: main
    models: [{model}]
    tasks: [mini-math]
    shares: [0.0, 0.5]
    iterations: [0, 1]
tasks:
  mini-math: {{n_train: 16, n_validation: 8, n_test: 8}}
"""


def _study(folder: Path, model: str) -> Path:
    path = folder / "study.yaml"
    path.write_text(STUDY.format(model=model))
    return path


def test_missing_relative_model_folder_fails_at_plan_with_exit_2(tmp_path: Path) -> None:
    path = _study(tmp_path, "./models/tiny-llama")
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert (f"{path}: blocks[0].models[0]: no model folder at {tmp_path / 'models' / 'tiny-llama'} "
            "(relative paths resolve against the study file's folder)") in message


def test_model_folder_without_config_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(PlanError, match=r"ckpt has no config.json, so it is not a saved Hugging Face model"):
        check_model(str(tmp_path / "ckpt"), "s.yaml: blocks[0].models[0]")


def test_saved_model_folder_passes(tiny_model_dir: Path) -> None:
    assert check_model(str(tiny_model_dir), "s.yaml") is None
    assert check_model("mini-120k", "s.yaml") is None


def test_uncached_hub_id_is_a_note_online_and_an_error_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    note = check_model("acme/tiny-llama", "s.yaml: blocks[0].models[0]")
    assert note == ("note: s.yaml: blocks[0].models[0]: 'acme/tiny-llama' is neither a folder beside the study file "
                    "nor in the local hub cache; the first step that needs it downloads it from the hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PlanError, match=r"HF_HUB_OFFLINE is set; download it first \(huggingface-cli download acme/tiny-llama\)"):
        check_model("acme/tiny-llama", "s.yaml: blocks[0].models[0]")


def test_jsonl_line_that_is_not_json_is_named(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text('{"q": 1}\n\n{"q": 2\n')
    with pytest.raises(PlanError, match=rf"{data}: line 3: not JSON"):
        check_data_file(data, "s.yaml")
    data.write_text('{"q": 1}\n[1, 2]\n')
    with pytest.raises(PlanError, match=rf"{data}: line 2: a row must be a JSON object with the task's fields \(got list\)"):
        check_data_file(data, "s.yaml")


def test_missing_data_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"data file .*nope.jsonl does not exist"):
        check_data_file(tmp_path / "nope.jsonl", "s.yaml")


def test_mini_study_over_a_local_model_checks_clean(tiny_model_dir: Path, tmp_path: Path) -> None:
    path = _study(tmp_path, str(tiny_model_dir))
    assert check_study(load_study(path), path) == []


def test_remove_at_share_one_is_refused_at_plan_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(STUDY.format(model="mini-120k").replace("shares: [0.0, 0.5]", "shares: [0.0, 1.0]")
                    .replace("iterations: [0, 1]", "iterations: [0, 1]\n    regimes: [replace, remove]"))
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert "regime 'remove' at share 1.0 trains on nothing" in " ".join(result.output.split())
