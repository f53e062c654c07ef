"""Log-likelihoods of continuations (multiple-choice scoring) and token-level perplexity, batched.

Two encodings of a (context, continuation) pair:
- ``separate`` (synthmix's tasks): the continuation is tokenised on its own and appended to the tokenised
  context, exactly as fine-tuning builds its examples (``models.training.encode_pair``), so the scored
  tokens are the ones the model was trained to produce;
- ``lm-eval`` (task YAMLs): lm-evaluation-harness's ``_encode_pair``: trailing whitespace of the context
  moves to the continuation, the whole string is tokenised, and the continuation is what follows the
  context's own tokens; an empty context is the EOS token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F


def _encode(tokenizer: Any, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


@torch.no_grad()
def _token_logprobs(model: Any, sequences: list[list[int]], pad: int) -> list[torch.Tensor]:
    """log P(token_t | tokens_<t) for t ≥ 1 of every sequence (right-padded batch)."""
    T = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), T), pad, dtype=torch.long)
    mask = torch.zeros(len(sequences), T, dtype=torch.long)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    device = next(model.parameters()).device
    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()  # (B, T, V)
    logp = F.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:, None].to(device)).squeeze(-1).cpu()  # (B, T-1)
    return [logp[i, : len(s) - 1] for i, s in enumerate(sequences)]


def encode_pair(tokenizer: Any, context: str, continuation: str, encoding: str = "separate") -> tuple[list[int], list[int]]:
    """Context and continuation token ids under ``encoding`` (``separate`` or ``lm-eval``, see the module)."""
    if encoding == "separate":
        return _encode(tokenizer, context), _encode(tokenizer, continuation)
    if encoding != "lm-eval":
        raise ValueError(f"unknown encoding {encoding!r}")
    if not context:
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        return [eos], _encode(tokenizer, continuation)
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole, ctx = _encode(tokenizer, context + continuation), _encode(tokenizer, context)
    return ctx, whole[len(ctx):]


def continuation_loglikelihoods(model: Any, tokenizer: Any, contexts: Sequence[str], continuations: Sequence[str],
                                batch_size: int = 32, max_length: int | None = None,
                                encoding: str = "separate") -> list[tuple[float, int]]:
    """(summed log-likelihood, token count) of each continuation given its context."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    limit = max_length or getattr(model.config, "max_position_embeddings", 1 << 30)
    pairs = []
    for ctx, cont in zip(contexts, continuations, strict=True):
        c, x = encode_pair(tokenizer, ctx, cont, encoding)
        if not x:
            raise ValueError(f"continuation {cont!r} encodes to no tokens")
        seq = (c + x)[-limit:]
        pairs.append((seq, len(x)))
    out: list[tuple[float, int]] = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        for (seq, n), lp in zip(chunk, _token_logprobs(model, [s for s, _ in chunk], pad), strict=True):
            out.append((float(lp[-n:].sum()), n))
    return out


def perplexity(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 32) -> float:
    """exp of the mean negative log-likelihood per predicted token over all ``texts`` (each starting after EOS)."""
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    limit = getattr(model.config, "max_position_embeddings", 1 << 30)
    sequences = [([eos] + _encode(tokenizer, t))[:limit] for t in texts]
    total, count = 0.0, 0
    for start in range(0, len(sequences), batch_size):
        for lp in _token_logprobs(model, sequences[start:start + batch_size], pad):
            total -= float(lp.sum())
            count += lp.numel()
    return math.exp(total / max(count, 1))
