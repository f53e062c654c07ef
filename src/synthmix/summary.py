"""The short results table ``synthmix run`` prints at the end: one row per condition, headline metrics."""

from __future__ import annotations

from typing import Any

from rich.table import Table

MAX_ROWS = 40
HEADLINE = ("score", "ece", "oc_gap", "self_bleu", "distinct_2", "perplexity", "parse_rate", "share_examples")


def results_table(study: Any) -> Table | None:
    """A rich table of the headline metrics per condition, or None when nothing has been scored yet."""
    from synthmix.driver import open_db

    db = open_db(study)
    try:
        scores = db.frame("scores")
    finally:
        db.close()
    if scores.empty:
        return None
    wide = scores.pivot_table(index=["model", "task", "regime", "iteration", "share", "seed"], columns="metric",
                              values="value").reset_index()
    metrics = [m for m in HEADLINE if m in wide.columns]
    shown = wide.sort_values(["model", "task", "regime", "iteration", "share", "seed"]).head(MAX_ROWS)
    more = f"; first {MAX_ROWS} shown, all in `synthmix export`" if len(wide) > MAX_ROWS else ""
    table = Table(title=f"{study.name}: results ({len(wide)} conditions{more})")
    for col in ["model", "task", "regime", "iteration", "share", "seed", *metrics]:
        table.add_column(col, justify="right" if col not in ("model", "task", "regime") else "left")
    for _, row in shown.iterrows():
        cells = [str(row["model"]), str(row["task"]), str(row["regime"]), str(int(row["iteration"])),
                 f"{row['share']:g}", str(int(row["seed"]))]
        cells += ["—" if row[m] != row[m] else f"{row[m]:.3f}" for m in metrics]
        table.add_row(*cells)
    return table
