"""Pretrain every mini ladder rung on one token budget; print params, time, tokens/s, final loss and % of peak.

Baseline for the ratio column: the smallest rung's tokens/s measured in the same run.
Usage: python bench/bench_pretrain.py [--token-budget N] [--threads T] [--rungs a,b]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from synthmix.models.mini import RUNGS
from synthmix.steps.pretrain import Params, run

PEAK_FLOPS = 118e9  # fp32 peak of this 2-core CPU (the brief's figure)


def main() -> None:
    """Run the ladder and print one row per rung."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--token-budget", type=int, default=Params.model_fields["token_budget"].default)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rungs", default=",".join(RUNGS))
    args = parser.parse_args()
    print(f"{'rung':<10} {'params':>9} {'wall_s':>7} {'train_s':>7} {'tok/s':>8} {'final':>6} {'%peak':>6} {'vs smallest':>11}")
    base = None
    total = 0.0
    for rung in args.rungs.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            params = Params(rung=rung, token_budget=args.token_budget, threads=args.threads)
            run({}, params, Path(tmp))
            wall = time.perf_counter() - start
            log = json.loads((Path(tmp) / "step_log.json").read_text())
        total += wall
        # 6·N·D for the matmuls (input embedding is a lookup) plus attention scores 6·L·T·d per token
        from synthmix.models.mini import VOCAB_SIZE
        hidden, layers, _ = RUNGS[rung]
        flops_per_token = 6 * (log["n_params"] - VOCAB_SIZE * hidden) + 6 * layers * params.seq_len * hidden
        peak = log["tokens_per_s"] * flops_per_token / PEAK_FLOPS
        base = base or log["tokens_per_s"]
        print(f"{rung:<10} {log['n_params']:>9,} {wall:>7.1f} {log['train_seconds']:>7.1f} {log['tokens_per_s']:>8.0f} "
              f"{log['final_loss']:>6.3f} {100 * peak:>5.1f}% {log['tokens_per_s'] / base:>10.2f}x", flush=True)
    print(f"total wall {total:.1f} s for {args.token_budget:,} tokens per rung")


if __name__ == "__main__":
    main()
