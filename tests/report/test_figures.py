"""Figures: plot_* functions draw labelled axes; figures a study cannot support are omitted with a reason."""

from __future__ import annotations

import pandas as pd

from synthmix.report.figures import build_figures, plot_degradation_heatmap, plot_share_curve
from synthmix.report.tables import build_tables, load_frames


def test_plot_share_curve_labels_axes_with_units():
    data = pd.DataFrame({"model": "m", "regime": "replace", "iteration": 1, "share": [0.0, 0.3, 0.5],
                         "mean": [0.6, 0.5, 0.4], "low": [0.55, 0.45, 0.35], "high": [0.65, 0.55, 0.45],
                         "significant": [False, True, True]})
    ax = plot_share_curve(data)
    assert "%" in ax.get_xlabel() and "0–1" in ax.get_ylabel()
    assert list(ax.get_lines()[0].get_ydata()) == [0.6, 0.5, 0.4]


def test_plot_degradation_heatmap_writes_each_value():
    data = pd.DataFrame({"task": ["math", "math", "code"], "share": [0.1, 0.3, 0.1], "relative_change": [-0.05, -0.2, 0.01]})
    ax = plot_degradation_heatmap(data)
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["+1", "-20", "-5", "—"]


def test_build_figures_omits_size_figures_for_one_model_with_reasons(tmp_path, study_builder):
    frames = load_frames(study_builder(tmp_path / "db"))
    keep = lambda df: df.loc[df["model"] != "mini-b"] if "model" in df else df  # noqa: E731
    frames.scores, frames.examples, frames.runs = keep(frames.scores), keep(frames.examples).head(0), keep(frames.runs)
    _, _, cells = build_tables(frames)
    figs, omitted = build_figures(frames, cells, tmp_path / "figs", svg=False)
    reasons = {o.key: o.reason for o in omitted}
    assert "2 model sizes" in reasons["degradation_vs_size"] and "2 model sizes" in reasons["safe_share_vs_size"]
    assert "confidences" in reasons["reliability"]
    assert {f.key for f in figs} >= {"share_curves", "iterations", "heatmap", "loss_curves"}
    assert all(f.png.stat().st_size > 1000 and f.svg is None for f in figs)


def test_loss_curve_frame_carries_training_and_heldout_curves(tmp_path, study_builder):
    from synthmix.report.figures import loss_curve_frame, plot_loss_curves

    frames = load_frames(study_builder(tmp_path))
    data = loss_curve_frame(frames)
    first = data.loc[data["label"] == data["label"].iloc[0]]
    assert first.loc[first["curve"] == "heldout", ["step", "loss"]].values.tolist() == [[0.0, 3.2], [10.0, 1.1], [20.0, 0.9]]
    assert len(first.loc[first["curve"] == "train"]) == 20
    ax = plot_loss_curves(first)
    assert [line.get_linestyle() for line in ax.get_lines()] == ["-", "--"]
