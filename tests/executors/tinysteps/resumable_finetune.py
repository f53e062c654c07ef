"""Tiny fine-tune that checkpoints every gradient step into ``_checkpoint/`` and resumes from it, like the real one.

Same numbers as ``tinysteps.finetune`` (20 least-squares steps from the parent's weights; JSON keeps floats exact),
so scores equal a run of the plain tiny study. ``TINY_STEP_SLEEP`` is spread over the 20 steps, so a test can
preempt the step between checkpoints; ``step_log.json`` says from which step it resumed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from tinysteps.common import (
    SLEEP_ENV,
    Params,
    read_json,
    record_worker,
    rng,
    write_json,
)

__all__ = ["Params", "run"]

STEPS = 20


def _save(folder: Path, step: int, w: np.ndarray, losses: list[float]) -> None:
    """Write the state after ``step`` gradient steps atomically (a kill mid-write keeps the previous one)."""
    folder.mkdir(exist_ok=True)
    write_json(folder / "state.json.tmp", {"step": step, "w": w.tolist(), "losses": losses})
    os.replace(folder / "state.json.tmp", folder / "state.json")


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Fit weights w to the training values by 20 steps of least squares, resuming from ``out/_checkpoint``."""
    p = params.model_dump()
    checkpoint = out / "_checkpoint"
    if (checkpoint / "state.json").is_file():
        state = read_json(checkpoint / "state.json")
        start, w, losses = state["step"], np.array(state["w"]), state["losses"]
    else:
        start, w, losses = 0, np.array(read_json(inputs["init"] / "model.json")), []
    values = np.array([json.loads(line)["value"] for line in (inputs["data"] / "train.jsonl").read_text().splitlines()])
    x = rng("features", p["seed"]).normal(size=(len(values), w.size))  # (N, 16)
    pause = float(os.environ.get(SLEEP_ENV, "0")) / STEPS
    for step in range(start, STEPS):
        residual = x @ w - values  # (N,)
        losses.append(float(np.mean(residual**2)))
        w = w - 0.05 * x.T @ residual / len(values)
        _save(checkpoint, step + 1, w, losses)
        time.sleep(pause)
    write_json(out / "model.json", w.tolist())
    write_json(out / "step_log.json", {"final_loss": losses[-1], "n_params": int(w.size), "losses": losses,
                                       "resumed_from_step": start})
    record_worker(out, "finetune")
