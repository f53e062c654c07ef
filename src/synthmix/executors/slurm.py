"""The Slurm executor: one submitit job per ready step (or one job array per wave), running ``execute_step``.

A job asks Slurm for the step's CPUs, GPUs, memory and time (``StepSpec.resources``) on the study's partition
(the study's ``cluster.slurm`` settings, when present). With ``arrays`` (``cluster.slurm.array``), the steps
the driver submits between two polls (a wave of ready steps) go to Slurm as one job array per distinct
request, so a wide study queues a few arrays instead of hundreds of jobs. Workers write into the shared
store and commit atomically; the driver polls the jobs' result files and the queue, and alone writes the
database. On preemption or at the time limit Slurm signals the job (``USR2``, 90 s ahead), submitit
requeues it naming the stopped attempt's temporary folder, Slurm holds it for the credential lifetime
(120 s by default) and the rerun adopts that folder on whichever node it lands, so a fine-tune resumes
from its ``_checkpoint/``.
A job that leaves the queue without a result (node failure, ``scancel``) becomes a failed outcome.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthmix.errors import StepError
from synthmix.executors.base import Executor, Outcome, StepSpec, execute_step
from synthmix.store import Store

DEFAULT_TIME_MIN = 60
QUEUE_GRACE_S = 30.0
POLL_S = 1.0


class StepJob:
    """The callable a Slurm job runs: ``execute_step``, requeued (not failed) when Slurm preempts it.

    On ``USR2`` the resubmitted job carries the path of this attempt's temporary folder, so the rerun adopts
    it (and resumes from its ``_checkpoint/``) even when Slurm starts it on another node.
    """

    def __init__(self, adopt: Path | None = None) -> None:
        self.preempted = False
        self.adopt = adopt

    def __call__(self, spec: StepSpec) -> Outcome:
        """Run the step; after a preemption signal, exit so that the requeued job reruns it."""
        outcome = execute_step(spec, self.adopt)
        if self.preempted:
            raise SystemExit(-1)
        return outcome

    def checkpoint(self, spec: StepSpec) -> Any:
        """Called by submitit on ``USR2``: resubmit the same step, pointing the rerun at this attempt's folder."""
        import submitit

        self.preempted = True
        attempt = Store(Path(spec.store_root)).own_attempt(spec.kind, spec.artifact_id)
        return submitit.helpers.DelayedSubmission(StepJob(attempt or self.adopt), spec)


def cluster_settings(study: Any) -> dict[str, Any]:
    """The study's ``cluster.slurm`` settings as a mapping (empty when the study has none)."""
    slurm = getattr(getattr(study, "cluster", None), "slurm", None)
    if slurm is None:
        return {}
    return slurm.model_dump() if hasattr(slurm, "model_dump") else dict(slurm)


def job_parameters(spec: StepSpec, settings: dict[str, Any]) -> dict[str, Any]:
    """sbatch settings (submitit's ``SlurmExecutor`` names) of one step's job: resources from the spec, site from the study."""
    r = spec.resources
    if spec.timeout_s:
        minutes = math.ceil(spec.timeout_s / 60)
    else:
        minutes = int(r.get("time_min") or settings.get("time_min") or DEFAULT_TIME_MIN)
    params: dict[str, Any] = {
        "job_name": f"synthmix-{spec.kind}",
        "time": minutes,
        "nodes": 1,
        "ntasks_per_node": 1,
        "cpus_per_task": max(1, math.ceil(r.get("cpus", 1.0))),
    }
    gpus = math.ceil(r.get("gpus", 0.0))
    if gpus:
        params["gpus_per_node"] = gpus
    if r.get("memory_gb"):
        params["mem"] = f"{math.ceil(r['memory_gb'])}GB"
    for key in ("partition", "account", "qos", "constraint"):
        if settings.get(key):
            params[key] = settings[key]
    if settings.get("setup"):
        params["setup"] = list(settings["setup"])
    if settings.get("additional"):
        params["additional_parameters"] = dict(settings["additional"])
    return params


def requeues_allowed(spec: StepSpec, settings: dict[str, Any]) -> int:
    """How often a job may be requeued at its time limit: none under a study timeout (a hard limit)."""
    return 0 if spec.timeout_s else int(settings.get("max_requeues", 3))


@dataclass(eq=False)
class _Handle:
    spec: StepSpec
    job: Any
    submitted: float
    missing_since: float | None = None


class SlurmExecutor(Executor):
    """Submits steps to Slurm through submitit; logs and job pickles go to ``folder``."""

    def __init__(self, folder: Path, jobs: int = 1, settings: Any = None, queue_grace_s: float = QUEUE_GRACE_S,
                 arrays: bool | None = None) -> None:
        try:
            import submitit
        except ImportError:
            raise StepError("the slurm executor needs submitit: pip install 'synthmix[slurm]'") from None
        self.submitit = submitit
        self.folder = Path(folder)
        self.jobs = jobs
        self.settings = cluster_settings(settings)
        self.arrays = bool(self.settings.get("array")) if arrays is None else arrays
        self.queue_grace_s = queue_grace_s
        self.running: list[_Handle] = []
        self.wave: list[_Handle] = []

    def submit(self, spec: StepSpec) -> _Handle:
        """Submit one step as a Slurm job; with arrays, hold it for the wave that ``wait`` submits."""
        handle = _Handle(spec, None, time.time())
        if self.arrays:
            self.wave.append(handle)
        else:
            handle.job = self._submit_jobs([spec])[0]
        self.running.append(handle)
        return handle

    def _submit_jobs(self, specs: list[StepSpec]) -> list[Any]:
        """sbatch steps that share one resource request: a single job, or a job array of several."""
        executor = self.submitit.SlurmExecutor(folder=self.folder,
                                               max_num_timeout=requeues_allowed(specs[0], self.settings))
        executor.update_parameters(**job_parameters(specs[0], self.settings))
        try:
            if len(specs) == 1:
                return [executor.submit(StepJob(), specs[0])]
            return executor.map_array(StepJob(), specs)
        except (self.submitit.core.utils.UncompletedJobError, OSError) as e:
            raise StepError(f"sbatch refused {', '.join(s.label for s in specs)}: {e}") from None

    def _submit_wave(self) -> None:
        """Submit the held steps as one job array per distinct request (sbatch settings and requeues)."""
        groups: dict[str, list[_Handle]] = {}
        for h in self.wave:
            key = json.dumps([job_parameters(h.spec, self.settings), requeues_allowed(h.spec, self.settings)],
                             sort_keys=True)
            groups.setdefault(key, []).append(h)
        self.wave = []
        for group in groups.values():
            for h, job in zip(group, self._submit_jobs([h.spec for h in group]), strict=True):
                h.job = job

    def wait(self, handles: list[_Handle], timeout: float | None = None) -> list[tuple[_Handle, Outcome]]:
        """Poll result files and the queue until a job ends (or ``timeout``); return the ended ones."""
        if self.wave:
            self._submit_wave()
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            queued = self._queued_ids()
            done = [(h, o) for h in handles if (o := self._poll(h, queued)) is not None]
            if done or (end is not None and time.monotonic() >= end):
                break
            time.sleep(POLL_S if end is None else max(0.0, min(POLL_S, end - time.monotonic())))
        for h, _ in done:
            self.running.remove(h)
        return done

    def _poll(self, h: _Handle, queued: set[str] | None) -> Outcome | None:
        """The outcome of a job that ended: its returned Outcome, or a failure when it left without one."""
        if h.job.paths.result_pickle.exists():
            try:
                return h.job.result()
            except Exception as e:
                return Outcome(h.spec.artifact_id, False, started=h.submitted,
                               error=f"Slurm job {h.job.job_id} failed: {e}")
        if queued is None or h.job.job_id in queued:
            h.missing_since = None
            return None
        h.missing_since = h.missing_since or time.monotonic()
        if time.monotonic() - h.missing_since < self.queue_grace_s:
            return None
        log = (h.job.stderr() or "").strip().splitlines()[-20:]
        return Outcome(h.spec.artifact_id, False, started=h.submitted,
                       error=f"Slurm job {h.job.job_id} left the queue without a result (state {h.job.state}); "
                             f"log {h.job.paths.stderr}:\n" + "\n".join(log))

    def _queued_ids(self) -> set[str] | None:
        """Job ids Slurm still holds (pending, running, requeued; array tasks one by one); None when squeue cannot answer."""
        ids = ",".join(h.job.job_id for h in self.running)
        if not ids:
            return set()
        try:
            out = subprocess.run(["squeue", "-h", "-r", "-o", "%i", "--jobs", ids], capture_output=True, text=True,
                                 timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode != 0:
            return set() if "Invalid job id" in out.stderr else None
        return set(out.stdout.split())

    def shutdown(self) -> None:
        """Cancel the jobs this executor submitted that are still queued or running."""
        for h in self.running:
            if h.job is not None:
                h.job.cancel(check=False)
        self.running.clear()
        self.wave.clear()
