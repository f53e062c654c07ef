"""The short results table ``synthmix run`` prints at the end: one row per condition, headline metrics, 80 columns.

Columns that hold one value for every row (a single model, task, regime or seed) move into the title, and a
model shows by the last part of its path or hub id, so the table fits a terminal 80 characters wide (a name
longer than its column wraps, never cut).
``synthmix status --conditions`` prints the wide form with every headline metric.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import pandas as pd
from rich import box
from rich.table import Table

MAX_ROWS = 40
HEADLINE = ("score", "ece", "oc_gap", "self_bleu", "distinct_2", "perplexity", "parse_rate", "share_examples")
NARROW = ("score", "ece", "self_bleu", "parse_rate")  # accuracy, calibration, diversity, writer health
CONDITION = ("model", "task", "regime", "iteration", "share", "seed")
SHORT = {"iteration": "t", "self_bleu": "s-bleu", "parse_rate": "parse"}


def model_label(model: str) -> str:
    """A model as the short table shows it: a local folder or a hub id by its last part (``pythia-410m``)."""
    return PurePath(model).name


def _scores(study: Any) -> pd.DataFrame:
    """Condition × metric of the current plan's conditions, wide, sorted (empty when nothing is scored yet)."""
    from synthmix.driver import open_db

    from synthmix.exports import planned_rows

    db = open_db(study)
    try:
        scores = planned_rows(db.frame("scores"), db.frame("runs"))
    finally:
        db.close()
    if scores.empty:
        return scores
    wide = scores.pivot_table(index=list(CONDITION), columns="metric", values="value").reset_index()
    return wide.sort_values(list(CONDITION)).reset_index(drop=True)


def _cell(col: str, value: Any, wide: bool = False) -> str:
    """One formatted cell."""
    if col == "model" and not wide:
        return model_label(str(value))
    if col in ("iteration", "seed"):
        return str(int(value))
    if col == "share":
        return f"{value:g}"
    if col in ("model", "task", "regime"):
        return str(value)
    return "—" if value != value else f"{value:.3f}"


def results_table(study: Any, wide: bool = False) -> Table | None:
    """The headline metrics per condition (``wide``: every condition column and headline metric), or None."""
    scores = _scores(study)
    if scores.empty:
        return None
    metrics = [m for m in (HEADLINE if wide else NARROW) if m in scores.columns]
    if wide:
        fixed: list[str] = []
        varying = list(CONDITION)
    else:
        fixed = [c for c in CONDITION if c not in ("iteration", "share") and scores[c].nunique() == 1]
        varying = [c for c in CONDITION if c not in fixed]
    shown = scores if wide else scores.head(MAX_ROWS)
    more = "" if len(shown) == len(scores) else f"; first {MAX_ROWS} shown, all in `synthmix status --conditions`"
    same = ", ".join(f"{c} {_cell(c, scores[c].iloc[0])}" for c in fixed)
    title = f"{study.name}: {len(scores)} conditions{more}" + (f"\n{same}" if same else "")
    table = Table(title=title, box=None if not wide else box.SIMPLE_HEAD, pad_edge=False)
    for col in [*varying, *metrics]:
        table.add_column(SHORT.get(col, col) if not wide else col, overflow="fold",
                         justify="left" if col in ("model", "task", "regime") else "right")
    for _, row in shown.iterrows():
        table.add_row(*(_cell(c, row[c], wide) for c in [*varying, *metrics]))
    return table
