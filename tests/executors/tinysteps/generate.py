"""Tiny generate: a pool of values the model 'writes' (its weights plus seeded noise), some unparseable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinysteps.common import Params, read_json, record_worker, rng, write_json

__all__ = ["Params", "run"]


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Write n_target parseable samples, counting the unparseable ones (|value| > 2) like a real pool."""
    p = params.model_dump()
    w = np.array(read_json(inputs["model"] / "model.json"))
    draw = rng("generate", p["seed"], p["temperature"])
    rows, samples = [], []
    while len(rows) < p["n_target"]:
        value = float(w[len(samples) % w.size] + p["temperature"] * draw.normal())
        ok = abs(value) <= 2
        samples.append({"sample_id": len(samples), "text": f"{value:.6f}", "parsed_ok": ok, "verified": None,
                        "reason": None if ok else "out of range"})
        if ok:
            rows.append({"value": value})
    (out / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    write_json(out / "pool.json.rows", rows)
    write_json(out / "pool.json", {"pool_parse_rate": len(rows) / len(samples), "pool_size": len(rows)})
    record_worker(out, "generate")
