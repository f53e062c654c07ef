"""Fine-tuning throughput (tokens/s) of the training loop and its fraction of the machine's fp32 matmul peak.

The peak is measured in the same process (a large square fp32 matmul), so the fraction compares
like with like; model FLOPs per token = 6 × parameters (forward + backward, attention ignored).
Run: ``.venv/bin/python bench/bench_training.py [--rung mini-3.7m] [--batch 32] [--seq 128]``.
"""

from __future__ import annotations

import argparse
import time

import torch


def matmul_peak_flops(n: int = 1024, repeats: int = 10) -> float:
    """Measured fp32 FLOP/s of an n×n matmul (the best of ``repeats``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def main() -> None:
    from transformers import GPTNeoXForCausalLM

    from synthmix.models.mini import RUNGS, neox_config
    from synthmix.models.training import train

    ap = argparse.ArgumentParser()
    ap.add_argument("--rung", default="mini-3.7m", choices=list(RUNGS))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(neox_config(*RUNGS[args.rung]))
    n_params = sum(p.numel() for p in model.parameters())
    gen = torch.Generator().manual_seed(0)
    examples = [(ids, ids) for ids in torch.randint(2, 1000, (args.batch * args.steps, args.seq), generator=gen).tolist()]
    peak = matmul_peak_flops()
    result = train(model, examples, pad=1, lr=1e-3, epochs=1.0, batch_size=args.batch, grad_accum=1, warmup_ratio=0.0,
                   weight_decay=0.0, seed=0)
    tps = result.tokens / result.train_s
    achieved = 6 * n_params * tps
    print(f"{args.rung}: {n_params:,} params, batch {args.batch}×{args.seq}, {args.threads} thread(s); under machine contention")
    print(f"training: {tps:,.0f} tokens/s = {achieved / 1e9:.1f} GFLOP/s")
    print(f"measured fp32 matmul peak: {peak / 1e9:.1f} GFLOP/s; fraction of peak: {achieved / peak:.2f}")


if __name__ == "__main__":
    main()
