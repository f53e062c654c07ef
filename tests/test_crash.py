"""Crash trials with real processes: ``kill -9`` of the driver and its workers mid-step, mid-commit and mid-ingest.

After every kill ``synthmix run`` resumes; at the end the study is complete, no artifact that had been
committed was recomputed, no half-written artifact was ever read (the toy steps check their inputs),
the database passes ``PRAGMA integrity_check`` and the scores equal those of an uninterrupted run.
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

import pytest

from synthmix.config import load_study
from synthmix.driver import open_db
from synthmix.store import MANIFEST, Store
from toy_study import toy_study

TESTS = Path(__file__).resolve().parent
KEY = ["model", "task", "share", "iteration", "seed", "regime", "metric"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHMIX_PAUSE")}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    env["TOY_SLEEP_S"] = "0.4"
    return {**env, **extra}


def _start(path: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synthmix.cli", "run", str(path), "--jobs", "2"], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _committed(store: Store) -> dict[str, float]:
    return {aid: json.loads((store.path(kind, aid) / MANIFEST).read_text())["finished_ts"] for kind, aid in store.artifacts()}


def _phase_now(store: Store) -> str:
    """What the run was doing at the moment of a random kill."""
    temps = list(store.root.glob("*/.tmp~*"))
    if any((t / MANIFEST).exists() for t in temps):
        return "mid-commit"
    return "mid-step" if temps else "between steps"


def _wait_for(marker: Path, proc: subprocess.Popen, limit: float = 120.0) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if marker.exists():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def _scores(path: Path):
    db = open_db(load_study(path))
    try:
        frame = db.frame("scores").sort_values(KEY).reset_index(drop=True)
        assert db.integrity_check() == "ok"
        return frame
    finally:
        db.close()


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    reference = toy_study(tmp_path / "reference")
    assert subprocess.run([sys.executable, "-m", "synthmix.cli", "run", str(reference), "--jobs", "2"],
                          env=_env(TOY_SLEEP_S="0"), capture_output=True).returncode == 0
    path = toy_study(tmp_path / "crash")
    store = Store(load_study(path).store)
    rng = random.Random(1234)
    schedule = ["random"] * 6 + ["commit:before-rename"] * 2 + ["ingest:before-commit"] * 3
    rng.shuffle(schedule)
    seen: dict[str, float] = {}
    phases: list[str] = []
    for trial in schedule:
        marker = tmp_path / f"pause-{len(phases)}"
        env = _env() if trial == "random" else _env(SYNTHMIX_PAUSE_AT=trial, SYNTHMIX_PAUSE_FILE=str(marker))
        proc = _start(path, env)
        if trial == "random":
            time.sleep(rng.uniform(2.0, 6.0))
            phase = _phase_now(store) if proc.poll() is None else "finished"
        else:
            phase = ("mid-commit" if trial.startswith("commit") else "mid-ingest") if _wait_for(marker, proc) else "finished"
        seen.update(_committed(store))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if marker.exists():
            worker = int(marker.read_text().split()[1])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and Path(f"/proc/{worker}").exists():
                time.sleep(0.1)
            assert not Path(f"/proc/{worker}").exists(), "a worker outlived its killed driver"
        phases.append(phase)
    final = subprocess.run([sys.executable, "-m", "synthmix.cli", "run", str(path), "--jobs", "2"], env=_env(),
                           capture_output=True, text=True)
    assert final.returncode == 0, final.stderr[-2000:]
    after = _committed(store)
    recomputed = [aid for aid, ts in seen.items() if after.get(aid) != ts]
    assert not recomputed, f"committed artifacts were recomputed: {recomputed}"
    assert _scores(path).equals(_scores(reference))
    print("phases hit:", phases)
    assert {"mid-step", "mid-commit", "mid-ingest"} <= set(phases), phases
