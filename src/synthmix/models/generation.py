"""Batched sampling with a KV cache: a lean GPT-NeoX decoder for the mini ladder and a generic Hugging Face one.

Tiny models are dominated by per-token overhead, not FLOPs: ``model.generate`` spends most of each
decode step in Python (cache objects, mask building, logits processors). ``NeoxDecoder`` runs the
GPT-NeoX (Pythia) forward directly on the model's own weights with a preallocated cache and drops
finished rows from the batch, so a decode step costs a handful of fused tensor ops per layer.
``HFDecoder`` does the same loop through ``model(...)`` for any other causal LM. Both return, per
row, the generated token ids, their log-probabilities under the untempered model (for confidence)
and each token's end offset in the decoded text.

Steps sample through a *sampler* (``HFSampler`` here, ``models.vllm_backend.VllmSampler`` on vLLM): the same
arguments and ``Completion`` records on either backend, with random *streams* that a step opens by seed
(here a ``torch.Generator`` on the model's device; there a counter of per-request seeds). Tensors follow
the model's device, so the same code decodes on CPU or on one GPU; a model sharded over several GPUs
(accelerate's device map) decodes through ``HFDecoder``, whose hooks move activations between devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

COMPACT_FRACTION = 0.25  # drop finished rows from the batch once this share of it is done


@dataclass(frozen=True)
class Completion:
    """One generated continuation: text cut at the first stop string, its tokens and their log-probs."""

    text: str
    token_ids: list[int]
    logprobs: list[float]  # log P(token | prefix) under the model at temperature 1, one per token kept
    ends: list[int]  # character offset in ``text`` where each kept token ends

    def span_logprob(self, start: int, end: int) -> float:
        """Summed log-probability of the tokens that overlap the character span ``[start, end)``."""
        total, begin = 0.0, 0
        for lp, stop in zip(self.logprobs, self.ends, strict=True):
            if stop > start and begin < end:
                total += lp
            begin = stop
        return total

    def span_mean_logprob(self, start: int, end: int) -> float:
        """Mean log-probability per token of the tokens that overlap ``[start, end)`` (0.0 when none do)."""
        begin, picked = 0, []
        for lp, stop in zip(self.logprobs, self.ends, strict=True):
            if stop > start and begin < end:
                picked.append(lp)
            begin = stop
        return sum(picked) / len(picked) if picked else 0.0


class NeoxDecoder:
    """GPT-NeoX inference with a preallocated KV cache, reading the weights of a ``GPTNeoXForCausalLM``."""

    def __init__(self, model: Any) -> None:
        cfg = model.config
        self.n_heads = cfg.num_attention_heads
        self.head = cfg.hidden_size // self.n_heads
        rope = getattr(cfg, "rope_parameters", None) or {}
        self.rot = int(self.head * rope.get("partial_rotary_factor", getattr(cfg, "rotary_pct", 0.25)))
        base = rope.get("rope_theta", getattr(cfg, "rotary_emb_base", 10000))
        net = model.gpt_neox
        self.device = net.embed_in.weight.device
        self.inv_freq = (1.0 / (base ** (torch.arange(0, self.rot, 2, dtype=torch.float32) / self.rot))).to(self.device)
        self.parallel = cfg.use_parallel_residual
        self.eps = cfg.layer_norm_eps
        self.max_positions = cfg.max_position_embeddings
        self.embed = net.embed_in.weight
        self.layers = net.layers
        self.final_ln = net.final_layer_norm
        self.out = model.get_output_embeddings()
        self.vocab = self.out.weight.shape[0]

    def _rotary(self, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cos/sin of positions ``pos`` (B, T) → (B, 1, T, rot)."""
        freqs = pos[..., None].float() * self.inv_freq  # (B, T, rot/2)
        emb = torch.cat((freqs, freqs), dim=-1)[:, None]
        return emb.cos(), emb.sin()

    def _apply_rotary(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x_rot, x_pass = x[..., : self.rot], x[..., self.rot:]
        half = self.rot // 2
        rotated = torch.cat((-x_rot[..., half:], x_rot[..., :half]), dim=-1)
        return torch.cat((x_rot * cos + rotated * sin, x_pass), dim=-1)

    def start(self, ids: torch.Tensor, mask: torch.Tensor, capacity: int) -> tuple[torch.Tensor, dict[str, Any]]:
        """Prefill left-padded prompts ``ids`` (B, T); returns last-position logits (B, V) and the cache state."""
        B, T = ids.shape
        like = {"device": ids.device, "dtype": self.embed.dtype}
        cache = {
            "k": [torch.zeros(B, self.n_heads, capacity, self.head, **like) for _ in self.layers],
            "v": [torch.zeros(B, self.n_heads, capacity, self.head, **like) for _ in self.layers],
            "valid": torch.zeros(B, capacity, dtype=torch.bool, device=ids.device),
            "pos": (mask.long().cumsum(-1) - 1).clamp(min=0)[:, -1],  # (B,) position of the last token
            "len": T,
        }
        cache["valid"][:, :T] = mask.bool()
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)  # (B, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril()
        attn_mask = causal[None, None] & mask.bool()[:, None, None, :]  # (B, 1, T, T)
        # a fully padded query row would give NaN; let it see itself (its output is never used)
        attn_mask = attn_mask | torch.eye(T, dtype=torch.bool, device=ids.device)[None, None]
        logits = self._forward(ids, pos, attn_mask, cache, 0)
        return logits[:, -1], cache

    def step(self, tokens: torch.Tensor, cache: dict[str, Any]) -> torch.Tensor:
        """Feed one token per row (B,); returns next-token logits (B, V)."""
        t = cache["len"]
        cache["valid"][:, t] = True
        cache["pos"] = cache["pos"] + 1
        attn_mask = cache["valid"][:, None, None, : t + 1]  # (B, 1, 1, t+1)
        logits = self._forward(tokens[:, None], cache["pos"][:, None], attn_mask, cache, t)
        return logits[:, -1]

    def _forward(self, ids: torch.Tensor, pos: torch.Tensor, attn_mask: torch.Tensor, cache: dict[str, Any],
                 offset: int) -> torch.Tensor:
        """Run the layers on ``ids`` (B, T) written at cache slots ``offset``…; returns logits (B, T, V)."""
        B, T = ids.shape
        x = F.embedding(ids, self.embed)  # (B, T, C)
        cos, sin = self._rotary(pos)
        end = offset + T
        for i, layer in enumerate(self.layers):
            ln1 = layer.input_layernorm
            h = F.layer_norm(x, ln1.normalized_shape, ln1.weight, ln1.bias, ln1.eps)
            att = layer.attention
            qkv = F.linear(h, att.query_key_value.weight, att.query_key_value.bias)
            qkv = qkv.view(B, T, self.n_heads, 3 * self.head).transpose(1, 2)  # (B, H, T, 3D)
            q, k, v = qkv.chunk(3, dim=-1)
            q, k = self._apply_rotary(q, cos, sin), self._apply_rotary(k, cos, sin)
            cache["k"][i][:, :, offset:end] = k
            cache["v"][i][:, :, offset:end] = v
            a = F.scaled_dot_product_attention(q, cache["k"][i][:, :, :end], cache["v"][i][:, :, :end], attn_mask=attn_mask)
            a = a.transpose(1, 2).reshape(B, T, -1)
            a = F.linear(a, att.dense.weight, att.dense.bias)
            ln2 = layer.post_attention_layernorm
            if self.parallel:
                m = layer.mlp(F.layer_norm(x, ln2.normalized_shape, ln2.weight, ln2.bias, ln2.eps))
                x = x + a + m
            else:
                x = x + a
                x = x + layer.mlp(F.layer_norm(x, ln2.normalized_shape, ln2.weight, ln2.bias, ln2.eps))
        cache["len"] = end
        x = self.final_ln(x)
        return F.linear(x, self.out.weight, self.out.bias)

    @staticmethod
    def keep(cache: dict[str, Any], rows: torch.Tensor) -> None:
        """Drop every batch row of the cache except ``rows``."""
        for name in ("k", "v"):
            cache[name] = [t.index_select(0, rows) for t in cache[name]]
        cache["valid"] = cache["valid"].index_select(0, rows)
        cache["pos"] = cache["pos"].index_select(0, rows)


class HFDecoder:
    """The same loop through ``model(...)`` and its own cache object: any causal LM transformers loads."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.device = model.get_input_embeddings().weight.device
        self.max_positions = getattr(model.config, "max_position_embeddings", 1 << 30)

    def start(self, ids: torch.Tensor, mask: torch.Tensor, capacity: int) -> tuple[torch.Tensor, dict[str, Any]]:
        """Prefill; the cache state holds the model's cache, the attention mask and positions."""
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
        return out.logits[:, -1], {"past": out.cache, "mask": mask, "pos": pos[:, -1]}

    def step(self, tokens: torch.Tensor, cache: dict[str, Any]) -> torch.Tensor:
        """One decode step through the Hugging Face forward."""
        cache["mask"] = torch.cat([cache["mask"], torch.ones_like(cache["mask"][:, :1])], dim=1)
        cache["pos"] = cache["pos"] + 1
        out = self.model(input_ids=tokens[:, None], attention_mask=cache["mask"], position_ids=cache["pos"][:, None],
                         cache=cache["past"], use_cache=True)
        cache["past"] = out.cache
        return out.logits[:, -1]

    @staticmethod
    def keep(cache: dict[str, Any], rows: torch.Tensor) -> None:
        """Keep every row (the generic cache is not compacted)."""


def is_sharded(model: Any) -> bool:
    """Whether accelerate spread the model over several devices (a device map with more than one device)."""
    return len(set((getattr(model, "hf_device_map", None) or {"": None}).values())) > 1


def make_decoder(model: Any) -> NeoxDecoder | HFDecoder:
    """The fast decoder for GPT-NeoX models on one device, the generic one for anything else."""
    if type(model).__name__ == "GPTNeoXForCausalLM" and not is_sharded(model):
        return NeoxDecoder(model)
    return HFDecoder(model)


def _pick(logits: torch.Tensor, temperature: float, top_p: float, greedy: bool,
          generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Choose the next token per row (B, V) → (tokens, their untempered log-probs)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    if greedy:
        tokens = logp.argmax(dim=-1)
    else:
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        if top_p < 1.0:
            sorted_p, order = probs.sort(dim=-1, descending=True)
            drop = sorted_p.cumsum(-1) - sorted_p > top_p  # keep the smallest prefix reaching top_p
            sorted_p = sorted_p.masked_fill(drop, 0.0)
            probs = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
        tokens = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return tokens, logp.gather(-1, tokens[:, None]).squeeze(-1)


def _first_stop(text: str, stops: Sequence[str]) -> int:
    """Index of the earliest stop string in ``text`` (``-1`` if none)."""
    hits = [i for s in stops if (i := text.find(s)) >= 0]
    return min(hits) if hits else -1


def _fast_decode(tokenizer: Any) -> Any:
    """The Rust tokenizer's own ``decode`` when there is one (transformers' wrapper costs ~100 µs a call)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend.decode if backend is not None else tokenizer.decode


def _finish(tokenizer: Any, ids: list[int], logprobs: list[float], stops: Sequence[str], eos: int | None) -> Completion:
    """Cut a row's tokens at EOS and its text at the first stop string; record token end offsets."""
    if eos is not None and eos in ids:
        cut = ids.index(eos)
        ids, logprobs = ids[:cut], logprobs[:cut]
    decode = _fast_decode(tokenizer)
    text = decode(ids)
    stop_at = _first_stop(text, stops)
    if stop_at >= 0:
        text = text[:stop_at]
    ends, kept_ids, kept_lp = [], [], []
    for i in range(len(ids)):
        end = len(decode(ids[: i + 1]))
        if ends and ends[-1] >= len(text):
            break
        kept_ids.append(ids[i])
        kept_lp.append(logprobs[i])
        ends.append(min(end, len(text)))
    return Completion(text, kept_ids, kept_lp, ends)


def encode_prompts(tokenizer: Any, prompts: Sequence[str], max_positions: int, max_new_tokens: int) -> list[list[int]]:
    """Prompt token ids, left-truncated so prompt + ``max_new_tokens`` fit the context (an empty prompt = EOS)."""
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos or 0)
    budget = max_positions - max_new_tokens
    return [tokenizer(p, add_special_tokens=False)["input_ids"][-budget:] or [eos or pad] for p in prompts]


@torch.no_grad()
def generate_batch(decoder: NeoxDecoder | HFDecoder, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int,
                   stop: Sequence[str] = (), temperature: float = 1.0, top_p: float = 1.0, greedy: bool = False,
                   generator: torch.Generator | None = None) -> list[Completion]:
    """Continue every prompt (one batch) until EOS, a stop string or ``max_new_tokens``; rows finish independently."""
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos or 0)
    encoded = encode_prompts(tokenizer, prompts, decoder.max_positions, max_new_tokens)
    T = max(len(e) for e in encoded)
    ids = torch.full((len(prompts), T), pad, dtype=torch.long)
    mask = torch.zeros(len(prompts), T, dtype=torch.long)
    for i, e in enumerate(encoded):
        ids[i, T - len(e):] = torch.tensor(e)
        mask[i, T - len(e):] = 1
    logits, cache = decoder.start(ids.to(decoder.device), mask.to(decoder.device), T + max_new_tokens)
    out_ids: list[list[int]] = [[] for _ in prompts]
    out_lp: list[list[float]] = [[] for _ in prompts]
    active = list(range(len(prompts)))  # original row of each batch row
    done: set[int] = set()
    check_every = 4 if stop else 1 << 30
    decode = _fast_decode(tokenizer)
    for step in range(max_new_tokens):
        tokens, lps = _pick(logits, temperature, top_p, greedy, generator)
        token_list, lp_list = tokens.tolist(), lps.tolist()
        for j, row in enumerate(active):
            if row in done:
                continue
            out_ids[row].append(token_list[j])
            out_lp[row].append(lp_list[j])
            if token_list[j] == eos or ((step + 1) % check_every == 0 and _first_stop(decode(out_ids[row]), stop) >= 0):
                done.add(row)
        finished = [j for j, row in enumerate(active) if row in done]
        if len(finished) == len(active) or step == max_new_tokens - 1:
            break
        if finished and isinstance(decoder, NeoxDecoder) and len(finished) >= COMPACT_FRACTION * len(active):
            rows = torch.tensor([j for j, row in enumerate(active) if row not in done], device=tokens.device)
            decoder.keep(cache, rows)
            tokens = tokens.index_select(0, rows)
            active = [active[j] for j in rows.tolist()]
        logits = decoder.step(tokens, cache)
    return [_finish(tokenizer, out_ids[r], out_lp[r], stop, eos) for r in range(len(prompts))]


class HFSampler:
    """``generate_batch`` on a loaded model behind the sampler interface the steps use (backend ``hf``)."""

    backend = "hf"

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.decoder = make_decoder(model)
        self.tokenizer = tokenizer

    def stream(self, seed: int) -> torch.Generator:
        """A random stream for sampled calls: a generator on the decoder's device, seeded once."""
        return torch.Generator(device=self.decoder.device).manual_seed(seed)

    def generate(self, prompts: Sequence[str], max_new_tokens: int, stop: Sequence[str] = (), temperature: float = 1.0,
                 top_p: float = 1.0, greedy: bool = False, stream: torch.Generator | None = None) -> list[Completion]:
        """One batch through ``generate_batch``; ``stream`` advances as rows are sampled."""
        return generate_batch(self.decoder, self.tokenizer, prompts, max_new_tokens, stop, temperature, top_p, greedy,
                              generator=stream)
