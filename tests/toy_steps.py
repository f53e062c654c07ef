"""Small real step functions for the spine's tests: deterministic files, integrity checks on inputs.

Each step hashes its parameters and its inputs' contents into its outputs, so results are a pure
function of the DAG, and each checks that every input folder is complete (``checksum`` matches), so
a half-written artifact that was ever read would fail the run. ``TOY_SLEEP_S`` (seconds, environment)
slows steps down for crash trials without changing any result.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Accepts whatever the planner passes for any step kind."""

    model_config = ConfigDict(extra="allow", frozen=True)


def _digest(inputs: dict[str, Path], params: Params) -> str:
    h = hashlib.sha256(json.dumps(params.model_dump(), sort_keys=True, default=str).encode())
    for name in sorted(inputs):
        folder = inputs[name]
        recorded = (folder / "checksum").read_text()
        actual = hashlib.sha256((folder / "payload.bin").read_bytes()).hexdigest()
        if recorded != actual:
            raise RuntimeError(f"input {name} at {folder} is incomplete")
        h.update(name.encode() + recorded.encode())
    return h.hexdigest()


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Write a payload derived from params and inputs, plus the files the driver ingests for each kind."""
    digest = _digest(inputs, params)
    sleep = float(os.environ.get("TOY_SLEEP_S", "0"))
    payload = hashlib.sha256(digest.encode()).digest() * 4096
    half = len(payload) // 2
    (out / "payload.bin").write_bytes(payload[:half])
    time.sleep(sleep)
    with open(out / "payload.bin", "ab") as f:
        f.write(payload[half:])
    (out / "checksum").write_text(hashlib.sha256(payload).hexdigest())
    x = int(digest[:8], 16) / 0xFFFFFFFF
    (out / "step_log.json").write_text(json.dumps({"n_params": 1000, "final_loss": 1 + x, "loss_curve": [[0, 2.0], [1, 1 + x]]}))
    (out / "scores.json").write_text(json.dumps({"score": x, "ece": x / 10, "oc_gap": x / 20}))
    with open(out / "examples.jsonl", "w") as f:
        for i in range(5):
            f.write(json.dumps({"example_id": f"ex{i}", "score": float((i + int(digest[8], 16)) % 2),
                                "correct": (i + int(digest[8], 16)) % 2 == 1, "confidence": 0.5 + x / 2,
                                "prediction": digest[i]}) + "\n")
    (out / "mix.json").write_text(json.dumps({"n_external": 8, "n_synthetic": 2, "share_examples": 0.2,
                                              "share_tokens": 0.25, "by_origin_iteration": {"1": 2}}))
    with open(out / "samples.jsonl", "w") as f:
        for i in range(3):
            f.write(json.dumps({"sample_id": str(i), "text": f"sample {digest[i:i + 6]}", "parsed_ok": i != 2,
                                "verified": None, "reason": "no answer" if i == 2 else None}) + "\n")
    (out / "pool.json").write_text(json.dumps({"parse_rate": 2 / 3, "n_usable": 2}))
