"""The report's grid-model table on the hand-built database: caption with formula, random effects and n."""

from __future__ import annotations

import pytest

from synthmix.analysis.grid_model import fit_grid_models
from synthmix.report.grid_model import grid_finding, table_grid_model
from synthmix.report.tables import Omitted, load_frames


def test_table_grid_model_caption_and_numbers(tmp_path, study_builder):
    frames = load_frames(study_builder(tmp_path))
    table = table_grid_model(frames)
    assert ("value ~ share * C(task) + share * log10_size with a random intercept per training run (model, task, seed), "
            "n = 31 (run, share) means in 8 runs") in table.caption
    fits = {m.iteration: m for m in fit_grid_models(frames.scores)}
    row = table.data.loc[(table.data["iteration"] == 2) & (table.data["quantity"] == "share × task: math − commonsense")].iloc[0]
    term = next(t for t in fits[2].terms if t.name == "share × task: math − commonsense")
    assert row.estimate == term.estimate and row.pvalue == term.pvalue
    assert term.estimate == pytest.approx(-0.313, abs=5e-4) and term.pvalue == pytest.approx(0.0148, abs=5e-5)  # math is steeper (t, 25 df)


def test_table_grid_model_one_seed_fits_items_test_set_noise_only(tmp_path, study_builder):
    table = table_grid_model(load_frames(study_builder(tmp_path, seeds=(0,))))
    assert "random intercept per item (task, example id); one seed, so test-set noise only, n = 900 per-example rows in 120 items" in table.caption
    assert set(table.data["level"]) == {"item"}


def test_table_grid_model_without_examples_omitted(tmp_path, study_builder):
    frames = load_frames(study_builder(tmp_path, seeds=(0,)))
    result = table_grid_model(type(frames)(**{**vars(frames), "examples": frames.examples.iloc[0:0]}))
    assert isinstance(result, Omitted)
    assert result.reason.startswith("iteration 1, replace: needs ≥ 2 seeds (training runs) per model and task, or one seed's")


def test_grid_finding_states_interactions_with_ci_and_p(tmp_path, study_builder):
    sentences = grid_finding(table_grid_model(load_frames(study_builder(tmp_path))))
    assert sentences[1] == ("Grid model (iteration 2, replace; seed level): math degraded faster with share than commonsense "
                            "(-0.313 per unit share [-0.560, -0.067], p = 0.0148); larger models tolerated more synthetic data "
                            "(0.598 per unit share per decade of size [0.188, 1.007], p = 0.00593).")
