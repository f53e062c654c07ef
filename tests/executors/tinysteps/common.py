"""What the tiny steps share: permissive params, a seeded generator, worker evidence and an optional pause."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

SLEEP_ENV = "TINY_STEP_SLEEP"


class Params(BaseModel):
    """Whatever the planner passes; the tiny steps read the few fields they need."""

    model_config = ConfigDict(extra="allow", frozen=True)


def rng(*parts: Any) -> np.random.Generator:
    """A generator seeded by a hash of ``parts`` (same numbers on every worker)."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def read_json(path: Path) -> Any:
    """Load one JSON file."""
    return json.loads(path.read_text())


def write_json(path: Path, value: Any) -> None:
    """Write one JSON file."""
    path.write_text(json.dumps(value, sort_keys=True))


def record_worker(out: Path, kind: str) -> None:
    """Write who ran the step and what the cluster granted it (Ray's assigned resources, Slurm's job id)."""
    evidence: dict[str, Any] = {"kind": kind, "host": socket.gethostname(), "pid": os.getpid(),
                                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                                "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
                                "slurm_cpus_per_task": os.environ.get("SLURM_CPUS_PER_TASK"),
                                "slurm_restart_count": os.environ.get("SLURM_RESTART_COUNT")}
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        evidence["ray_assigned"] = ray.get_runtime_context().get_assigned_resources()
    write_json(out / "worker.json", evidence)


def pause(kind: str) -> None:
    """Sleep ``TINY_STEP_SLEEP`` seconds for fine-tunes, so a test can kill a worker mid-step."""
    if kind == "finetune":
        time.sleep(float(os.environ.get(SLEEP_ENV, "0")))
