"""Tiny pretrain: a seeded weight vector standing in for a pretrained rung."""

from __future__ import annotations

from pathlib import Path

from tinysteps.common import Params, record_worker, rng, write_json

__all__ = ["Params", "run"]


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Draw 16 weights from the rung's seed."""
    p = params.model_dump()
    write_json(out / "model.json", rng("pretrain", p["rung"], p["seed"]).normal(size=16).tolist())
    record_worker(out, "pretrain")
