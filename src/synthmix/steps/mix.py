"""The mix step: a training set of (1 − p)·N external and p·N synthetic examples, by docs/architecture.md's regimes.

| regime | synthetic part at iteration T (inputs ``pool1`` … ``poolT``) |
| --- | --- |
| ``replace`` / ``verified`` | p·N from the pool written by the iteration T−1 model (its only pool input) |
| ``accumulate`` | p·N from each pool 1..T (the set grows with T) |
| ``accumulate-subsample`` | p·N from the union of pools 1..T |
| ``remove`` | none: (1 − p)·N external only |
Every draw is without replacement from a permutation seeded by the condition's seed. The external
part is a prefix of one seeded permutation of the train split, so a larger share drops external
examples from the end of the same list: shares of a condition stay nested. Effective shares are
recorded by examples and by tokens (whitespace-separated words of the training text: a
model-independent count).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from synthmix.errors import StepError

ORIGIN = "_origin"


class Params(BaseModel):
    """Training-set size, share, regime and seed of one mix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    task_options: dict[str, Any]
    n: int = Field(gt=0)
    share: float = Field(ge=0.0, le=1.0)
    regime: Literal["replace", "accumulate", "accumulate-subsample", "verified", "remove"]
    seed: int = Field(ge=0)


def _read_pool(folder: Path) -> list[dict[str, Any]]:
    """The usable examples of a generate artifact, in order."""
    with open(folder / "pool.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _draw(items: list[Any], k: int, rng: random.Random, what: str) -> list[Any]:
    """``k`` items without replacement, in a seeded order; too few is an error that names the counts."""
    if k > len(items):
        raise StepError(f"mix needs {k} examples from {what} but it holds only {len(items)}; "
                        "raise the pool size (mixing.pool_size) or the task's n_train")
    order = list(range(len(items)))
    rng.shuffle(order)
    return [items[i] for i in order[:k]]


def synthetic_part(pools: dict[int, list[dict[str, Any]]], regime: str, k: int, seed: int) -> list[tuple[int, dict[str, Any]]]:
    """(iteration of origin, example) pairs of the synthetic part of a mix."""
    if not pools or k == 0 or regime == "remove":
        return []
    if regime in ("replace", "verified"):
        top = max(pools)
        return [(top, ex) for ex in _draw(pools[top], k, random.Random(f"mix:{seed}:pool{top}"), f"pool {top}")]
    if regime == "accumulate":
        return [(it, ex) for it in sorted(pools)
                for ex in _draw(pools[it], k, random.Random(f"mix:{seed}:pool{it}"), f"pool {it}")]
    union = [(it, ex) for it in sorted(pools) for ex in pools[it]]
    return _draw(union, k, random.Random(f"mix:{seed}:union"), f"pools {sorted(pools)}")


def _words(task: Any, ex: dict[str, Any]) -> int:
    return len(task.format_train(ex).split())


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Write ``train.jsonl`` (each example with its ``_origin``) and ``mix.json`` (the composition)."""
    from synthmix.tasks import get_task

    task = get_task(params.task, **params.task_options)
    pools = {int(name.removeprefix("pool")): _read_pool(path) for name, path in inputs.items() if name.startswith("pool")}
    n_syn = round(params.share * params.n)
    n_ext = params.n - n_syn
    if params.share > 0 and params.regime != "remove" and not pools:
        raise StepError(f"mix with share {params.share:g} and regime {params.regime!r} has no pool input")
    external = _draw(task.load("train"), n_ext, random.Random(f"mix:{params.seed}:external"), f"{params.task}'s train split")
    synthetic = synthetic_part(pools, params.regime, n_syn, params.seed)
    rows = [{**ex, ORIGIN: "external"} for ex in external] + [{**ex, ORIGIN: it} for it, ex in synthetic]
    with open(out / "train.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    by_origin: dict[str, int] = {}
    for it, _ in synthetic:
        by_origin[str(it)] = by_origin.get(str(it), 0) + 1
    ext_words = sum(_words(task, ex) for ex in external)
    syn_words = sum(_words(task, ex) for _, ex in synthetic)
    composition = {
        "n_external": len(external),
        "n_synthetic": len(synthetic),
        "share_examples": len(synthetic) / max(len(rows), 1),
        "share_tokens": syn_words / max(ext_words + syn_words, 1),
        "by_origin_iteration": by_origin,
    }
    (out / "mix.json").write_text(json.dumps(composition, indent=1))
