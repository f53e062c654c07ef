"""The Ray executor: each ready step becomes a Ray task that runs ``execute_step`` on some worker of a cluster.

A task asks Ray for the step's CPUs, GPUs and memory (``StepSpec.resources``). Workers write into the shared
store and commit atomically; only outcomes travel back, and the driver alone writes the database. A worker
that dies mid-step (killed, out of memory, node lost) is a system failure: Ray reruns the task up to
``max_retries`` times, and the store's idempotent commit makes the rerun safe (the new attempt adopts the
dead attempt's temporary folder, so a fine-tune resumes from its ``_checkpoint/``). Workers must import
``synthmix`` and any ``step_modules`` of the study: start the cluster from the same environment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from synthmix.errors import StepError
from synthmix.executors.base import Executor, Outcome, StepSpec, execute_step

GIB = 1 << 30


def task_options(resources: dict[str, float], max_retries: int) -> dict[str, Any]:
    """Ray task options for a step's resource request (memory is a scheduling reservation in bytes)."""
    options: dict[str, Any] = {
        "num_cpus": resources.get("cpus", 1.0),
        "num_gpus": resources.get("gpus", 0.0),
        "max_retries": max_retries,
        "retry_exceptions": False,
    }
    if resources.get("memory_gb"):
        options["memory"] = int(resources["memory_gb"] * GIB)
    return options


@dataclass(eq=False)
class _Handle:
    spec: StepSpec
    ref: Any
    deadline: float | None
    submitted: float = field(default_factory=time.time)


class RayExecutor(Executor):
    """Runs steps as Ray tasks on a running cluster (``address``) or on a local one Ray starts for this run."""

    def __init__(self, address: str | None = None, jobs: int = 1, max_retries: int = 3) -> None:
        try:
            import ray
        except ImportError:
            raise StepError("the ray executor needs Ray: pip install 'synthmix[ray]'") from None
        self.ray = ray
        self.jobs = jobs
        self.max_retries = max_retries
        local = {} if address else {"include_dashboard": False}
        try:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, **local)
        except (ConnectionError, RuntimeError) as e:
            raise StepError(f"cannot connect to the Ray cluster at {address or 'a new local cluster'}: {e}") from None
        self._run = ray.remote(execute_step)
        self.running: list[_Handle] = []

    def submit(self, spec: StepSpec) -> _Handle:
        """Start a step as a Ray task with its resources."""
        ref = self._run.options(name=f"synthmix-{spec.kind}", **task_options(spec.resources, self.max_retries)).remote(spec)
        deadline = time.monotonic() + spec.timeout_s if spec.timeout_s else None
        handle = _Handle(spec, ref, deadline)
        self.running.append(handle)
        return handle

    def wait(self, handles: list[_Handle], timeout: float | None = None) -> list[tuple[_Handle, Outcome]]:
        """Return the handles whose task finished, failed for good, or ran past its deadline."""
        limits = [h.deadline - time.monotonic() for h in handles if h.deadline is not None]
        if timeout is not None:
            limits.append(timeout)
        limit = max(0.0, min(limits)) if limits else None
        by_ref = {h.ref: h for h in handles}
        ready, _ = self.ray.wait(list(by_ref), num_returns=1, timeout=limit)
        if ready:
            ready, _ = self.ray.wait(list(by_ref), num_returns=len(by_ref), timeout=0)
        done = [(by_ref[ref], self._outcome(by_ref[ref])) for ref in ready]
        now = time.monotonic()
        for h in handles:
            if h.ref not in ready and h.deadline is not None and now > h.deadline:
                self.ray.cancel(h.ref, force=True)
                done.append((h, Outcome(h.spec.artifact_id, False,
                                        error=f"timed out after {h.spec.timeout_s:g} s ({h.spec.kind} timeout in the study)")))
        for h, _ in done:
            self.running.remove(h)
        return done

    def _outcome(self, h: _Handle) -> Outcome:
        """The outcome a finished task returned, or a failure naming what Ray reported."""
        try:
            return self.ray.get(h.ref)
        except self.ray.exceptions.RayError as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            return Outcome(h.spec.artifact_id, False, started=h.submitted,
                           error=f"{type(e).__name__} after {self.max_retries} retries: {reason}")

    def shutdown(self) -> None:
        """Cancel the tasks still running and disconnect (a cluster started by ``ray.init`` stops with it)."""
        for h in self.running:
            self.ray.cancel(h.ref, force=True)
        self.running.clear()
        self.ray.shutdown()
