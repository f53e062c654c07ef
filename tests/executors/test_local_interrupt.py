"""An interrupt between a worker's start and its registration must not leave the driver joining that worker at exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

ORPHAN = """
import multiprocessing as mp
import time

from synthmix.executors.local import stop_helpers

if __name__ == "__main__":
    worker = mp.get_context("forkserver").Process(target=time.sleep, args=(60,))
    worker.start()  # started, but in no executor's running list: what a signal right after start() leaves
    stop_helpers()
    print(worker.exitcode)
"""


def test_stop_helpers_kills_a_worker_no_executor_tracks(tmp_path: Path) -> None:
    script = tmp_path / "orphan.py"
    script.write_text(textwrap.dedent(ORPHAN))
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=40, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["-9"]  # killed, so multiprocessing's exit handler does not wait 60 s for it
    assert time.monotonic() - started < 30
