"""Artifact identity: canonical params, code versions derived from the AST, and every part of a step's id."""

from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path

import pytest

from synthmix.config import load_study
from synthmix.driver import resolve_identities
from synthmix.errors import StoreError
from synthmix.identity import CodeHasher, StepIdentity, artifact_id, canonical, rerun_reasons, source_hash
from synthmix.plan import build_plan
from synthmix.tasks import registry
from toy_study import toy_study


def _id(params: dict) -> str:
    return artifact_id("evaluate", "v", params, {}, {})


def test_artifact_id_tells_1_from_1_0_from_string_from_true() -> None:
    ids = {_id({"x": v}) for v in (1, 1.0, "1", True)}
    assert len(ids) == 4
    assert canonical(1) == ["int", "1"] and canonical(1.0) == ["float", "0x1.0000000000000p+0"]
    assert canonical(True) == ["bool", True] and canonical("1") == ["str", "1"]


def test_artifact_id_is_independent_of_key_order_and_input_order() -> None:
    a = artifact_id("mix", "v", {"a": 1, "b": [1, 2]}, {"x": "1", "y": "2"}, {})
    b = artifact_id("mix", "v", {"b": [1, 2], "a": 1}, {"y": "2", "x": "1"}, {})
    assert a == b and len(a) == 64


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_canonical_refuses_non_finite_floats(value: float) -> None:
    with pytest.raises(StoreError, match="non-finite"):
        _id({"lr": value})


@pytest.mark.parametrize("value, kind", [({1, 2}, "set"), (object(), "object"), (b"x", "bytes")])
def test_canonical_refuses_unhashable_values(value: object, kind: str) -> None:
    with pytest.raises(StoreError, match=f"type {kind}"):
        _id({"x": value})


def test_canonical_refuses_non_string_keys() -> None:
    with pytest.raises(StoreError, match="keys must be strings"):
        _id({"x": {1: "a"}})


def test_source_hash_ignores_comments_docstrings_and_formatting() -> None:
    base = 'def f(x):\n    """Double."""\n    return 2 * x\n'
    same = '"""Module doc."""\n# a comment\ndef f( x ):\n\n    return 2*x   # why\n'
    assert source_hash(base) == source_hash(same)
    assert source_hash(base) != source_hash(base.replace("2 * x", "3 * x"))


def _package(root: Path, name: str, files: dict[str, str]) -> None:
    pkg = root / name
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    for rel, text in files.items():
        (pkg / rel).write_text(textwrap.dedent(text))


@pytest.fixture
def toypkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway package whose step imports a metric lazily, inside a function, through a relative import."""
    _package(tmp_path, "toypkg", {
        "step.py": "def run():\n    from .metric import ece\n    return ece()\n",
        "metric.py": "from synthmix.errors import StoreError\n\ndef ece():\n    return 1\n",
        "unused.py": "X = 1\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / "toypkg"
    for name in [m for m in sys.modules if m.startswith("toypkg")]:
        del sys.modules[name]


def test_closure_follows_lazy_relative_imports_into_synthmix(toypkg: Path) -> None:
    closure = CodeHasher().closure("toypkg.step")
    assert {"toypkg", "toypkg.step", "toypkg.metric", "synthmix", "synthmix.errors"} <= set(closure)
    assert "toypkg.unused" not in closure


def test_editing_an_imported_module_changes_the_code_version_but_a_comment_does_not(toypkg: Path) -> None:
    before = StepIdentity("evaluate", CodeHasher().closure("toypkg.step"), {}, {}).artifact_id
    metric = toypkg / "metric.py"
    metric.write_text(metric.read_text() + "# a comment only\n")
    assert StepIdentity("evaluate", CodeHasher().closure("toypkg.step"), {}, {}).artifact_id == before
    metric.write_text(metric.read_text().replace("return 1", "return 2"))
    after = StepIdentity("evaluate", CodeHasher().closure("toypkg.step"), {}, {})
    assert after.artifact_id != before
    old = StepIdentity("evaluate", {**after.code, "toypkg.metric": "old"}, {}, {}).as_dict()
    assert rerun_reasons(old, after, {}) == ["code of toypkg.metric changed"]


def test_built_in_evaluate_covers_the_calibration_metric() -> None:
    closure = CodeHasher().closure("synthmix.steps.evaluate")
    assert {"synthmix.metrics.calibration", "synthmix.metrics.code", "synthmix.sandbox"} <= set(closure)


TASK_MODULE = """
from pathlib import Path

from synthmix.tasks.mini.math import MiniMath


class FileMath(MiniMath):
    name = "file-math"

    def __init__(self, data_dir, **options):
        super().__init__(**options)
        self.data_dir = data_dir

    def options(self):
        return {**super().options(), "data_dir": self.data_dir}

    def load(self, split):
        extra = (Path(self.data_dir) / "extra.txt").read_text()
        return super().load(split)
"""


@pytest.fixture
def file_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A task whose ``load`` reads a file under its data_dir without declaring it in ``data_files``."""
    _package(tmp_path / "code", "toytask", {"task.py": TASK_MODULE})
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    monkeypatch.setitem(registry._REGISTRY, "file-math", "toytask.task:FileMath")
    data = tmp_path / "data"
    data.mkdir()
    (data / "extra.txt").write_text("one\n")
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("toytask")]:
        del sys.modules[name]


def _ids(tmp_path: Path, kind: str = "evaluate", **overrides: object) -> dict[str, StepIdentity]:
    study = load_study(toy_study(tmp_path / "study", **overrides))
    plan = build_plan(study)
    identities = resolve_identities(plan, study)
    return {k: v for k, v in identities.items() if v.kind == kind}


def _file_task_study(tmp_path: Path, model: str = "mini-120k") -> dict[str, object]:
    return {"tasks": {"file-math": {"data_dir": str(tmp_path / "data"), "n_train": 20, "n_test": 10}},
            "blocks": [{"name": "main", "models": [model], "tasks": ["file-math"], "shares": [0.0],
                        "iterations": [1], "seeds": [0], "regimes": ["replace"]}]}


def test_task_data_under_its_data_dir_changes_the_id(file_task: Path) -> None:
    before = _ids(file_task, **_file_task_study(file_task))
    (file_task / "data" / "extra.txt").write_text("two\n")
    after = _ids(file_task, **_file_task_study(file_task))
    assert before.keys() == after.keys()
    for key in before:
        assert before[key].artifact_id != after[key].artifact_id
        changed = f"data file {file_task / 'data' / 'extra.txt'} changed"
        assert changed in rerun_reasons(before[key].as_dict(), after[key], {})


def test_task_code_changes_the_id(file_task: Path) -> None:
    before = _ids(file_task, **_file_task_study(file_task))
    module = file_task / "code" / "toytask" / "task.py"
    module.write_text(module.read_text().replace('"file-math"\n', '"file-math"\n    retries = 2\n'))
    after = _ids(file_task, **_file_task_study(file_task))
    for key in before:
        assert before[key].artifact_id != after[key].artifact_id
        assert rerun_reasons(before[key].as_dict(), after[key], {})[0] == "code of toytask.task changed"


def test_local_model_files_are_its_revision(file_task: Path) -> None:
    model = file_task / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    before = _ids(file_task, "finetune", **_file_task_study(file_task, str(model)))
    (model / "config.json").write_text('{"edited": 1}')
    after = _ids(file_task, "finetune", **_file_task_study(file_task, str(model)))
    assert before
    for key in before:
        assert before[key].artifact_id != after[key].artifact_id
        assert "model revision changed" in rerun_reasons(before[key].as_dict(), after[key], {})


def test_rerun_reasons_say_new_for_a_step_never_finished() -> None:
    assert rerun_reasons(None, StepIdentity("mix", {}, {}, {}), {}) == ["new"]
