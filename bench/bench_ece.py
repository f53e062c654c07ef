"""Bench: 10-bin ECE on 1,000,000 predictions, synthmix against netcal (the reference implementation).

Run: .venv/bin/python bench/bench_ece.py
Prints both timings (best of several calls) and their ratio, measured in the same process on the same
data, and the difference between the two values. Goal: >= 5x netcal. Timings on a shared machine are
noisy; the ratio is the claim.
"""

import time

import numpy as np
from netcal.metrics import ECE

from synthmix.metrics.calibration import expected_calibration_error

N_ITEMS = 1_000_000


def best_of(repeats: int, run) -> float:
    """Smallest wall time of `repeats` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.0, 1.0, N_ITEMS)
    correct = (rng.uniform(size=N_ITEMS) < confidence**1.3).astype(np.int64)
    netcal = ECE(bins=10)
    ours = expected_calibration_error(confidence, correct)
    theirs = netcal.measure(confidence, correct)
    ours_s = best_of(7, lambda: expected_calibration_error(confidence, correct))
    theirs_s = best_of(7, lambda: netcal.measure(confidence, correct))
    print(f"ECE on {N_ITEMS:,} items: {ours:.12f} (netcal {theirs:.12f}, |difference| {abs(ours - theirs):.1e})")
    print(f"synthmix: {ours_s * 1e3:8.1f} ms")
    print(f"netcal:   {theirs_s * 1e3:8.1f} ms")
    print(f"speed-up: {theirs_s / ours_s:8.1f}x (goal >= 5x)")


if __name__ == "__main__":
    main()
