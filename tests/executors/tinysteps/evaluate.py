"""Tiny evaluate: scores the model on 50 seeded test items, with per-example rows and confidences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinysteps.common import Params, read_json, record_worker, rng, write_json

__all__ = ["Params", "run"]


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Accuracy of sign(x·w) against sign(x·w*) on fixed test items; confidence from the margin."""
    p = params.model_dump()
    w = np.array(read_json(inputs["model"] / "model.json"))
    x = rng("test", p["task"]).normal(size=(50, w.size))  # (50, 16)
    truth = x @ rng("truth", p["task"]).normal(size=w.size) > 0
    margin = x @ w
    correct = (margin > 0) == truth
    confidence = 1 / (1 + np.exp(-np.abs(margin)))
    rows = [{"example_id": i, "score": float(c), "correct": bool(c), "confidence": float(conf),
             "prediction": str(bool(m > 0))} for i, (c, conf, m) in enumerate(zip(correct, confidence, margin))]
    (out / "examples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_json(out / "scores.json", {"accuracy": float(correct.mean()), "confidence": float(confidence.mean()),
                                     "weight_norm": float(np.linalg.norm(w))})
    record_worker(out, "evaluate")
