"""Bench: exact Self-BLEU-4 on 1,000 texts of ~25 tokens, against the nltk loop and the fast-bleu package.

Run: .venv/bin/python bench/bench_self_bleu.py  (fast-bleu comes with the `bench` extra)
The nltk loop (each text against the 999 others, sentence_bleu with smoothing method1) takes over a
minute, so it is timed on the first NLTK_HYPOTHESES hypotheses (each still against all others) and
extrapolated linearly per hypothesis; those hypotheses' values are checked equal to ours. fast-bleu
runs on the full set. Goals: >= 1,000x the nltk loop, >= 10x fast-bleu. Timings on a shared machine
are noisy; the ratios are the claim.
"""

import time

import numpy as np
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from synthmix.metrics.diversity import self_bleu, self_bleu_scores

N_TEXTS = 1_000
NLTK_HYPOTHESES = 25


def make_texts(seed: int = 0) -> list[str]:
    """1,000 texts of 18-32 tokens drawn from a Zipf-like 2,000-word vocabulary (so n-grams repeat)."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"w{i}" for i in range(2000)])
    weights = 1.0 / np.arange(1, 2001)
    weights /= weights.sum()
    return [" ".join(rng.choice(vocabulary, size=rng.integers(18, 33), p=weights)) for _ in range(N_TEXTS)]


def best_of(repeats: int, run) -> float:
    """Smallest wall time of `repeats` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    texts = make_texts()
    tokens = [text.split() for text in texts]
    ours_s = best_of(5, lambda: self_bleu(texts))
    ours = self_bleu_scores(texts)

    smoothing = SmoothingFunction().method1
    start = time.perf_counter()
    nltk_values = [
        sentence_bleu(tokens[:i] + tokens[i + 1 :], tokens[i], smoothing_function=smoothing)
        for i in range(NLTK_HYPOTHESES)
    ]
    nltk_s = (time.perf_counter() - start) * N_TEXTS / NLTK_HYPOTHESES
    max_diff = float(np.max(np.abs(np.array(nltk_values) - ours[:NLTK_HYPOTHESES])))

    print(f"Self-BLEU-4, {N_TEXTS} texts, {sum(map(len, tokens)) / N_TEXTS:.1f} tokens on average: {ours.mean():.6f}")
    print(f"synthmix self_bleu:  {ours_s * 1e3:9.1f} ms")
    print(f"nltk loop:           {nltk_s * 1e3:9.1f} ms (extrapolated from {NLTK_HYPOTHESES} hypotheses); "
          f"max |difference| on those {max_diff:.1e}")
    print(f"speed-up vs nltk:    {nltk_s / ours_s:9.0f}x (goal >= 1000x)")
    try:
        from fast_bleu import SelfBLEU
    except ImportError:
        print("fast-bleu not installed (pip install '.[bench]'); skipped")
        return
    fast_s = best_of(2, lambda: SelfBLEU(tokens, {"bleu4": (0.25,) * 4}).get_score())
    fast_mean = float(np.mean(SelfBLEU(tokens, {"bleu4": (0.25,) * 4}).get_score()["bleu4"]))
    print(f"fast-bleu SelfBLEU:  {fast_s * 1e3:9.1f} ms (its mean {fast_mean:.6f})")
    print(f"speed-up vs fast-bleu: {fast_s / ours_s:7.1f}x (goal >= 10x)")


if __name__ == "__main__":
    main()
