"""GPU smoke test of the GPU path: bf16 training throughput and MFU, and vLLM against HF sampling on the same prompts.

1. Trains a mini ladder rung and a Pythia-shaped model built from its config (``--pythia 410m``, optionally
   with fewer ``--layers``) for a few steps with synthmix's own loop under bf16 autocast, and prints
   tokens/s and MFU = 6 × parameters × tokens/s ÷ the card's dense bf16 peak (looked up by device name,
   or ``--peak-tflops``; attention FLOPs ignored, so MFU is slightly understated).
2. When vLLM is installed, samples ``--samples`` completions of the same synthesis prompts at the writer's
   settings (temperature 0.8, top-p 0.9) with both backends on the same model and compares them in
   distribution: mean length in tokens, Distinct-2 and mean log-probability per token (untempered model).
   The default model is a randomly initialised rung with a local tokenizer (``--model`` takes a hub id or a
   fine-tuned artifact folder): both backends sample the same model, which is all the comparison needs.

On a machine without CUDA it says so and exits 0. Run: ``.venv/bin/python bench/gpu_smoke.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

# Dense bf16 tensor-core peaks (TFLOP/s) from the vendors' data sheets; the first matching key wins.
BF16_PEAK_TFLOPS = [("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H100", 989.0), ("H200", 989.0), ("GH200", 989.0),
                    ("A100", 312.0), ("A800", 312.0), ("L40S", 362.0), ("A10G", 70.0), ("L4", 121.0)]


def bf16_peak_flops(device_name: str) -> float | None:
    """The card's dense bf16 peak in FLOP/s, by its CUDA device name; None when unknown."""
    for key, tflops in BF16_PEAK_TFLOPS:
        if key.lower() in device_name.lower():
            return tflops * 1e12
    return None


def train_throughput(config: object, batch: int, seq: int, steps: int) -> tuple[int, float]:
    """(parameters, tokens/s) of ``steps`` bf16-autocast optimizer steps of synthmix's training loop on random tokens."""
    from transformers import GPTNeoXForCausalLM

    from synthmix.models.training import train

    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(config).to("cuda")
    n_params = sum(p.numel() for p in model.parameters())
    ids = torch.randint(2, config.vocab_size, (batch * (steps + 1), seq), generator=torch.Generator().manual_seed(0))
    examples = [(row, row) for row in ids.tolist()]
    warm = train(model, examples[:batch], pad=1, lr=1e-5, epochs=1.0, batch_size=batch, grad_accum=1, warmup_ratio=0.0,
                 weight_decay=0.0, seed=0, autocast_dtype=torch.bfloat16)  # compiles kernels, allocates optimizer state
    torch.cuda.synchronize()
    result = train(model, examples[batch:], pad=1, lr=1e-5, epochs=1.0, batch_size=batch, grad_accum=1,
                   warmup_ratio=0.0, weight_decay=0.0, seed=0, autocast_dtype=torch.bfloat16)
    torch.cuda.synchronize()
    del warm, model
    torch.cuda.empty_cache()
    return n_params, result.tokens / result.train_s


def random_rung_folder(rung: str, out: Path) -> Path:
    """A randomly initialised ladder rung with a tokenizer trained on mini task texts, saved like a hub model."""
    from transformers import GPTNeoXForCausalLM

    from synthmix.models.mini import RUNGS, neox_config, train_tokenizer
    from synthmix.tasks import get_task

    task = get_task("mini-factual")
    tokenizer = train_tokenizer([task.format_train(ex) for ex in task.load("train")])
    torch.manual_seed(0)
    GPTNeoXForCausalLM(neox_config(*RUNGS[rung], vocab_size=len(tokenizer))).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def sample_summary(completions: list) -> dict[str, float]:
    """Mean length (tokens), Distinct-2 of the texts, mean log-probability per token."""
    from synthmix.metrics.diversity import distinct_n

    n_tokens = sum(len(c.token_ids) for c in completions)
    texts = [c.text for c in completions if len(c.text.split()) >= 2]
    return {"mean_tokens": n_tokens / len(completions),
            "distinct_2": distinct_n(texts, 2) if texts else float("nan"),
            "mean_logprob": sum(sum(c.logprobs) for c in completions) / max(n_tokens, 1)}


def compare_samplers(folder: Path, n: int, max_new: int) -> None:
    """Sample the same prompts at the writer's settings with vLLM and HF; print both summaries and the wall times."""
    from synthmix.models.adapters import load_for_inference
    from synthmix.models.generation import HFSampler
    from synthmix.models.loading import detect_placement
    from synthmix.models.vllm_backend import VllmSampler
    from synthmix.steps.generate import synthesis_prompts
    from synthmix.tasks import get_task

    task = get_task("mini-factual")
    prompts = synthesis_prompts(task, task.load("train"), 3, 0, 0, n)
    stop = task.synthesis_generation.stop
    rows = {}
    vllm = VllmSampler(folder, seed=0)
    t = time.perf_counter()
    rows["vllm"] = (vllm.generate(prompts, max_new, stop, 0.8, 0.9, stream=vllm.stream(0)), time.perf_counter() - t)
    vllm.close()
    hf = HFSampler(*load_for_inference(folder, detect_placement("inference")))
    outs, t = [], time.perf_counter()
    stream = hf.stream(0)
    for start in range(0, n, 64):
        outs += hf.generate(prompts[start:start + 64], max_new, stop, 0.8, 0.9, stream=stream)
    rows["hf"] = (outs, time.perf_counter() - t)
    print(f"sampling {n} synthesis prompts of mini-factual, T=0.8, top-p 0.9, max {max_new} new tokens, model {folder}")
    for name, (completions, wall) in rows.items():
        s = sample_summary(completions)
        print(f"  {name:5s} mean tokens {s['mean_tokens']:6.1f}  distinct-2 {s['distinct_2']:.3f}  "
              f"mean log-prob/token {s['mean_logprob']:7.3f}  wall {wall:6.1f} s")


def main() -> int:
    from synthmix.models.mini import RUNGS
    from synthmix.models.pythia import pythia_config
    from synthmix.models.vllm_backend import vllm_available

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rung", default="mini-3.7m", choices=list(RUNGS))
    ap.add_argument("--pythia", default="410m")
    ap.add_argument("--layers", type=int, default=None, help="fewer layers than the Pythia size has")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--peak-tflops", type=float, default=None, help="the card's dense bf16 peak when its name is unknown")
    ap.add_argument("--model", default=None, help="model for the sampler comparison (default: a random rung)")
    ap.add_argument("--samples", type=int, default=512)
    ap.add_argument("--max-new", type=int, default=96)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device here: the GPU smoke test has nothing to measure (run it on a GPU machine)")
        return 0
    from synthmix.models.mini import neox_config

    name = torch.cuda.get_device_name(0)
    peak = args.peak_tflops * 1e12 if args.peak_tflops else bf16_peak_flops(name)
    print(f"device: {name}; bf16 dense peak {'unknown (give --peak-tflops)' if peak is None else f'{peak / 1e12:.0f} TFLOP/s'}")
    models = {args.rung: neox_config(*RUNGS[args.rung]),
              f"pythia-{args.pythia}" + (f" ({args.layers} layers)" if args.layers else ""):
                  pythia_config(args.pythia, layers=args.layers)}
    for label, config in models.items():
        n_params, tps = train_throughput(config, args.batch, args.seq, args.steps)
        mfu = f"{6 * n_params * tps / peak:.1%}" if peak else "n/a"
        print(f"train {label}: {n_params / 1e6:,.1f}M params, batch {args.batch}×{args.seq}, bf16 autocast: "
              f"{tps:,.0f} tokens/s, MFU {mfu}")
    if not vllm_available():
        print("vLLM is not installed: skipping the vLLM vs HF sampling comparison (pip install 'synthmix[gpu]')")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.model) if args.model else random_rung_folder(args.rung, Path(tmp))
        compare_samplers(folder, args.samples, args.max_new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
