"""The pretrain step: a mini ladder rung trained from scratch on a fixed token budget of the procedural corpus.

The corpus covers all five task families (knowledge-base and category facts, worked problems,
passages, code) from the pretraining hash region only, so one pretrained rung serves every mini
task and never sees a split item. Writes the model and its tokenizer with ``save_pretrained`` and
``step_log.json`` (loss curve, held-out loss curve on ``HELDOUT_ROWS`` unseen corpus rows, tokens/s, final loss as the mean of the last 10 % of steps, like
fine-tuning's, parameters, tokens).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from synthmix.tasks.mini.world import WORLD_OBJECTS, WORLD_PEOPLE

TOKENIZE_BATCH = 2000
HELDOUT_ROWS = 8  # corpus rows after the training rows: the held-out loss curve (step log ``heldout_curve``)
TOKENIZER_SAMPLE_CHARS = 1_000_000


class Params(BaseModel):
    """Pretraining settings; every field enters the artifact id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rung: str  # a key of synthmix.models.mini.RUNGS
    world_seed: int = 0  # the mini world (tasks use the same seed as their ``seed`` option)
    n_people: int = Field(WORLD_PEOPLE, ge=20)  # the world's knowledge base (mini-factual's option of that name)
    n_objects: int = Field(WORLD_OBJECTS, ge=50)  # the world's object inventory (mini-commonsense's option)
    token_budget: int = Field(1_000_000, gt=0)  # tokens seen in training (steps = budget // (batch·seq_len))
    seed: int = 0  # initialisation and data order
    threads: int = Field(1, ge=1)  # torch intra-op threads; part of the determinism contract
    seq_len: int = Field(128, ge=8)
    batch_size: int | None = Field(None, ge=1)  # sequences per step; None = the rung's PRETRAIN_BATCH_TOKENS / seq_len
    lr: float | None = Field(None, gt=0)  # peak; None = the rung's PRETRAIN_LR
    warmup_fraction: float = Field(0.05, ge=0, lt=1)
    weight_decay: float = Field(0.1, ge=0)
    log_every: int = Field(10, ge=1)


def peak_lr(params: Params) -> float:
    """The peak learning rate: ``params.lr`` when set, else the rung's ``PRETRAIN_LR``."""
    from synthmix.models.mini import PRETRAIN_LR

    return params.lr if params.lr is not None else PRETRAIN_LR[params.rung]


def batch_size(params: Params) -> int:
    """Sequences per step: ``params.batch_size`` when set, else as many rows as the rung's ``PRETRAIN_BATCH_TOKENS`` holds."""
    from synthmix.models.mini import PRETRAIN_BATCH_TOKENS

    if params.batch_size is not None:
        return params.batch_size
    return max(1, PRETRAIN_BATCH_TOKENS[params.rung] // params.seq_len)


def learning_rate(step: int, n_steps: int, params: Params) -> float:
    """Linear warmup to the peak learning rate, then cosine decay to 10 % of it."""
    lr = peak_lr(params)
    warmup = max(1, int(params.warmup_fraction * n_steps))
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, n_steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def corpus_windows(params: Params, tokenizer, n_windows: int) -> list[list[int]]:
    """``n_windows`` training rows of ``seq_len`` tokens, each a run of whole documents starting at a document's start.

    Documents follow each other in a row, separated by ``<|endoftext|>``; the document that
    overflows a row is cut there and the next row starts with the next document. Rows cut from a
    plain token stream start mid-document, so an item's answer often lands in a row without its
    question; starting rows at documents raised mini-280k's fine-tuned mini-factual F1 from .022 to
    .041 (two seeds). Documents are tokenised in batches of ``TOKENIZE_BATCH``, once each.
    """
    from itertools import islice

    from synthmix.tasks.mini.corpus import iter_documents

    docs = iter_documents(params.world_seed, params.n_people, params.n_objects)
    rows: list[list[int]] = []
    row: list[int] = []
    while len(rows) < n_windows:
        for encoded in tokenizer(list(islice(docs, TOKENIZE_BATCH)))["input_ids"]:
            row.extend([*encoded, tokenizer.eos_token_id][: params.seq_len - len(row)])
            if len(row) == params.seq_len:
                rows.append(row)
                row = []
                if len(rows) == n_windows:
                    break
    return rows


def heldout_loss(model: Any, rows: Any) -> float:
    """Mean next-token loss of corpus rows the model never trains on (eval mode, no gradients; mode restored)."""
    import torch

    model.eval()
    with torch.no_grad():
        loss = float(model(input_ids=rows, labels=rows).loss)
    model.train()
    return loss


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Train ``params.rung`` on ``params.token_budget`` corpus tokens and save model, tokenizer and step log into ``out``."""
    import torch
    from transformers import GPTNeoXForCausalLM

    from synthmix.errors import ConfigError
    from synthmix.models.mini import RUNGS, ladder, train_tokenizer
    from synthmix.tasks.mini.corpus import corpus_text

    if params.rung not in RUNGS:
        raise ConfigError(f"pretrain: unknown rung {params.rung!r}; rungs: {', '.join(RUNGS)}")
    torch.manual_seed(params.seed)
    torch.set_num_threads(params.threads)
    rows_per_step = batch_size(params)
    tokens_per_step = rows_per_step * params.seq_len
    n_steps = params.token_budget // tokens_per_step
    if n_steps < 1:
        raise ConfigError(f"pretrain: token_budget {params.token_budget} is below one batch ({tokens_per_step} tokens)")

    tokenizer = train_tokenizer(corpus_text(params.world_seed, TOKENIZER_SAMPLE_CHARS, params.n_people, params.n_objects))
    windows = corpus_windows(params, tokenizer, n_steps * rows_per_step + HELDOUT_ROWS)
    chunks = torch.tensor(windows[:n_steps * rows_per_step], dtype=torch.long)  # (n_steps·B, T)
    heldout = torch.tensor(windows[n_steps * rows_per_step:], dtype=torch.long)  # (HELDOUT_ROWS, T): never trained on
    generator = torch.Generator().manual_seed(params.seed)
    order = torch.randperm(chunks.shape[0], generator=generator)

    config = ladder()[params.rung]
    config.vocab_size = len(tokenizer)
    model = GPTNeoXForCausalLM(config)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": params.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=peak_lr(params), betas=(0.9, 0.95))
    loss_curve: list[list[float]] = []
    heldout_curve: list[list[float]] = [[0, heldout_loss(model, heldout)]]
    start = time.perf_counter()
    losses: list[float] = []
    for step in range(n_steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, n_steps, params)
        batch = chunks[order[step * rows_per_step:(step + 1) * rows_per_step]]  # (B, T)
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % params.log_every == 0 or step == n_steps - 1:
            loss_curve.append([step, losses[-1]])
            heldout_curve.append([step + 1, heldout_loss(model, heldout)])
    elapsed = time.perf_counter() - start

    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    n_params = sum(p.numel() for p in model.parameters())
    tail = losses[-max(1, n_steps // 10):]
    log = {"loss_curve": loss_curve, "heldout_curve": heldout_curve, "tokens_per_s": n_steps * tokens_per_step / elapsed,
           "final_loss": sum(tail) / len(tail), "last_batch_loss": losses[-1],
           "n_params": n_params, "tokens": n_steps * tokens_per_step, "steps": n_steps, "train_seconds": elapsed}
    (out / "step_log.json").write_text(json.dumps(log, indent=1))
