"""The default executor: each step in its own process, at most ``jobs`` at a time, killed on timeout.

Processes come from a forkserver that has torch and transformers imported once, so a step starts in
milliseconds yet runs in a clean process (its own peak RSS, its own thread settings). Every step process
asks the kernel to kill it when its parent (the forkserver) dies, and the forkserver asks the same against
the driver (``deathsig``), so a ``kill -9`` of the driver leaves no worker behind; on SIGINT/SIGTERM the
driver kills its steps, the forkserver and the resource tracker itself (``stop_helpers``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait as wait_ready
from typing import Any

from synthmix.executors.base import Executor, Outcome, StepSpec, execute_step
from synthmix.executors.deathsig import DRIVER_PID, die_with_parent

PRELOAD = ["synthmix.executors.deathsig", "synthmix.executors.base", "synthmix.store", "torch", "transformers",
           # the lazily imported model classes cost ~3-6 s per step process when not preloaded
           "transformers.models.auto.modeling_auto", "transformers.models.gpt_neox.modeling_gpt_neox",
           "transformers.models.auto.tokenization_auto", "synthmix.models.training", "synthmix.models.generation",
           "synthmix.models.scoring"]


def _child(spec: StepSpec, conn: Connection, environ: dict[str, str]) -> None:
    """Body of a step process: the driver's current environment, own process group, die with the parent, run, report."""
    os.environ.clear()
    os.environ.update(environ)
    os.setpgid(0, 0)
    die_with_parent()
    outcome = execute_step(spec)
    conn.send(outcome)
    conn.close()


@dataclass(eq=False)
class _Handle:
    """A running step process; compared by identity so it can key the driver's table."""

    spec: StepSpec
    process: Any
    conn: Connection
    deadline: float | None


class LocalExecutor(Executor):
    """Runs steps in child processes of this machine."""

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs
        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(PRELOAD)
        os.environ[DRIVER_PID] = str(os.getpid())
        self.running: list[_Handle] = []

    @property
    def capacity(self) -> int:
        """How many more steps may start now."""
        return self.jobs - len(self.running)

    def submit(self, spec: StepSpec) -> _Handle:
        """Start a step process."""
        recv, send = self.ctx.Pipe(duplex=False)
        process = self.ctx.Process(target=_child, args=(spec, send, dict(os.environ)), name=f"synthmix-{spec.kind}")
        process.start()
        send.close()
        deadline = time.monotonic() + spec.timeout_s if spec.timeout_s else None
        handle = _Handle(spec, process, recv, deadline)
        self.running.append(handle)
        return handle

    def wait(self, handles: list[_Handle], timeout: float | None = None) -> list[tuple[_Handle, Outcome]]:
        """Return the handles that finished, failed, died or ran past their deadline."""
        limits = [h.deadline - time.monotonic() for h in handles if h.deadline is not None]
        if timeout is not None:
            limits.append(timeout)
        limit = max(0.0, min(limits)) if limits else None
        wait_ready([h.conn for h in handles] + [h.process.sentinel for h in handles], timeout=limit)
        done = []
        for h in handles:
            outcome = self._poll(h)
            if outcome is not None:
                done.append((h, outcome))
                self.running.remove(h)
        return done

    def _poll(self, h: _Handle) -> Outcome | None:
        """The outcome of one handle if it has ended, killing it when past its deadline."""
        aid = h.spec.artifact_id
        if h.conn.poll():
            try:
                outcome = h.conn.recv()
            except EOFError:
                outcome = None
            h.process.join()
            if outcome is not None:
                return outcome
            return Outcome(aid, False, error=f"worker exited with code {h.process.exitcode} before reporting")
        if not h.process.is_alive():
            h.process.join()
            return Outcome(aid, False, error=f"worker died (exit code {h.process.exitcode}) while running {h.spec.label}")
        if h.deadline is not None and time.monotonic() > h.deadline:
            self._kill(h)
            return Outcome(aid, False, error=f"timed out after {h.spec.timeout_s:g} s ({h.spec.kind} timeout in the study)")
        return None

    def _kill(self, h: _Handle) -> None:
        """Kill a step's whole process group (and the process itself, in case it had not made its group yet)."""
        for kill in (os.killpg, os.kill):
            try:
                kill(h.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        h.process.join()

    def shutdown(self) -> None:
        """Kill whatever still runs."""
        for h in list(self.running):
            self._kill(h)
        self.running.clear()


def stop_helpers() -> None:
    """Kill this process's step processes, forkserver and resource tracker (on SIGINT/SIGTERM, so nothing outlives
    the driver). A signal between a worker's start and its registration in ``running`` leaves a worker no executor
    knows; multiprocessing would join it at exit and the driver would hang until the step ended."""
    from multiprocessing import active_children, forkserver, resource_tracker

    for child in active_children():
        for kill in (os.killpg, os.kill):
            try:
                kill(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        child.join(timeout=5)
    for pid in (getattr(forkserver._forkserver, "_forkserver_pid", None),
                getattr(resource_tracker._resource_tracker, "_pid", None)):
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
