"""Loading models and tokenizers by hub id or local path: one code path for Pythia and the mini ladder.

Where a model goes is a ``Placement`` chosen from the GPUs a step can see (``CUDA_VISIBLE_DEVICES``, as
Slurm and Ray set it from the step's resource request):
- no GPU: CPU, fp32, loaded exactly as before there were placements (CPU results do not depend on this module);
- one GPU: the whole model on it; fine-tuning keeps fp32 weights under bf16 autocast, inference loads bf16;
- several GPUs: naive model parallelism through accelerate. The model's layers are spread over the GPUs by
  a device map (``accelerate.infer_auto_device_map`` on an empty model, balanced like transformers'
  ``device_map="auto"``) under a ``max_memory`` budget per GPU that leaves ``ACTIVATION_RESERVE`` of each
  card for activations and divides the rest by what each parameter costs: 1× its weights for inference
  and LoRA (frozen base, adapter state < 1 %), 4× for a full fine-tune (fp32 weights, gradients and two
  AdamW moments, 16 bytes per parameter). accelerate's hooks move activations between cards and return
  outputs to the input's device, so the one-process training loop and scoring run unchanged. One GPU
  works at a time (no pipelining): the point is fitting Pythia-12B LoRA on 2 GPUs and a full 12B fine-tune
  on 4 of 80 GB, inside the one-process step contract. Data parallelism (DDP via ``accelerate launch``)
  would need several processes per step and is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from synthmix.errors import StepError

Purpose = Literal["inference", "lora", "full"]
ACTIVATION_RESERVE = 0.2  # share of every GPU kept free for activations, logits and the CUDA context
STATE_MULTIPLIER: dict[str, float] = {"inference": 1.0, "lora": 1.0, "full": 4.0}


@dataclass(frozen=True)
class Placement:
    """Where a model is loaded: ``cpu``, one ``cuda`` device, or ``sharded`` over GPUs with a per-GPU budget."""

    kind: Literal["cpu", "cuda", "sharded"]
    dtype: str | None = None  # torch dtype name to load in; None = the checkpoint's default (fp32)
    max_memory: dict[int, int] | None = None  # GPU index → bytes of parameters it may hold (sharded only)


def gpu_max_memory(total_bytes: Sequence[int], purpose: Purpose, reserve: float = ACTIVATION_RESERVE) -> dict[int, int]:
    """Bytes of *parameters* (in their load dtype) each GPU may hold for ``purpose``, given each card's total memory."""
    if not 0.0 <= reserve < 1.0:
        raise StepError(f"the GPU memory reserve must be in [0, 1) (got {reserve})")
    return {i: int(total * (1.0 - reserve) / STATE_MULTIPLIER[purpose]) for i, total in enumerate(total_bytes)}


def choose_placement(gpu_total_bytes: Sequence[int], purpose: Purpose, bf16: bool = True) -> Placement:
    """The placement for the visible GPUs (their total memory in bytes; empty = CPU) and what the model is for."""
    if not gpu_total_bytes:
        return Placement("cpu")
    dtype = "bfloat16" if purpose == "inference" and bf16 else None
    if len(gpu_total_bytes) == 1:
        return Placement("cuda", dtype)
    return Placement("sharded", dtype, gpu_max_memory(gpu_total_bytes, purpose))


def detect_placement(purpose: Purpose) -> Placement:
    """``choose_placement`` for the GPUs this process sees."""
    import torch

    if not torch.cuda.is_available():
        return Placement("cpu")
    totals = [torch.cuda.get_device_properties(i).total_memory for i in range(torch.cuda.device_count())]
    return choose_placement(totals, purpose, bf16=torch.cuda.is_bf16_supported())


def device_map_for(config: Any, max_memory: dict[int, int], dtype: str | None = None) -> dict[str, int]:
    """Module name → GPU index: the model of ``config`` built empty and spread evenly under ``max_memory``."""
    import torch
    from accelerate import infer_auto_device_map, init_empty_weights
    from accelerate.utils import get_balanced_memory
    from transformers import AutoModelForCausalLM

    torch_dtype = getattr(torch, dtype) if dtype else torch.float32
    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(config)
    keep_whole = list(getattr(model, "_no_split_modules", None) or [])
    budget = get_balanced_memory(model, max_memory=dict(max_memory), no_split_module_classes=keep_whole,
                                 dtype=torch_dtype)
    device_map = infer_auto_device_map(model, max_memory=budget, no_split_module_classes=keep_whole, dtype=torch_dtype)
    off_gpu = sorted({d for d in device_map.values() if not isinstance(d, int)})
    if off_gpu:
        need = sum(p.numel() for p in model.parameters()) * torch.tensor([], dtype=torch_dtype).element_size()
        raise StepError(f"the model ({need / 1e9:.1f} GB of parameters) does not fit the GPUs' budgets "
                        f"({', '.join(f'{b / 1e9:.1f}' for b in max_memory.values())} GB); request more GPUs")
    return dict(device_map)


def load_tokenizer(name_or_path: str | Path, revision: str | None = None) -> Any:
    """``AutoTokenizer.from_pretrained`` with a pad token set and left padding (for batched generation).

    A tokenizer without a pad token (GPT-2, Llama) pads with its EOS token: padded positions are masked
    out of attention and loss, so which id fills them does not matter. A chat template, if any, is never
    applied: prompts are the task's plain few-shot text, the same for base and instruction-tuned models.
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(name_or_path), revision=revision)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise StepError(f"{name_or_path}: the tokenizer has neither a pad nor an EOS token; add an eos_token "
                            "to its tokenizer_config.json (generation stops on it)")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def load_model(name_or_path: str | Path, revision: str | None = None, **kwargs: Any) -> Any:
    """``AutoModelForCausalLM.from_pretrained`` (a hub id such as ``EleutherAI/pythia-410m`` or a saved mini rung)."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(name_or_path), revision=revision, **kwargs)


def place_model(name_or_path: str | Path, placement: Placement | None, revision: str | None = None) -> Any:
    """Load a model where ``placement`` says (None or ``cpu``: plain ``load_model``, on CPU in fp32)."""
    if placement is None or placement.kind == "cpu":
        return load_model(name_or_path, revision=revision)
    import torch

    options: dict[str, Any] = {"dtype": getattr(torch, placement.dtype)} if placement.dtype else {}
    if placement.kind == "cuda":
        return load_model(name_or_path, revision=revision, **options).to("cuda")
    from transformers import AutoConfig

    assert placement.max_memory is not None
    config = AutoConfig.from_pretrained(str(name_or_path), revision=revision)
    device_map = device_map_for(config, placement.max_memory, placement.dtype)
    return load_model(name_or_path, revision=revision, device_map=device_map, **options)
