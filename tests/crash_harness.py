"""Crash trials shared by the spine's and the loop's tests: run ``synthmix run`` and ``kill -9`` it at chosen moments.

A trial either sleeps a random time and kills, or waits for a failpoint (``SYNTHMIX_PAUSE_AT``) to be
reached and kills there. Before each kill it records which artifacts are committed, so the caller can
check that none of them was recomputed later; it also checks that no step process outlives its driver.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from synthmix.store import MANIFEST, Store

TESTS = Path(__file__).resolve().parent


def env_for(**extra: str) -> dict[str, str]:
    """The environment of a ``synthmix run`` subprocess (tests folder importable, no leftover pause)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHMIX_PAUSE")}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    return {**env, **extra}


def run_cli(path: Path, env: dict[str, str], jobs: int = 2) -> subprocess.CompletedProcess:
    """Run a study to the end."""
    return subprocess.run([sys.executable, "-m", "synthmix.cli", "run", str(path), "--jobs", str(jobs)], env=env,
                          capture_output=True, text=True)


def committed(store: Store) -> dict[str, float]:
    """Artifact id → commit time of everything in the store."""
    return {aid: json.loads((store.path(kind, aid) / MANIFEST).read_text())["finished_ts"]
            for kind, aid in store.artifacts()}


def phase_now(store: Store, prefer: str = "") -> str:
    """What the run was doing at a kill: mid-<kind> (a step's temp folder exists; ``prefer`` first), or between steps."""
    temps = sorted(store.root.glob("*/.tmp~*"), key=lambda t: t.parent.name != prefer)
    if any((t / MANIFEST).exists() for t in temps):
        return "mid-commit"
    return f"mid-{temps[0].parent.name}" if temps else "between steps"


def _wait_for(marker: Path, proc: subprocess.Popen, limit: float, pattern: str | None = None) -> bool:
    """Wait until ``marker`` exists (or, with ``pattern``, until a path matching it under marker does)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if (any(marker.glob(pattern)) if pattern else marker.exists()):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def crash_trials(path: Path, store: Store, env: dict[str, str], schedule: list[str], marker_dir: Path,
                 delay: tuple[float, float], during_delay: tuple[float, float] = (0.0, 1.0),
                 seed: int = 1234) -> tuple[list[str], dict[str, float]]:
    """Run the schedule; returns (phases hit, artifacts seen committed).

    A trial is ``random`` (kill after a random delay), ``during:<kind>`` (kill at a random moment while a step of
    that kind is running) or a failpoint name (kill when a process reaches it).
    """
    rng = random.Random(seed)
    seen: dict[str, float] = {}
    phases: list[str] = []
    for i, trial in enumerate(schedule):
        marker = marker_dir / f"pause-{i}"
        trial_env = env if trial == "random" or trial.startswith("during:") else {**env, "SYNTHMIX_PAUSE_AT": trial, "SYNTHMIX_PAUSE_FILE": str(marker)}
        proc = subprocess.Popen([sys.executable, "-m", "synthmix.cli", "run", str(path), "--jobs", "2"], env=trial_env,
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial == "random":
            time.sleep(rng.uniform(*delay))
            phase = phase_now(store) if proc.poll() is None else "finished"
        elif trial.startswith("during:"):
            kind = trial.removeprefix("during:")
            running = _wait_for(store.root / kind, proc, limit=600, pattern=".tmp~*")
            time.sleep(rng.uniform(*during_delay))
            phase = phase_now(store, kind) if running and proc.poll() is None else "finished"
        elif _wait_for(marker, proc, limit=600):
            phase = "mid-commit" if trial.startswith("commit") else "mid-ingest"
        else:
            phase = "finished"
        seen.update(committed(store))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if marker.exists():
            worker = int(marker.read_text().split()[1])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and Path(f"/proc/{worker}").exists():
                time.sleep(0.1)
            assert not Path(f"/proc/{worker}").exists(), "a step process outlived its killed driver"
        phases.append(phase)
    return phases, seen
