"""``synthmix publish``: the results page renders from its snapshot, the snapshot is the database's rows, and --check bites."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthmix.cli import app
from synthmix.config import AnalysisSettings
from synthmix.report.horizon import regime_contrasts, table_horizon, table_regime_contrasts
from synthmix.report.paper_claims import claim_tasks, claim_threshold
from synthmix.report.results_page import read_snapshot, publish, snapshot_frames, wall_times
from synthmix.report.tables import StudyFrames, cell_summary, load_frames


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, study_builder) -> tuple:
    """The report fixture's database (3 seeds) published once from the database."""
    tmp = tmp_path_factory.mktemp("publish")
    study = study_builder(tmp, seeds=(0, 1, 2), failed=False)
    page = publish(study, tmp / "docs" / "fixture.md", command="synthmix publish fixture.yaml --out docs/fixture.md")
    return study, page


def test_page_from_the_database_equals_the_page_from_its_snapshot(published: tuple) -> None:
    study, page = published
    first = page.read_text(encoding="utf-8")
    again = publish(study, page, from_snapshot=True, command="synthmix publish fixture.yaml --out docs/fixture.md")
    assert again.read_text(encoding="utf-8") == first
    assert "## The seed's claims in this study" in first and "## What ran" in first
    assert (page.parent / "fixture" / "share_curves.png").stat().st_size > 1000
    assert "Failed steps: none." in first


def test_snapshot_holds_the_database_rows_verbatim(published: tuple) -> None:
    study, page = published
    db = load_frames(study)
    snap = read_snapshot(page.parent / "fixture" / "data", AnalysisSettings())
    key = ["model", "task", "share", "iteration", "seed", "regime", "metric"]
    a = db.scores.sort_values(key).reset_index(drop=True)
    b = snap.scores.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert set(snap.runs["artifact_id"]) == set(db.runs["artifact_id"])


def test_table1_numbers_on_the_page_are_the_engines(published: tuple) -> None:
    study, page = published
    cells = cell_summary(load_frames(study))
    row = cells.loc[(cells["model"] == "mini-b") & (cells["task"] == "math") & (cells["iteration"] == 2)
                    & (cells["share"] == 0.5) & (cells["metric"] == "score")].iloc[0]
    assert f"{row['mean']:.3f} [{row['low']:.3f}, {row['high']:.3f}]" in page.read_text(encoding="utf-8")


def test_wall_times_count_each_artifact_once(published: tuple) -> None:
    study, _ = published
    w = wall_times(load_frames(study)).set_index("step")
    assert w.loc["evaluate", "done"] == 108 and w.loc["evaluate", "failed"] == 0
    assert w.loc["evaluate", "wall_min"] == pytest.approx(108 * 1.5 / 60)


def test_check_passes_then_fails_after_an_edit(published: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    study, page = published
    monkeypatch.setattr("synthmix.cli._load", lambda path: study)  # the fixture's models are not rungs a YAML may name
    runner = CliRunner()
    base = ["publish", "fixture.yaml", "--out", str(page)]
    published_again = runner.invoke(app, [*base, "--from-snapshot"])
    assert published_again.exit_code == 0, published_again.output
    assert runner.invoke(app, [*base, "--check"]).exit_code == 0
    page.write_text(page.read_text(encoding="utf-8").replace("0.", "0,", 1), encoding="utf-8")
    result = runner.invoke(app, [*base, "--check"])
    assert result.exit_code == 1 and "differs" in result.output


def test_snapshot_missing_names_the_file(tmp_path: Path) -> None:
    from synthmix.errors import DataError

    with pytest.raises(DataError, match="scores.csv"):
        read_snapshot(tmp_path, AnalysisSettings())


# ---------------------------------------------------------------- claims and the horizon on planted data


def _scores(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["model", "task", "share", "iteration", "seed", "regime", "metric", "value"])


def _frames(scores: pd.DataFrame) -> StudyFrames:
    empty = pd.DataFrame()
    return StudyFrames(runs=empty, scores=scores, examples=empty, samples=empty, mixes=empty, artifacts=empty)


def test_task_order_claim_holds_when_math_drops_far_more_than_reading() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for task, base, drop in (("mini-math", 0.6, 0.30), ("mini-reading", 0.5, 0.02)):
        for seed in range(4):
            noise = rng.normal(0, 0.01)
            for share in (0.0, 0.1, 0.2, 0.3, 0.5):
                rows.append(("m", task, share, 1, seed, "replace", "score",
                             base + noise - drop * share / 0.5 + rng.normal(0, 0.005)))
    frames = _frames(_scores(rows))
    cells = cell_summary(frames)
    result = claim_tasks(frames, cells)
    assert result.verdict == "holds", result.shows
    assert "mini-reading" in result.shows and "Holm p" in result.shows
    threshold = claim_threshold(cells)
    assert threshold.verdict in ("holds", "not settled", "contradicted") and "≤ 20 %" in threshold.shows


def _horizon_rows(seeds: int = 3) -> pd.DataFrame:
    """Replace at 100 % loses 0.06 per iteration; accumulate holds; the 0 % arm stays; small seed noise."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(seeds):
        s0 = 0.6 + rng.normal(0, 0.01)
        rows.append(("m", "mini-math", 0.0, 0, seed, "replace", "score", s0))
        for it in range(1, 6):
            rows.append(("m", "mini-math", 0.0, it, seed, "replace", "score", s0 + rng.normal(0, 0.005)))
            rows.append(("m", "mini-math", 0.0, it, seed, "accumulate", "score", s0 + rng.normal(0, 0.005)))
            rows.append(("m", "mini-math", 1.0, it, seed, "replace", "score", s0 - 0.06 * it + rng.normal(0, 0.005)))
            rows.append(("m", "mini-math", 1.0, it, seed, "accumulate", "score", s0 - 0.01 + rng.normal(0, 0.005)))
    return _scores(rows)


def test_horizon_table_calls_replace_worse_and_accumulate_not() -> None:
    frames = _frames(_horizon_rows())
    table = table_horizon(frames, cell_summary(frames))
    d = table.data.set_index("regime")
    assert d.loc["replace", "last_iteration"] == 5
    assert d.loc["replace", "verdict"] == "worse"
    assert d.loc["replace", "vs0_high"] < 0
    assert d.loc["accumulate", "verdict"] != "worse" or d.loc["accumulate", "vs0_difference"] > -0.02


def test_regime_contrast_is_a_paired_seed_t_test_with_holm() -> None:
    from scipy import stats

    rows = _horizon_rows()
    frames = _frames(rows)
    table = table_regime_contrasts(frames)
    r = table.data.iloc[0]
    assert (r["first"], r["second"]) == ("accumulate 100%", "replace 100%")
    a = rows.loc[(rows["regime"] == "accumulate") & (rows["share"] == 1.0) & (rows["iteration"] == 5)].sort_values("seed")
    b = rows.loc[(rows["regime"] == "replace") & (rows["share"] == 1.0) & (rows["iteration"] == 5)].sort_values("seed")
    assert r["pvalue"] == pytest.approx(stats.ttest_rel(b["value"], a["value"]).pvalue)
    assert r["difference"] == pytest.approx(b["value"].mean() - a["value"].mean())
    assert r["significant"] and r["family_m"] == 1
    assert "second worse" in table.display["reads"].iloc[0]


def test_regime_contrasts_need_two_seeds() -> None:
    assert regime_contrasts(_horizon_rows(seeds=1), 5).empty


def test_snapshot_frames_sort_and_keep_only_planned_artifacts() -> None:
    runs = pd.DataFrame({"model": ["m"], "task": ["t"], "share": [0.0], "iteration": [0], "seed": [0], "regime": ["replace"],
                         "role": ["evaluate"], "artifact_id": ["a"], "step": ["evaluate"], "status": ["done"], "wall_s": [1.0]})
    arts = pd.DataFrame({"artifact_id": ["a", "old"], "kind": ["evaluate"] * 2, "label": ["x", "y"], "wall_s": [1.0, 2.0],
                         "peak_rss_mb": [1.0, 1.0], "device": ["cpu", "cpu"], "manifest": ["{}", "{}"]})
    frames = StudyFrames(runs=runs, scores=_horizon_rows(1), examples=pd.DataFrame(), samples=pd.DataFrame(),
                         mixes=pd.DataFrame(columns=["model", "task", "share", "iteration", "seed", "regime"]), artifacts=arts)
    snap = snapshot_frames(frames)
    assert list(snap["artifacts"]["artifact_id"]) == ["a"] and "manifest" not in snap["artifacts"]


def _collapse_rows() -> pd.DataFrame:
    """Replace 100 % declines in score and diversity; accumulate 50 % holds; replace 50 % sits 0.05 under remove 50 %."""
    rng = np.random.default_rng(2)
    rows = []
    for seed in range(3):
        s0 = 0.6 + rng.normal(0, 0.01)
        for metric, base in (("score", s0), ("self_bleu", 0.3), ("perplexity", 20.0)):
            rows.append(("m", "mini-math", 0.0, 0, seed, "replace", metric, base))
        for it in range(1, 6):
            jitter = lambda: rng.normal(0, 0.004)  # noqa: E731
            arms = {("replace", 1.0): (s0 - 0.06 * it, 0.3 + 0.05 * it, 20.0 + 3 * it),
                    ("accumulate", 0.5): (s0 - 0.005, 0.3, 20.0), ("replace", 0.5): (s0 - 0.05, 0.31, 20.5),
                    ("remove", 0.5): (s0, 0.3, 20.0)}
            for regime in ("replace", "accumulate", "remove"):
                arms[(regime, 0.0)] = (s0, 0.3, 20.0)
            for (regime, share), values in arms.items():
                for metric, v in zip(("score", "self_bleu", "perplexity"), values, strict=True):
                    rows.append(("m", "mini-math", share, it, seed, regime, metric, v + jitter() * (10 if metric == "perplexity" else 1)))
    return _scores(rows)


def test_collapse_claims_read_the_planted_horizon() -> None:
    from synthmix.report.collapse_claims import collapse_claims, seed_slopes

    frames = _frames(_collapse_rows())
    claims = {c.claim.split(": ", 1)[1]: c for c in collapse_claims(frames)}
    assert claims["recursion degrades"].verdict == "holds", claims["recursion degrades"].shows
    assert claims["accumulating holds"].verdict == "holds", claims["accumulating holds"].shows
    assert claims["synthetic data hurts beyond the real data it displaces"].verdict == "holds"
    assert claims["recursion narrows the output"].verdict == "holds", claims["recursion narrows the output"].shows
    slope, low, high, n = seed_slopes(_collapse_rows(), "replace", 1.0)
    assert n == 3 and high < 0 and slope == pytest.approx(-0.06, abs=0.005)


def test_a_flat_horizon_settles_nothing() -> None:
    from synthmix.report.collapse_claims import collapse_claims

    rows = _collapse_rows()
    rows.loc[rows["metric"] == "score", "value"] = 0.6 + np.random.default_rng(3).normal(0, 0.01, (rows["metric"] == "score").sum())
    frames = _frames(rows)
    claims = {c.claim.split(": ", 1)[1]: c for c in collapse_claims(frames)}
    assert claims["recursion degrades"].verdict != "holds"
    assert claims["accumulating holds"].verdict != "holds"
