"""The executor interface and the one function every worker runs, wherever it runs.

An executor only moves ``StepSpec``s to workers and ``Outcome``s back: ``submit(spec) → handle`` and
``wait(handles) → finished``. The study logic (what is ready, what failed, ingestion) lives in the
driver; the commit protocol lives in the store. So local, Ray and Slurm runs give the same artifacts.
"""

from __future__ import annotations

import os
import resource
import socket
import time
import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.errors import StoreError
from synthmix.store import CHECKPOINT_DIR, FAILURE_RECORD, Store, disk_full, folder_bytes, is_disk_full


@dataclass(frozen=True)
class StepSpec:
    """Everything a worker needs to compute one artifact (plain data, picklable)."""

    kind: str
    artifact_id: str
    params: dict[str, Any]
    inputs: dict[str, str]
    store_root: str
    label: str
    module: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None
    resources: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """How a step ended: ``ok`` (committed or already there), or failed with the error text."""

    artifact_id: str
    ok: bool
    error: str = ""
    wall_s: float = 0.0
    started: float = 0.0
    committed: bool = False
    worker: str = ""
    disk_full: str = ""  # the "no space left on ..." message when the disk filled up (not a failure of the step)


def _device() -> str:
    """The accelerator this worker used, without importing torch if the step did not."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    return "cpu"


def _quiet_progress_bars() -> None:
    """Keep library progress bars (weight loading, shard writing) out of the run's output."""
    import sys

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    transformers = sys.modules.get("transformers")
    if transformers is not None:
        transformers.utils.logging.disable_progress_bar()


def execute_step(spec: StepSpec, adopt: Path | None = None) -> Outcome:
    """Run one step into a temporary folder and commit it; errors come back in the Outcome.

    Only an interrupt or ``SystemExit`` (a cluster preempting the job to requeue it) propagates; the temporary
    folder then stays for the next attempt to adopt, with its checkpoint (``adopt`` names it when that attempt
    may run on another host).
    """
    from synthmix.steps import load_step_module
    from synthmix.tasks.registry import import_task_modules

    _quiet_progress_bars()
    store = Store(Path(spec.store_root))
    worker = f"{socket.gethostname()}:{os.getpid()}"
    started = time.time()
    if store.is_done(spec.kind, spec.artifact_id):
        return Outcome(spec.artifact_id, True, started=started, worker=worker)
    tmp = None
    try:
        import_task_modules(spec.extras.get("task_modules", []))  # the study's register_task calls, in this worker
        module = load_step_module(spec.kind, spec.module)
        params = module.Params.model_validate(spec.params)
        inputs = {name: store.path(kind, aid) for name, (kind, aid) in _split_inputs(spec.inputs).items()}
        _check_inputs(store, spec)
        tmp = store.begin(spec.kind, spec.artifact_id, adopt)
        t0 = time.perf_counter()
        module.run(inputs, params, tmp)
        wall = time.perf_counter() - t0
        manifest = {
            "id": spec.artifact_id,
            "kind": spec.kind,
            "label": spec.label,
            "code_version": spec.extras.get("code_version"),
            "module": module.__name__,
            "params": spec.params,
            "inputs": spec.inputs,
            "identity": spec.extras.get("identity"),
            "wall_s": wall,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "device": _device(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "resources": spec.resources,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "finished_ts": time.time(),
        }
        committed = store.commit(spec.kind, spec.artifact_id, tmp, manifest)
        return Outcome(spec.artifact_id, True, wall_s=wall, started=started, committed=committed, worker=worker)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        if is_disk_full(error):
            partial = folder_bytes(tmp) if tmp is not None else 0
            if tmp is not None:
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)
            message = str(disk_full(store.root, max(partial, _typical_bytes(store, spec.kind))))
            return Outcome(spec.artifact_id, False, error=message, wall_s=time.time() - started, started=started,
                           worker=worker, disk_full=message)
        if tmp is not None and (tmp / FAILURE_RECORD).is_file():
            store.keep_failed(spec.kind, spec.artifact_id, tmp)
        elif tmp is not None and tmp.exists() and not (tmp / CHECKPOINT_DIR).exists():
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        return Outcome(spec.artifact_id, False, error=traceback.format_exc(), wall_s=time.time() - started,
                       started=started, worker=worker)


def _check_inputs(store: Store, spec: StepSpec) -> None:
    """Raise StoreError naming an input artifact whose files are missing or of the wrong size (the driver hashed them)."""
    for ref in spec.inputs.values():
        kind, aid = ref.split("/", 1)
        problems = store.damage(kind, aid, full=False)
        if problems:
            raise StoreError(f"input artifact {ref} is damaged ({'; '.join(problems)}); run the study again with "
                             "--retry-failed to recompute it and this step")


def _typical_bytes(store: Store, kind: str) -> int:
    """Size of the largest committed artifact of a kind: about what another one needs on disk."""
    return max((folder_bytes(store.path(k, aid)) for k, aid in store.artifacts() if k == kind), default=0)


def _split_inputs(inputs: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Inputs travel as ``name → "kind/id"``; split them back."""
    out = {}
    for name, ref in inputs.items():
        kind, aid = ref.split("/", 1)
        out[name] = (kind, aid)
    return out


class Executor(ABC):
    """Moves step specs to workers and outcomes back; knows nothing about studies."""

    @abstractmethod
    def submit(self, spec: StepSpec) -> Any:
        """Start a step; returns a handle."""

    @abstractmethod
    def wait(self, handles: list[Any], timeout: float | None = None) -> list[tuple[Any, Outcome]]:
        """Block until at least one handle finishes (or ``timeout``); return the finished ones."""

    def shutdown(self) -> None:
        """Stop workers the executor started."""
