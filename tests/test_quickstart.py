"""End to end: a micro study runs through the real driver and executor; a second run executes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmix.config import load_study
from synthmix.driver import open_db, run_study
from synthmix.executors.local import LocalExecutor


@pytest.fixture(scope="module")
def first_run(micro_first_run):
    return micro_first_run


def test_micro_study_runs_every_step(first_run) -> None:
    study, summary = first_run
    assert summary.ok, summary.failed
    assert summary.executed == summary.total


def test_micro_study_second_run_executes_nothing(first_run) -> None:
    study, _ = first_run
    again = run_study(study, LocalExecutor(jobs=1))
    assert again.executed == 0 and again.already_done == again.total


def test_micro_study_database_holds_scores_mixes_and_examples(first_run) -> None:
    study, _ = first_run
    db = open_db(study)
    try:
        scores = db.frame("scores")
        examples = db.frame("examples")
        mixes = db.frame("mixes")
    finally:
        db.close()
    metrics = set(scores.metric)
    assert {"score", "f1", "exact_match", "ece", "oc_gap", "self_bleu", "distinct_1", "perplexity", "share_examples",
            "train_loss"} <= metrics
    assert len(scores[["share", "iteration"]].drop_duplicates()) == 3  # t=0; t=1 at shares 0 and 0.5
    assert examples.groupby(["share", "iteration"]).size().eq(16).all()
    half = mixes[mixes.share == 0.5].iloc[0]
    assert (half.n_external, half.n_synthetic) == (16, 0)


def test_quickstart_study_validates_and_plans() -> None:
    from synthmix.plan import build_plan

    study = load_study(Path(__file__).parents[1] / "studies" / "quickstart.yaml")
    counts = build_plan(study).counts()
    assert counts["pretrain"] == 2 and counts["generate"] == 4


def test_micro_study_baselines_command_compares_the_iteration_0_model(first_run, micro_study: Path) -> None:
    from typer.testing import CliRunner

    from synthmix.cli import app

    result = CliRunner().invoke(app, ["baselines", str(micro_study)])
    assert result.exit_code == 0, result.output
    assert "mini-factual" in result.output and "question_type_answer" in result.output
    assert "16" in result.output  # the 16 evaluated examples are paired with the baseline's
