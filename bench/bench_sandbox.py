"""Bench: sandbox throughput on trivial programs, one at a time and with one sandbox per core.

Run: .venv/bin/python bench/bench_sandbox.py  (needs root and namespaces, like the sandbox itself)
Baseline in the same run: the bare `/usr/bin/python3 -I -S` start-up with no isolation, so the ratio
shows what isolation costs. Goal: >= 20 programs/s on 2 cores. Timings on a shared machine are noisy.
"""

import os
import resource
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from synthmix.sandbox import PYTHON, run_program

N_PROGRAMS = 100
SOURCE = "def add(a, b):\n    return a + b\nassert add(2, 3) == 5\n"


def rate(jobs: int, run_one) -> tuple[float, float]:
    """Programs per second running N_PROGRAMS with `jobs` at a time, and CPU seconds per program.

    CPU time (user + system of all child processes, the harness's own included) does not depend on
    other load, so `cores / cpu_per_program` bounds what an idle machine would reach.
    """
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda _: run_one(), range(N_PROGRAMS)))
    elapsed = time.perf_counter() - start
    assert all(results), "a trivial program failed"
    return N_PROGRAMS / elapsed, (_cpu_seconds() - cpu_before) / N_PROGRAMS


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_python() -> bool:
    """The baseline: the same program in a plain interpreter, no isolation."""
    return subprocess.run([PYTHON, "-I", "-S", "-c", SOURCE], env={}).returncode == 0


def main() -> None:
    cores = os.cpu_count() or 1
    run_program(SOURCE)  # warm the page cache
    sandboxed_1, _ = rate(1, lambda: run_program(SOURCE).passed)
    sandboxed_n, sandbox_cpu = rate(cores, lambda: run_program(SOURCE).passed)
    bare_n, bare_cpu = rate(cores, bare_python)
    print(f"{N_PROGRAMS} trivial programs, {cores} cores, load average now {os.getloadavg()[0]:.1f}")
    print(f"sandbox, 1 at a time:      {sandboxed_1:6.1f} programs/s")
    print(f"sandbox, {cores} at a time:      {sandboxed_n:6.1f} programs/s (goal >= 20 on 2 cores); "
          f"{sandbox_cpu * 1e3:.0f} ms CPU each, so <= {cores / sandbox_cpu:.0f}/s on {cores} idle cores")
    print(f"bare python, {cores} at a time:  {bare_n:6.1f} programs/s; {bare_cpu * 1e3:.0f} ms CPU each; "
          f"isolation costs {bare_n / sandboxed_n:.1f}x in throughput")


if __name__ == "__main__":
    main()
