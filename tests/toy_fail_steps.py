"""A step module that always fails or hangs, for the driver's failure, skip and timeout tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

from toy_steps import Params

CODE_VERSION = "toy-fail-1"

__all__ = ["CODE_VERSION", "Params", "run"]


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Raise (default) or hang when ``TOY_HANG`` is set, so timeouts can be tested."""
    if os.environ.get("TOY_HANG"):
        time.sleep(3600)
    raise RuntimeError("toy failure: this step always fails")
