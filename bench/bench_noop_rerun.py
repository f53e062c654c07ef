"""Wall time of re-running a finished study of ≥ 500 steps (goal < 3 s), against bare interpreter + CLI import.

The study uses the tests' toy step functions, so filling the store is quick; the rerun then has to plan,
resolve every artifact id (deriving code versions from the AST), find every manifest, check every finished
artifact's files against their recorded sizes, check the database and exit having executed nothing. The
verification's own cost is timed in-process and printed, with that of a full sha256 of the same artifacts.
Run: ``.venv/bin/python bench/bench_noop_rerun.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from synthmix.config import load_study  # noqa: E402
from synthmix.driver import run_study  # noqa: E402
from synthmix.executors.base import Executor, Outcome, StepSpec, execute_step  # noqa: E402
from synthmix.plan import build_plan  # noqa: E402
from toy_study import toy_study  # noqa: E402


class InProcess(Executor):
    """Runs each step in this process at submit time (only to fill the store quickly)."""

    jobs = 1

    def submit(self, spec: StepSpec) -> Outcome:
        return execute_step(spec)

    def wait(self, handles: list[Outcome], timeout: float | None = None) -> list[tuple[Outcome, Outcome]]:
        return [(h, h) for h in handles]


def _time(cmd: list[str], env: dict[str, str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-2000:])
    return statistics.median(times)


def _verification_cost(study: object) -> tuple[float, float]:
    """Seconds to check every finished artifact's file sizes (what a run does), and to hash them all (``verify``)."""
    from synthmix.driver import resolve_ids
    from synthmix.store import Store

    plan = build_plan(study)
    ids = resolve_ids(plan, study)
    store = Store(study.store)
    refs = [(s.kind, ids[k]) for k, s in plan.steps.items()]
    out = []
    for full in (False, True):
        t0 = time.perf_counter()
        assert all(store.damage(kind, aid, full=full) == [] for kind, aid in refs)
        out.append(time.perf_counter() - t0)
    return out[0], out[1]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-noop-"))
    blocks = [{"name": "grid", "models": ["mini-120k", "mini-280k"], "tasks": ["mini-math", "mini-code"],
               "shares": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5], "iterations": [1, 2, 3], "seeds": [0, 1],
               "regimes": ["replace", "accumulate"]}]
    path = toy_study(tmp, name="noop", blocks=blocks, tasks={})
    study = load_study(path)
    n_steps = len(build_plan(study).steps)
    t0 = time.perf_counter()
    first = run_study(study, InProcess())
    fill = time.perf_counter() - t0
    assert first.ok and first.executed == n_steps, first
    env = {"PYTHONPATH": str(ROOT / "tests"), "PATH": "/usr/bin:/bin"}
    rerun = _time([sys.executable, "-m", "synthmix.cli", "run", str(path)], env)
    baseline = _time([sys.executable, "-c", "import synthmix.cli"], env)
    check = run_study(load_study(path), InProcess())
    assert check.executed == 0
    sizes_s, hashes_s = _verification_cost(study)
    print(f"steps in plan: {n_steps} (first run, in-process toy steps: {fill:.1f} s)")
    print(f"no-op rerun of `synthmix run`: {rerun:.2f} s median of 5 (goal < 3 s); executed {check.executed} steps")
    print(f"baseline (interpreter + import synthmix.cli): {baseline:.2f} s; rerun / baseline = {rerun / baseline:.1f}x; "
          f"study work per step: {1000 * (rerun - baseline) / n_steps:.2f} ms")
    print(f"of which verification (every artifact's file sizes): {1000 * sizes_s:.0f} ms; "
          f"a full sha256 of the same artifacts would be {1000 * hashes_s:.0f} ms")


if __name__ == "__main__":
    main()
