"""The finetune step: full fine-tuning or LoRA (peft) of a model on one training mix, resumable.

Starts from the ``init`` input (a pretrained mini rung or an earlier fine-tune) or, when there is
none, from ``params.model`` (hub id or local path). The loss is taken on the answer part only by
default (``task.target(ex)`` after ``task.prompt(ex)``; ``loss_on: all`` trains on the whole text).
The data order depends on ``seed`` only, so every share of a condition sees its mix in the same order.
bf16 autocast is used only on a GPU that supports it (``precision: auto``). Writes the model (LoRA:
the adapters, not merged, with their base model recorded store-relative: ``models.adapters``) and
tokenizer with ``save_pretrained`` and ``step_log.json`` (with the training loss of every step and the
loss on the first ``HELDOUT_N`` examples of the task's tuning split along the way).

Devices (``models.loading.Placement``): on CPU the model loads and trains in fp32 exactly as without
GPUs; on one GPU it moves there; given several GPUs (a step's resource request for the largest sizes)
its layers are spread over them by accelerate's device map with a per-GPU budget sized for LoRA or a
full fine-tune (naive model parallelism in this one process; see ``models.loading``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field



class Lora(BaseModel):
    """LoRA adapter shape."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    r: int = Field(gt=0)
    alpha: int = Field(gt=0)
    dropout: float = Field(ge=0.0, lt=1.0)
    target_modules: list[str] | None = None  # None: peft's default for the model's architecture


class Training(BaseModel):
    """The study's training settings (see ``synthmix.config.TrainingSettings``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["full", "lora"]
    epochs: float = Field(gt=0)
    lr: float = Field(gt=0)
    batch_size: int = Field(gt=0)
    grad_accum: int = Field(gt=0)
    warmup_ratio: float = Field(ge=0.0, lt=1.0)
    weight_decay: float = Field(ge=0.0)
    max_length: int = Field(gt=0)
    loss_on: Literal["answer", "all"]
    init_from: Literal["iteration-0", "previous"]
    precision: Literal["auto", "fp32", "bf16"]
    gradient_checkpointing: bool
    lora: Lora


class Params(BaseModel):
    """Everything that decides the fine-tuned weights."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str  # hub id, local path or mini rung (a rung arrives as the ``init`` input)
    revision: str | None = None  # hub models only
    task: str
    task_options: dict[str, Any]
    seed: int = Field(ge=0)
    training: Training
    threads: int = Field(ge=1)


def _autocast_dtype(precision: str) -> Any:
    """bf16 where asked or (``auto``) where the GPU supports it; fp32 otherwise."""
    import torch

    if precision == "fp32" or not torch.cuda.is_available():
        return None
    if precision == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def _base_record(inputs: dict[str, Path], params: Params) -> dict[str, Any]:
    """The base model of the adapters this step trains: the init adapters' own base, the init artifact, or the hub model."""
    from synthmix.models.adapters import base_record, is_adapter, read_base_record

    if "init" in inputs and is_adapter(inputs["init"]):
        return read_base_record(inputs["init"])
    if "init" in inputs:
        return base_record(inputs["init"], is_artifact=True)
    return base_record(params.model, is_artifact=False, revision=params.revision)


def _load_trainable(inputs: dict[str, Path], params: Params, placement: Any) -> tuple[Any, Any]:
    """The starting model (LoRA adapters attached or continued) on its devices, and its tokenizer."""
    from synthmix.models.adapters import adapter_base, adapter_base_revision, is_adapter
    from synthmix.models.loading import load_tokenizer, place_model

    source: str | Path = inputs.get("init", params.model)
    revision = None if "init" in inputs else params.revision
    tokenizer = load_tokenizer(source, revision=revision)
    lora = params.training.lora
    if "init" in inputs and is_adapter(inputs["init"]):
        from peft import PeftModel

        base = place_model(adapter_base(inputs["init"]), placement, revision=adapter_base_revision(inputs["init"]))
        return PeftModel.from_pretrained(base, str(inputs["init"]), is_trainable=True), tokenizer
    model = place_model(source, placement, revision=revision)
    if params.training.method == "lora":
        from peft import LoraConfig, get_peft_model

        from synthmix.models.adapters import lora_targets

        config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                            target_modules=lora_targets(model, lora.target_modules), task_type="CAUSAL_LM")
        model = get_peft_model(model, config)
    return model, tokenizer


HELDOUT_N = 64  # held-out examples whose loss is tracked during training (the first of the tuning split)


def heldout_split(task: Any) -> str | None:
    """The split the held-out loss is measured on: the task's tuning split, never its eval split."""
    from synthmix.tasks.base import tuning_split

    return tuning_split(task)


def heldout_examples(task: Any) -> list[dict[str, Any]]:
    """The first ``HELDOUT_N`` examples of the held-out split (none when the task has no split apart from eval)."""
    split = heldout_split(task)
    return task.load(split)[:HELDOUT_N] if split else []


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Fine-tune on the mix in ``inputs['data']`` and save the model, tokenizer and step log into ``out``."""
    import torch

    from synthmix.models.adapters import is_adapter, write_base_record
    from synthmix.models.loading import detect_placement
    from synthmix.models.training import encode_pair, train
    from synthmix.tasks import get_task

    torch.manual_seed(params.seed)
    torch.set_num_threads(params.threads)
    task = get_task(params.task, **params.task_options)
    cfg = params.training
    placement = detect_placement("lora" if cfg.method == "lora" else "full")
    model, tokenizer = _load_trainable(inputs, params, placement)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if placement.kind != "sharded":
        model.to(device)
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    with open(inputs["data"] / "train.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    examples = [encode_pair(tokenizer, task.prompt(ex), task.target(ex), cfg.max_length, cfg.loss_on) for ex in rows]
    heldout = [encode_pair(tokenizer, task.prompt(ex), task.target(ex), cfg.max_length, cfg.loss_on)
               for ex in heldout_examples(task)]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    result = train(model, examples, pad=pad, lr=cfg.lr, epochs=cfg.epochs, batch_size=cfg.batch_size,
                   grad_accum=cfg.grad_accum, warmup_ratio=cfg.warmup_ratio, weight_decay=cfg.weight_decay,
                   seed=params.seed, checkpoint_dir=out / "_checkpoint", autocast_dtype=_autocast_dtype(cfg.precision),
                   heldout=heldout)
    (model if placement.kind == "sharded" else model.to("cpu")).save_pretrained(out)
    tokenizer.save_pretrained(out)
    if cfg.method == "lora" or "init" in inputs and is_adapter(inputs["init"]):
        write_base_record(out, _base_record(inputs, params))
    n_params = sum(p.numel() for p in model.parameters())
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log = {"loss_curve": result.loss_curve, "heldout_curve": result.heldout_curve,
           "heldout_split": heldout_split(task) if heldout else None, "final_loss": result.final_loss, "n_params": n_params,
           "n_trainable": n_trainable, "n_examples": len(examples), "steps": result.steps, "tokens": result.tokens,
           "train_s": result.train_s, "tokens_per_s": result.tokens / max(result.train_s, 1e-9),
           "resumed_from_step": result.resumed_from, "device": device.type, "placement": placement.kind,
           "gpus": len(placement.max_memory or {}) or int(placement.kind == "cuda"),
           "precision": "bf16" if _autocast_dtype(cfg.precision) is not None else "fp32"}
    (out / "step_log.json").write_text(json.dumps(log, indent=1))
