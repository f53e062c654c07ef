"""Tiny fine-tune: moves the parent's weights toward the training values (a few numpy gradient steps)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinysteps.common import Params, pause, read_json, record_worker, rng, write_json

__all__ = ["Params", "run"]


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Fit weights w to the training values by 20 steps of least squares from the parent's weights."""
    p = params.model_dump()
    w = np.array(read_json(inputs["init"] / "model.json"))
    values = np.array([json.loads(line)["value"] for line in (inputs["data"] / "train.jsonl").read_text().splitlines()])
    x = rng("features", p["seed"]).normal(size=(len(values), w.size))  # (N, 16)
    losses = []
    for _ in range(20):
        residual = x @ w - values  # (N,)
        losses.append(float(np.mean(residual**2)))
        w = w - 0.05 * x.T @ residual / len(values)
    pause("finetune")
    write_json(out / "model.json", w.tolist())
    write_json(out / "step_log.json", {"final_loss": losses[-1], "n_params": int(w.size), "losses": losses})
    record_worker(out, "finetune")
