"""Tiny mix: external rows plus a share of the pools' rows, with the composition record the database ingests."""

from __future__ import annotations

import json
from pathlib import Path

from tinysteps.common import Params, read_json, record_worker, rng, write_json

__all__ = ["Params", "run"]


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Take (1−share)·n external values and share·n values sampled from the pools."""
    p = params.model_dump()
    n = p["n"]
    n_syn = round(p["share"] * n) if inputs else 0
    external = rng("external", p["task"], p["seed"]).normal(size=n - n_syn).tolist()
    pool = [row["value"] for name in sorted(inputs) for row in read_json(inputs[name] / "pool.json.rows")]
    synthetic = rng("mix", p["seed"], p["share"]).choice(pool, size=n_syn).tolist() if n_syn else []
    (out / "train.jsonl").write_text("".join(json.dumps({"value": v}) + "\n" for v in external + synthetic))
    write_json(out / "mix.json", {"n_external": len(external), "n_synthetic": n_syn,
                                  "share_examples": n_syn / n, "share_tokens": n_syn / n,
                                  "by_origin_iteration": {name: n_syn for name in inputs}})
    record_worker(out, "mix")
