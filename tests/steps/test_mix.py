"""The mix step: docs/architecture.md's regimes, sizes, nesting across shares, composition and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmix.errors import StepError
from synthmix.steps import mix
from synthmix.tasks import get_task

OPTIONS = {"n_train": 40, "n_validation": 8, "n_test": 8}


def _pool(folder: Path, iteration: int, n: int) -> Path:
    """A pool folder of ``n`` distinct, recognisable synthetic examples."""
    folder.mkdir(parents=True)
    with open(folder / "pool.jsonl", "w") as f:
        for i in range(n):
            f.write(json.dumps({"question": f"synthetic {iteration} question {i}", "answer": [f"answer {i}"]}) + "\n")
    return folder


def _run(tmp_path: Path, name: str, share: float, regime: str, pools: dict[str, Path], n: int = 20, seed: int = 0):
    out = tmp_path / name
    out.mkdir()
    params = mix.Params(task="mini-factual", task_options=OPTIONS, n=n, share=share, regime=regime, seed=seed)
    mix.run(pools, params, out)
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    return rows, json.loads((out / "mix.json").read_text())


def test_mix_replace_has_size_n_and_the_share(tmp_path: Path) -> None:
    pools = {"pool1": _pool(tmp_path / "p1", 1, 30)}
    rows, comp = _run(tmp_path, "m", 0.3, "replace", pools)
    assert len(rows) == 20
    assert (comp["n_external"], comp["n_synthetic"]) == (14, 6)
    assert comp["share_examples"] == pytest.approx(0.3)
    assert comp["by_origin_iteration"] == {"1": 6}
    assert sum(r["_origin"] == 1 for r in rows) == 6
    assert 0 < comp["share_tokens"] < 1


def test_mix_replace_uses_only_the_latest_pool(tmp_path: Path) -> None:
    pools = {"pool2": _pool(tmp_path / "p2", 2, 30)}
    rows, comp = _run(tmp_path, "m", 0.5, "replace", pools)
    assert {r["_origin"] for r in rows} == {"external", 2}


def test_mix_accumulate_grows_with_the_iteration(tmp_path: Path) -> None:
    pools = {"pool1": _pool(tmp_path / "p1", 1, 30), "pool2": _pool(tmp_path / "p2", 2, 30)}
    rows, comp = _run(tmp_path, "m", 0.5, "accumulate", pools)
    assert len(rows) == 30  # 10 external + 10 from each pool
    assert comp["by_origin_iteration"] == {"1": 10, "2": 10}


def test_mix_accumulate_subsample_keeps_size_n(tmp_path: Path) -> None:
    pools = {"pool1": _pool(tmp_path / "p1", 1, 30), "pool2": _pool(tmp_path / "p2", 2, 30)}
    rows, comp = _run(tmp_path, "m", 0.5, "accumulate-subsample", pools)
    assert len(rows) == 20 and comp["n_synthetic"] == 10
    assert sum(comp["by_origin_iteration"].values()) == 10


def test_mix_remove_is_external_only_and_smaller(tmp_path: Path) -> None:
    rows, comp = _run(tmp_path, "m", 0.5, "remove", {})
    assert len(rows) == 10 and comp["n_synthetic"] == 0 and comp["share_examples"] == 0.0
    assert all(r["_origin"] == "external" for r in rows)


def test_mix_external_parts_are_nested_across_shares(tmp_path: Path) -> None:
    pools = {"pool1": _pool(tmp_path / "p1", 1, 30)}
    zero, _ = _run(tmp_path, "a", 0.0, "replace", {})
    half, _ = _run(tmp_path, "b", 0.5, "replace", pools)
    ext_zero = [r["question"] for r in zero if r["_origin"] == "external"]
    ext_half = [r["question"] for r in half if r["_origin"] == "external"]
    assert ext_half == ext_zero[: len(ext_half)]


def test_mix_external_examples_come_from_the_train_split(tmp_path: Path) -> None:
    rows, _ = _run(tmp_path, "m", 0.0, "replace", {})
    train = {ex["question"] for ex in get_task("mini-factual", **OPTIONS).load("train")}
    assert {r["question"] for r in rows} <= train
    assert len({r["question"] for r in rows}) == 20  # without replacement


def test_mix_is_deterministic_and_seeded(tmp_path: Path) -> None:
    pools = {"pool1": _pool(tmp_path / "p1", 1, 30)}
    a, _ = _run(tmp_path, "a", 0.5, "replace", pools, seed=1)
    b, _ = _run(tmp_path, "b", 0.5, "replace", pools, seed=1)
    c, _ = _run(tmp_path, "c", 0.5, "replace", pools, seed=2)
    assert a == b and a != c


def test_mix_too_small_pool_names_the_counts(tmp_path: Path) -> None:
    pools = {"pool1": _pool(tmp_path / "p1", 1, 3)}
    with pytest.raises(StepError, match="needs 10 examples from pool 1 but it holds only 3"):
        _run(tmp_path, "m", 0.5, "replace", pools)


def test_mix_params_reject_unknown_keys() -> None:
    with pytest.raises(ValueError):
        mix.Params(task="mini-factual", task_options={}, n=10, share=0.1, regime="replace", seed=0, extra=1)
