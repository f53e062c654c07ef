"""docs/your-own-model.md: its snippet saves a model a study can name by a relative path, and its YAML is valid."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from synthmix.checks import check_study
from synthmix.config import load_study

DOC = Path(__file__).resolve().parents[2] / "docs" / "your-own-model.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def test_snippet_saves_a_tiny_llama_the_documented_study_plans_over(tmp_path: Path) -> None:
    (snippet,) = _blocks("python")
    result = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    first, resources = (yaml.safe_load(text) for text in _blocks("yaml"))
    study = {"name": "own-model", **first, **{k: v for k, v in resources.items() if k != "blocks"},
             "tasks": {"mini-math": {"n_train": 16, "n_validation": 8, "n_test": 8}}}
    study["blocks"][0]["resources"] = resources["blocks"][0]["resources"]
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    spec = load_study(path)
    assert spec.blocks[0].models == [str(tmp_path / "models" / "my-llama")]
    assert check_study(spec, path) == []
    assert spec.resources[str(tmp_path / "models" / "my-llama")].gpus == 1
