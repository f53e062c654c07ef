"""A step module that always fails or hangs, for the driver's failure, skip and timeout tests.

With ``TOY_SHORT_POOL`` set it fails like a generate step whose pool stayed short: it first writes its
samples and ``failure.json``, so the worker keeps the folder and the driver ingests the samples.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from toy_steps import Params

__all__ = ["Params", "run"]


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Raise (default) or hang when ``TOY_HANG`` is set, so timeouts can be tested."""
    if os.environ.get("TOY_HANG"):
        time.sleep(3600)
    if os.environ.get("TOY_SHORT_POOL"):
        rows = [{"sample_id": i, "text": f"garbled {i}", "parsed_ok": False, "reason": "no '####' line"} for i in range(3)]
        (out / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (out / "failure.json").write_text(json.dumps({"error": "pool short: 0 of 5 usable after 3 samples"}))
    raise RuntimeError("toy failure: this step always fails")
