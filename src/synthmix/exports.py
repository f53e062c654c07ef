"""``synthmix export``: the tidy tables of what the study's current plan uses, earlier attempts kept apart.

The database keeps every artifact it ever ingested, including pools of attempts that failed or that an
earlier version of the study planned. The exported ``samples`` and ``artifacts`` hold only the artifacts the
current plan uses and that finished; ``samples_other`` and ``artifacts_other`` hold the rest with an
``attempt`` column (``failed``: a failed attempt of the current plan, kept for diagnosis; ``earlier``: an
artifact the current plan no longer uses). ``scores``, ``examples`` and ``mixes`` hold the conditions the current plan
has (a condition dropped from the study file keeps its rows in the database only). ``examples`` gains each example's ``prompt`` and ``gold`` answer
(the task's ``prompt`` and ``reference``), so a prediction can be read beside what was asked. The report
reads the same restriction for samples and failures (``current_frames``): its pools and failure warnings
are the current plan's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from synthmix.config import Study
from synthmix.errors import StoreError

FORMATS = ("csv", "parquet")
SPLIT_TABLES = ("samples", "artifacts")  # tables whose rows belong to one artifact


def attempt_labels(artifact_ids: pd.Series, current: set[str], failed: set[str]) -> pd.Series:
    """``current``, ``failed`` (a failed attempt) or ``earlier`` (not used by the current plan) per artifact id."""
    return artifact_ids.map(lambda a: "failed" if a in failed else ("current" if a in current else "earlier"))


def example_gold(study: Study) -> pd.DataFrame:
    """(task, example_id, prompt, gold) of every example of the split each of the study's tasks is scored on."""
    from synthmix.steps.evaluate import scored_split
    from synthmix.tasks import get_task

    rows = []
    for name in dict.fromkeys(t for b in study.blocks for t in b.tasks):
        task = get_task(name, **study.tasks.get(name, {}))
        for ex in task.load(scored_split(task, study.evaluation.split)):
            rows.append((name, str(task.example_id(ex)), task.prompt(ex), task.reference(ex)))
    return pd.DataFrame(rows, columns=["task", "example_id", "prompt", "gold"])


def planned_rows(df: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The rows of a condition-keyed table whose condition the current plan has (the driver keeps ``runs`` to it)."""
    from synthmix.plan import CONDITION_COLUMNS

    if df.empty or runs.empty or not set(CONDITION_COLUMNS) <= set(df.columns):
        return df
    planned = pd.MultiIndex.from_frame(runs[list(CONDITION_COLUMNS)].drop_duplicates())
    keep = pd.MultiIndex.from_frame(df[list(CONDITION_COLUMNS)]).isin(planned)
    return df.loc[keep].reset_index(drop=True)


def current_frames(frames: Any) -> Any:
    """The report's ``StudyFrames`` restricted to the current plan: scores, examples and mixes of planned conditions
    (a condition a study file no longer has keeps its rows in the database, not in the report), the current pools'
    samples, and failures of planned steps (provenance keeps all)."""
    import dataclasses

    current = set(frames.runs["artifact_id"])
    samples = frames.samples
    if (frames.runs["step"] == "generate").any():  # the plan lists its pools: samples of any other are older
        samples = samples.loc[samples["artifact_id"].isin(current)].reset_index(drop=True)
    return dataclasses.replace(frames, samples=samples, scores=planned_rows(frames.scores, frames.runs),
                               examples=planned_rows(frames.examples, frames.runs),
                               mixes=planned_rows(frames.mixes, frames.runs),
                               failures={a: e for a, e in frames.failures.items() if a in current})


def export_frames(study: Study) -> dict[str, pd.DataFrame]:
    """Table name → frame of everything ``export_study`` writes."""
    from synthmix.driver import open_db

    db = open_db(study)
    try:
        frames = {t: db.frame(t) for t in ("runs", "scores", "examples", "samples", "mixes", "artifacts")}
        failed = set(db.failed())
    finally:
        db.close()
    current = set(frames["runs"]["artifact_id"])
    for table in SPLIT_TABLES:
        df = frames[table]
        attempt = attempt_labels(df["artifact_id"], current, failed)
        frames[table] = df.loc[attempt == "current"].reset_index(drop=True)
        frames[f"{table}_other"] = df.loc[attempt != "current"].assign(attempt=attempt[attempt != "current"]).reset_index(drop=True)
    for table in ("scores", "examples", "mixes"):  # rows of conditions the study file no longer has stay in the database
        frames[table] = planned_rows(frames[table], frames["runs"])
    if not frames["examples"].empty:
        frames["examples"] = frames["examples"].merge(example_gold(study), on=["task", "example_id"], how="left")
    return frames


def export_study(study: Study, out: Path, fmt: str) -> list[Path]:
    """Write the study's tidy tables as CSV or Parquet into ``out``; returns the files written."""
    if fmt not in FORMATS:
        raise StoreError(f"unknown export format {fmt!r}; use csv or parquet")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in export_frames(study).items():
        path = out / f"{name}.{fmt}"
        df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path, index=False)
        written.append(path)
    return written
