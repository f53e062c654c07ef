"""What a step asks a cluster for (CPUs, GPUs, memory, time), by step kind and model size.

Used by the driver to fill ``StepSpec.resources``, which the Ray executor turns into task options and the
Slurm executor into sbatch settings. Mini ladder rungs run on CPU with the study's thread count; hub models
(the Pythia ladder) get GPUs sized from a memory estimate: bf16 weights, and for a fine-tune the gradients
and AdamW state (full) or only adapter state (LoRA), plus activation headroom. The numbers are requests,
not step parameters: they never enter an artifact id, so changing them reuses every finished artifact.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

GPU_MEMORY_GB = 80.0
BYTES_BF16 = 2
# Bytes per parameter of a full bf16 fine-tune with AdamW: bf16 weights and grads, fp32 master copy, two fp32 moments.
FULL_FINETUNE_BYTES = 2 + 2 + 4 + 8
ACTIVATION_HEADROOM = 1.25
CPUS_PER_GPU = 4
# Hours per billion parameters of a 1,000-example, 3-epoch fine-tune on one 80 GB GPU, with generous slack.
HOURS_PER_BILLION = {"finetune": 0.5, "generate": 0.25, "evaluate": 0.25}
MIN_MINUTES = {"pretrain": 60, "finetune": 30, "generate": 30, "evaluate": 30, "mix": 10}
SIZE_PATTERN = re.compile(r"(\d+(?:\.\d+)?)([kmb])\b", re.IGNORECASE)
SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}


@dataclass(frozen=True)
class Resources:
    """One step's request: CPU cores, whole GPUs, host memory in GB, wall-time limit in minutes."""

    cpus: float
    gpus: float
    memory_gb: float
    time_min: float

    def as_dict(self) -> dict[str, float]:
        """The plain mapping that travels in ``StepSpec.resources``."""
        return {k: float(v) for k, v in asdict(self).items()}


def parameter_count(model: str) -> float | None:
    """Parameters named by a model id (``EleutherAI/pythia-6.9b`` → 6.9e9, ``mini-2.2m`` → 2.2e6), or None."""
    matches = SIZE_PATTERN.findall(model.rsplit("/", 1)[-1])
    if not matches:
        return None
    value, unit = matches[-1]
    return float(value) * SCALE[unit.lower()]


def gpu_memory_gb(kind: str, n_params: float, method: str = "full") -> float:
    """Estimated accelerator memory of a step in GB: weights, plus training state for a fine-tune, with headroom."""
    weights = n_params * BYTES_BF16
    if kind == "finetune":
        state = n_params * FULL_FINETUNE_BYTES if method == "full" else weights + 0.02 * n_params * FULL_FINETUNE_BYTES
    else:
        state = weights
    return state * ACTIVATION_HEADROOM / 1e9


def gpus_needed(kind: str, n_params: float, method: str = "full", gpu_memory: float = GPU_MEMORY_GB) -> int:
    """Whole GPUs of ``gpu_memory`` GB that hold a step, rounded up to a power of two (sharded with accelerate)."""
    if kind == "mix":
        return 0
    need = max(1, math.ceil(gpu_memory_gb(kind, n_params, method) / gpu_memory))
    return 1 << (need - 1).bit_length()


def step_resources(kind: str, model: str, method: str = "full", threads: int = 1,
                   gpu_memory: float = GPU_MEMORY_GB) -> Resources:
    """Default request of one step of ``kind`` on ``model`` (a mini rung, a hub id or a local path)."""
    n_params = parameter_count(model)
    on_cpu = model.startswith("mini-") or n_params is None or kind == "mix"
    if on_cpu:
        memory = 4.0 if kind in ("pretrain", "finetune") else 2.0
        return Resources(cpus=threads, gpus=0, memory_gb=memory, time_min=MIN_MINUTES[kind])
    gpus = gpus_needed(kind, n_params, method, gpu_memory)
    memory = max(16.0, 2.5 * n_params * BYTES_BF16 / 1e9)
    hours = HOURS_PER_BILLION.get(kind, 0.0) * n_params / 1e9 / gpus
    minutes = max(MIN_MINUTES[kind], math.ceil(60 * hours))
    return Resources(cpus=max(threads, CPUS_PER_GPU * gpus), gpus=gpus, memory_gb=math.ceil(memory),
                     time_min=minutes)


def requested_resources(kind: str, model: str, asked: Any | None, method: str = "full", threads: int = 1) -> Resources:
    """A step's request: the study's ``resources`` (``config.ResourceSettings``) over the name-based guess, key by key.

    Mix steps keep their CPU-only guess whatever the study asks (they only shuffle rows).
    """
    guess = step_resources(kind, model, method=method, threads=threads)
    if asked is None or kind == "mix":
        return guess
    return Resources(cpus=asked.cpus if asked.cpus is not None else guess.cpus,
                     gpus=asked.gpus if asked.gpus is not None else guess.gpus,
                     memory_gb=asked.memory if asked.memory is not None else guess.memory_gb,
                     time_min=asked.time if asked.time is not None else guess.time_min)


def model_resources(study: Any, model: str) -> Any | None:
    """The study's ``resources`` for ``model``: its entry under ``resources:``, else the first block naming it that has some."""
    if model in study.resources:
        return study.resources[model]
    return next((b.resources for b in study.blocks if model in b.models and b.resources is not None), None)
