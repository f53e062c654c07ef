"""analyze_table on the transcribed seed tables and on a seeded table written here; rendering does not fail."""

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from synthmix.analysis.analyze import analyze_table
from synthmix.analysis.budget import safe_share_budget
from synthmix.analysis.render import render_analysis, render_budget
from synthmix.analysis.tables_io import published_dir
from synthmix.errors import DataError


def _text(renderable):
    console = Console(record=True, width=200)
    console.print(renderable)
    return console.export_text()


def test_analyze_published_table3_reports_ranking_failure_and_unsupported_tests():
    res = analyze_table(published_dir() / "table3.csv", n_resamples=50)
    assert any(c.claim_id == "ranking" and c.holds is False for c in res.claims)
    assert any("no seed column" in n for n in res.notes)
    out = _text(render_analysis(res))
    assert "claims audit" in out and "cannot support" in out


def test_analyze_published_table1_safe_share_for_math():
    res = analyze_table(published_dir() / "table1.csv", n_resamples=50)
    math_fit = res.curve_fits[res.curve_fits.task == "math"].iloc[0]
    assert math_fit.safe_share == "23.2%"


def test_analyze_seeded_table_runs_tests(tmp_path):
    rng = np.random.default_rng(0)
    rows = [dict(model="m", task=t, share=s, iteration=1, seed=k, regime="replace", metric="score",
                 value=0.5 - 0.3 * s + rng.normal(0, 0.01)) for t in ("math", "code") for s in (0, 0.1, 0.3, 0.5) for k in range(3)]
    path = tmp_path / "scores.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    res = analyze_table(path, n_resamples=100)
    assert (res.comparisons["family_m"] == 6).all() and res.comparisons["pvalue"].notna().all()
    assert (res.comparisons["test"] == "paired t (seeds)").all()
    assert (res.curve_fits["omitted"] == "cubic and breakpoint: 4 points for 4 parameters (needs ≥ 5)").all()
    assert res.curve_fits["breakpoint"].isna().all() and res.curve_fits["inflection"].isna().all()
    assert (res.curve_fits["safe_low"] <= res.curve_fits["safe_high"]).all()
    assert "share vs 0 % (bonferroni within model × iteration × regime × metric; m per row)" in _text(render_analysis(res))


def test_analyze_rejects_share_in_percent_naming_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("model,task,share,iteration,metric,value\nm,math,0,1,score,0.5\nm,math,30,1,score,0.4\n")
    with pytest.raises(DataError, match=r"bad\.csv: row 2 \(line 3\), column 'share': 30.0 is outside \[0, 1\]"):
        analyze_table(path)


def test_render_budget_mentions_caveats():
    assert "caveat" in _text(render_budget(safe_share_budget(6.9e9, "math")))
