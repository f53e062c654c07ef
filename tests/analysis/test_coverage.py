"""Coverage of the engine's cell and difference intervals, simulated from a known model with 2, 3 and 5 seeds.

The model: each training seed shifts a cell's true accuracy by N(0, 0.03²) (shared by both arms of a
pair, plus an arm-specific N(0, 0.02²)); each seed is then scored on 200 test examples (0/1). The truth
of a cell is its accuracy averaged over seeds; of a comparison, the planted difference of −0.04.
"""

import time

import numpy as np
import pandas as pd
import pytest

from synthmix.analysis.comparisons import compare_cells
from synthmix.analysis.stats import bootstrap_ci

TRUE_BASE, TRUE_DIFF, N_EXAMPLES, REPLICATES = 0.6, -0.04, 200, 300


def _simulate(n_seeds: int, replicates: int, seed: int) -> pd.DataFrame:
    """A tidy scores table: one model per replicate, shares 0 and 0.5, seed means of 0/1 example scores."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, 0.03, (replicates, n_seeds))
    p0 = TRUE_BASE + shared + rng.normal(0, 0.02, (replicates, n_seeds))
    p1 = TRUE_BASE + TRUE_DIFF + shared + rng.normal(0, 0.02, (replicates, n_seeds))
    y0 = rng.binomial(N_EXAMPLES, np.clip(p0, 0, 1)) / N_EXAMPLES  # (R, S) seed means
    y1 = rng.binomial(N_EXAMPLES, np.clip(p1, 0, 1)) / N_EXAMPLES
    r, s = np.meshgrid(np.arange(replicates), np.arange(n_seeds), indexing="ij")
    frames = [pd.DataFrame({"model": r.ravel().astype(str), "task": "t", "regime": "replace", "iteration": 1,
                            "share": share, "seed": s.ravel(), "metric": "score", "value": y.ravel()})
              for share, y in ((0.0, y0), (0.5, y1))]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("n_seeds", [2, 3, 5])
def test_cell_and_difference_intervals_cover_at_least_093_with_few_seeds(n_seeds):
    start = time.perf_counter()
    cells = compare_cells(_simulate(n_seeds, REPLICATES, seed=n_seeds))
    base, arm = cells[cells.share == 0.0], cells[cells.share == 0.5]
    cell_cover = ((base.low <= TRUE_BASE) & (TRUE_BASE <= base.high)).mean()
    diff_cover = ((arm.diff_low <= TRUE_DIFF) & (TRUE_DIFF <= arm.diff_high)).mean()
    assert cell_cover >= 0.93 and diff_cover >= 0.93, (n_seeds, cell_cover, diff_cover)
    assert time.perf_counter() - start < 30


def test_percentile_bootstrap_over_seed_means_undercovers_with_two_seeds():
    sim = _simulate(2, REPLICATES, seed=2)
    base = sim[sim.share == 0.0].groupby("model")["value"]
    covered = [(ci.low <= TRUE_BASE <= ci.high) for ci in (bootstrap_ci(v.to_numpy(), 200, seed=0) for _, v in base)]
    assert np.mean(covered) < 0.7


@pytest.mark.slow
@pytest.mark.parametrize("n_seeds", [2, 3, 5])
def test_cell_and_difference_intervals_cover_095_within_monte_carlo_error_at_2000_replicates(n_seeds):
    cells = compare_cells(_simulate(n_seeds, 2000, seed=100 + n_seeds))
    base, arm = cells[cells.share == 0.0], cells[cells.share == 0.5]
    se = np.sqrt(0.95 * 0.05 / 2000)
    assert abs(((base.low <= TRUE_BASE) & (TRUE_BASE <= base.high)).mean() - 0.95) < 3 * se
    assert abs(((arm.diff_low <= TRUE_DIFF) & (TRUE_DIFF <= arm.diff_high)).mean() - 0.95) < 3 * se
