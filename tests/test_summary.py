"""The end-of-run table fits 80 columns; ``status --conditions`` shows the wide form."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from synthmix.driver import open_db
from synthmix.summary import model_label, results_table

MODELS = ["/home/me/checkpoints/tiny-llama-1b-instruct", "EleutherAI/pythia-410m"]
TASKS = ["mini-commonsense", "mini-factual"]


def _study(tmp_path: Path) -> SimpleNamespace:
    study = SimpleNamespace(name="wide-study", study_dir=tmp_path, store=tmp_path / "store")
    open_db(study).close()  # creates the tables
    rows = []
    for model in MODELS:
        for task in TASKS:
            for t, share in ((0, 0.0), (1, 0.0), (1, 0.25), (1, 0.5)):
                for metric, value in (("score", 0.61234), ("ece", 0.0712), ("self_bleu", 0.4), ("parse_rate", 0.98),
                                      ("perplexity", 12.5), ("oc_gap", 0.01)):
                    rows.append((model, task, share, t, 0, "replace", metric, value))
    with sqlite3.connect(tmp_path / "results.sqlite") as db:
        db.executemany("INSERT INTO scores (model, task, share, iteration, seed, regime, metric, value) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return study


def _render(table, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    return console.export_text().splitlines()


def test_end_of_run_table_fits_80_columns_without_cutting_cells(tmp_path: Path) -> None:
    lines = _render(results_table(_study(tmp_path)), 80)
    assert max(len(line) for line in lines) <= 80
    assert not any("…" in line for line in lines)
    body = [line.split() for line in lines if "0.612" in line]
    assert len(body) == 16
    assert body[0] == ["tiny-llama-1b-instruct", "mini-commonsense", "0", "0", "0.612", "0.071", "0.400", "0.980"]
    assert body[8] == ["pythia-410m", "mini-commonsense", "0", "0", "0.612", "0.071", "0.400", "0.980"]
    assert any("regime replace, seed 0" in line for line in lines)


def test_wide_table_has_every_condition_column_and_headline_metric(tmp_path: Path) -> None:
    lines = _render(results_table(_study(tmp_path), wide=True), 200)
    header = next(line for line in lines if "model" in line).split()
    assert header == ["model", "task", "regime", "iteration", "share", "seed", "score", "ece", "oc_gap", "self_bleu",
                      "perplexity", "parse_rate"]


def test_model_label_shows_a_local_folder_by_name() -> None:
    assert model_label("/home/me/checkpoints/tiny-llama") == "tiny-llama"
    assert model_label("EleutherAI/pythia-410m") == "pythia-410m" and model_label("mini-120k") == "mini-120k"
