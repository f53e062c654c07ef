"""Generation throughput of the lean KV-cache sampler against Hugging Face ``generate`` (same process, same model).

Prints new tokens/s at batch 1 and batched for both, and the ratio. The model is a randomly
initialised mini rung (throughput does not depend on the weights); ``--rung`` picks it.
Run: ``.venv/bin/python bench/bench_generation.py [--rung mini-280k] [--new 64]``.
"""

from __future__ import annotations

import argparse
import time

import torch


def _hf_generate(model, tok, prompts: list[str], new: int) -> float:
    """Seconds for HF ``generate`` (greedy, default settings) on one left-padded batch."""
    tok.padding_side = "left"
    enc = tok(prompts, return_tensors="pt", padding=True)
    t = time.perf_counter()
    model.generate(**enc, max_new_tokens=new, min_new_tokens=new, do_sample=False, pad_token_id=tok.pad_token_id)
    return time.perf_counter() - t


def _ours(model, tok, prompts: list[str], new: int) -> float:
    """Seconds for ``generate_batch`` with the GPT-NeoX decoder, greedy, no stop strings."""
    from synthmix.models.generation import NeoxDecoder, generate_batch

    t = time.perf_counter()
    generate_batch(NeoxDecoder(model), tok, prompts, new, greedy=True)
    return time.perf_counter() - t


def main() -> None:
    from transformers import GPTNeoXForCausalLM

    from synthmix.models.mini import RUNGS, neox_config, train_tokenizer
    from synthmix.tasks import get_task

    ap = argparse.ArgumentParser()
    ap.add_argument("--rung", default="mini-280k", choices=list(RUNGS))
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    task = get_task("mini-math", n_train=64, n_validation=8, n_test=8)
    texts = [task.format_train(ex) for ex in task.load("train")]
    tok = train_tokenizer(texts, vocab_size=1024)
    model = GPTNeoXForCausalLM(neox_config(*RUNGS[args.rung], vocab_size=len(tok))).eval()
    prompts = [task.prompt(ex) for ex in task.load("train")]
    print(f"{args.rung}, {args.new} new tokens per row, {args.threads} thread(s); timings under machine contention")
    print(f"{'batch':>6} {'HF tok/s':>10} {'ours tok/s':>11} {'ratio':>7}")
    for batch in (1, 8, 32, 64):
        rows = prompts[:batch]
        _ours(model, tok, rows, 4)
        hf = _hf_generate(model, tok, rows, args.new)
        ours = _ours(model, tok, rows, args.new)
        print(f"{batch:>6} {batch * args.new / hf:>10.0f} {batch * args.new / ours:>11.0f} {hf / ours:>7.2f}")


if __name__ == "__main__":
    main()
