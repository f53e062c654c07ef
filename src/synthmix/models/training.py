"""The fine-tuning loop: answer-only loss, seeded data order, AdamW with warmup, accumulation, resumable checkpoints.

Data order: one ``torch.Generator`` seeded with the condition's seed permutes example *positions*
epoch by epoch, so every share of a condition (same N) visits its mix in the same order.
Batches: ``batch_size`` examples per forward pass, ``grad_accum`` passes per optimizer step (the
Hugging Face convention: effective batch = batch_size × grad_accum). The loss of a step is the mean
over its supervised tokens. Schedule: linear warmup then linear decay to 0 (the HF Trainer default).
A checkpoint (weights, optimizer, step, loss curves) is written atomically every few steps and
resumed from at start, giving bit-identical results to an uninterrupted run.
Curves: the training loss of every optimizer step and, when held-out examples are given, their mean
loss per supervised token at step 0 and every ``ceil(steps / HELDOUT_POINTS)`` steps (and the last);
measured in eval mode without gradients, so the weights are the same with or without it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

IGNORE = -100
CHECKPOINTS_PER_RUN = 5
HELDOUT_POINTS = 10  # held-out loss measurements per run (besides step 0)


def encode_pair(tokenizer: Any, prompt: str, target: str, max_length: int, loss_on: str = "answer") -> tuple[list[int], list[int]]:
    """Token ids of prompt + target and their labels (prompt tokens ignored when ``loss_on='answer'``), left-truncated."""
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    t = tokenizer(target, add_special_tokens=False)["input_ids"]
    ids = (p + t)[-max_length:]
    labels = ([IGNORE] * len(p) + t)[-max_length:] if loss_on == "answer" else list(ids)
    return ids, labels


def batch_order(n: int, batch_size: int, epochs: float, seed: int) -> list[list[int]]:
    """Example indices of every forward pass: seeded per-epoch permutations, ``ceil(epochs × n)`` examples."""
    gen = torch.Generator().manual_seed(seed)
    total = math.ceil(epochs * n)
    order: list[int] = []
    while len(order) < total:
        order.extend(torch.randperm(n, generator=gen).tolist())
    order = order[:total]
    return [order[i:i + batch_size] for i in range(0, total, batch_size)]


def collate(examples: Sequence[tuple[list[int], list[int]]], pad: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded (ids, attention mask, labels), each (B, T)."""
    T = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), T), pad, dtype=torch.long)
    mask = torch.zeros(len(examples), T, dtype=torch.long)
    labels = torch.full((len(examples), T), IGNORE, dtype=torch.long)
    for i, (x, y) in enumerate(examples):
        ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
        labels[i, : len(y)] = torch.tensor(y)
    return ids, mask, labels


def learning_rate(step: int, n_steps: int, lr: float, warmup_ratio: float) -> float:
    """Linear warmup over ``warmup_ratio`` of the steps, then linear decay to 0."""
    warmup = math.ceil(warmup_ratio * n_steps)
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr * max(0.0, (n_steps - step) / max(1, n_steps - warmup))


@dataclass
class TrainResult:
    """What the loop reports into the step log."""

    loss_curve: list[list[float]] = field(default_factory=list)  # [optimizer step, loss]
    heldout_curve: list[list[float]] = field(default_factory=list)  # [optimizer step, held-out loss]
    tokens: int = 0  # tokens through the forward pass (padding excluded)
    train_s: float = 0.0
    steps: int = 0
    resumed_from: int = 0

    @property
    def final_loss(self) -> float:
        """Mean loss of the last 10 % of steps (the last step alone is noisy)."""
        tail = self.loss_curve[-max(1, len(self.loss_curve) // 10):]
        return sum(loss for _, loss in tail) / len(tail)


def _save_checkpoint(folder: Path, model: Any, opt: Any, result: TrainResult) -> None:
    """Write the training state atomically (a kill mid-write leaves the previous checkpoint)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "state.pt.tmp"
    state = {"model": {k: v for k, v in model.state_dict().items()}, "optim": opt.state_dict(), "result": result.__dict__}
    torch.save(state, tmp)
    os.replace(tmp, folder / "state.pt")


def _load_checkpoint(folder: Path, model: Any, opt: Any) -> TrainResult | None:
    """Restore a checkpoint if one exists."""
    path = folder / "state.pt"
    if not path.is_file():
        return None
    state = torch.load(path, weights_only=False)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optim"])
    return TrainResult(**state["result"])


@torch.no_grad()
def heldout_loss(model: Any, examples: Sequence[tuple[list[int], list[int]]], pad: int, batch_size: int,
                 autocast_dtype: torch.dtype | None = None) -> float:
    """Mean loss per supervised token of encoded ``examples`` (eval mode, no gradients; the mode is restored)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for i in range(0, len(examples), batch_size):
        ids, mask, labels = collate(examples[i:i + batch_size], pad)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits  # (B, T, V)
        target = labels[:, 1:].flatten().to(device)
        total += float(F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), target, ignore_index=IGNORE,
                                       reduction="sum"))
        count += int((target != IGNORE).sum())
    model.train(was_training)
    return total / max(count, 1)


def train(model: Any, examples: Sequence[tuple[list[int], list[int]]], *, pad: int, lr: float, epochs: float,
          batch_size: int, grad_accum: int, warmup_ratio: float, weight_decay: float, seed: int,
          checkpoint_dir: Path | None = None, autocast_dtype: torch.dtype | None = None,
          heldout: Sequence[tuple[list[int], list[int]]] = ()) -> TrainResult:
    """Fine-tune ``model`` in place on encoded ``examples``; resumes from ``checkpoint_dir`` when it holds a state.

    ``heldout`` (encoded examples the model does not train on) gives the held-out loss curve.
    """
    device = next(model.parameters()).device
    passes = batch_order(len(examples), batch_size, epochs, seed)
    groups = [passes[i:i + grad_accum] for i in range(0, len(passes), grad_accum)]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    result = TrainResult()
    if checkpoint_dir is not None:
        result = _load_checkpoint(checkpoint_dir, model, opt) or result
        result.resumed_from = result.steps
    every = max(1, math.ceil(len(groups) / CHECKPOINTS_PER_RUN))
    measure_every = max(1, math.ceil(len(groups) / HELDOUT_POINTS))
    if heldout and result.steps == 0:
        result.heldout_curve.append([0, heldout_loss(model, heldout, pad, batch_size, autocast_dtype)])
    model.train()
    t0 = time.perf_counter() - result.train_s
    for step in range(result.steps, len(groups)):
        for g in opt.param_groups:
            g["lr"] = learning_rate(step, len(groups), lr, warmup_ratio)
        batches = [collate([examples[i] for i in idx], pad) for idx in groups[step]]
        n_supervised = sum(int((labels[:, 1:] != IGNORE).sum()) for _, _, labels in batches)
        total = 0.0
        for ids, mask, labels in batches:
            with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits  # (B, T, V)
            loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten().to(device),
                                   ignore_index=IGNORE, reduction="sum") / max(n_supervised, 1)
            loss.backward()
            total += float(loss.detach())
            result.tokens += int(mask.sum())
        opt.step()
        opt.zero_grad(set_to_none=True)
        result.loss_curve.append([step + 1, total])
        result.steps = step + 1
        if heldout and (result.steps % measure_every == 0 or result.steps == len(groups)):
            result.heldout_curve.append([result.steps, heldout_loss(model, heldout, pad, batch_size, autocast_dtype)])
        result.train_s = time.perf_counter() - t0
        if checkpoint_dir is not None and result.steps % every == 0 and result.steps < len(groups):
            _save_checkpoint(checkpoint_dir, model, opt, result)
    model.eval()
    return result
