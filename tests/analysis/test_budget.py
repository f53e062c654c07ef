"""safe_share_budget from published fits and from scores tables written here."""

import numpy as np
import pandas as pd
import pytest

from synthmix.analysis import budget
from synthmix.errors import DataError


def test_published_eq3_reproduces_printed_formula():
    b = budget.safe_share_budget(6.9e9, "math", fit="du2025-eq3")
    assert b.share == pytest.approx(0.12 + 0.035 * np.log10(6.9), abs=1e-12)
    assert b.ci is None and "2025" in b.citation and not b.extrapolated


def test_published_refit_has_ci_and_caveats():
    b = budget.safe_share_budget(6.9e9, "math")
    assert b.ci.low < b.share < b.ci.high
    assert any("R² = -1.83" in c for c in b.caveats)


def test_budget_refuses_extrapolation_unless_asked():
    with pytest.raises(DataError, match="outside the fitted model sizes"):
        budget.safe_share_budget(70e9, "math")
    assert budget.safe_share_budget(70e9, "math", extrapolate=True).extrapolated


def test_budget_rejects_task_the_fit_does_not_cover():
    with pytest.raises(DataError, match="covers task 'math' only"):
        budget.safe_share_budget(1e9, "code")


def _scores(sizes, seeds=(0, 1)):
    rows = []
    for model, n in sizes.items():
        tolerance = 0.1 + 0.05 * np.log10(n / 1e8)  # bigger models degrade later
        for seed in seeds:
            rows.append(dict(model=model, task="math", share=0.0, iteration=1, seed=seed, regime="replace", metric="n_params", value=n))
            for share in (0.0, 0.1, 0.2, 0.3, 0.4):
                y = 0.5 * (1 - max(0.0, share - tolerance) * 0.8) + 0.001 * seed
                rows.append(dict(model=model, task="math", share=share, iteration=1, seed=seed, regime="replace", metric="score", value=y))
    return pd.DataFrame(rows)


def test_budget_from_scores_grows_with_size():
    scores = _scores({"m-small": 1e8, "m-mid": 1e9, "m-big": 1e10})
    small = budget.safe_share_budget(1e8, "math", scores=scores)
    big = budget.safe_share_budget(1e10, "math", scores=scores)
    assert big.share > small.share and small.source == "study"


def test_budget_from_scores_needs_n_params():
    scores = _scores({"m-small": 1e8, "m-big": 1e10})
    scores = scores[scores.metric != "n_params"]
    with pytest.raises(DataError, match="no 'n_params' metric row"):
        budget.safe_share_budget(1e9, "math", scores=scores)


def test_budget_from_scores_refuses_a_line_through_two_sizes():
    scores = _scores({"m-small": 1e8, "m-big": 1e10})
    with pytest.raises(DataError, match=r"no safe-share fit for 'math': 2 points for 2 parameters \(needs ≥ 3\)"):
        budget.safe_share_budget(1e9, "math", scores=scores)
