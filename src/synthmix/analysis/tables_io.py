"""Read and validate the files analysis takes from users: tidy results tables and prediction files.

Files are recognised by content, not by name: Parquet by its magic bytes, JSON Lines when the first
non-blank character opens an object, CSV otherwise; anything else (binary, not UTF-8) is refused.
A column mapping (synthmix name → the file's name) and a condition filter (column = value) apply
before validation. Every problem raises a DataError naming the file, the row (1-based data row and its
line in the file) and the column, and says what to do, so the CLI can print it and exit 2.
"""

from __future__ import annotations

import csv
import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from synthmix.errors import DataError

TIDY_REQUIRED = ("model", "task", "share", "iteration", "metric", "value")
TIDY_OPTIONAL = ("seed", "regime", "n_params", "source", "unit", "marker", "note")
PREDICTION_REQUIRED = ("confidence", "correct")
REGIMES = ("replace", "accumulate", "accumulate-subsample", "verified", "remove")


def published_dir() -> Path:
    """Folder of the transcribed published tables: package data when installed, else the repo's studies/published."""
    packaged = resources.files("synthmix") / "published"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "studies" / "published"


def _cell_error(path: Path, row: int, line: int, column: str, problem: str, fix: str) -> DataError:
    """A DataError in the one format every reader uses."""
    return DataError(f"{path}: row {row} (line {line}), column '{column}': {problem}; {fix}")


def _read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Read a CSV strictly: a header, then rows with exactly as many fields as the header."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or all(not h.strip() for h in header):
            raise DataError(f"{path}: empty file (no header row); write a header line with the column names")
        header = [h.strip() for h in header]
        rows = []
        for i, fields in enumerate(reader, start=1):
            if not fields:
                continue
            if len(fields) != len(header):
                raise DataError(
                    f"{path}: row {i} (line {reader.line_num}) has {len(fields)} fields but the header has "
                    f"{len(header)} ({', '.join(header)}); give every row one value per column"
                )
            rows.append(dict(zip(header, fields)))
    return header, rows


def _read_jsonl_rows(path: Path) -> tuple[list[str], list[dict]]:
    """Read JSON Lines: one object per non-empty line."""
    rows, columns = [], []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {line_no} is not valid JSON ({exc.msg}); write one JSON object per line") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}: line {line_no} is a {type(obj).__name__}, not an object; write one JSON object per line")
            obj["__line__"] = line_no
            rows.append(obj)
            columns.extend(k for k in obj if k not in columns and k != "__line__")
    return columns, rows


def _number(path: Path, row: int, line: int, column: str, raw: object) -> float:
    """Parse one numeric cell or raise naming it."""
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _cell_error(path, row, line, column, f"not a number ({raw!r})", "write a number") from None
    if not math.isfinite(value):
        raise _cell_error(path, row, line, column, f"not finite ({raw!r})", "write a finite number")
    return value


def _read_any(path: Path) -> tuple[list[str], list[dict], list[int]]:
    """Header, rows and each row's line (row number for Parquet) of a CSV, JSONL or Parquet file, told by content."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        frame = pd.read_parquet(path)
        frame = frame.astype(object).where(frame.notna(), None)
        return list(frame.columns), frame.to_dict("records"), list(range(1, len(frame) + 1))
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise DataError(f"{path}: not a CSV, JSON Lines or Parquet file (binary content); pass one of those formats")
    if text.lstrip().startswith("{"):
        columns, rows = _read_jsonl_rows(path)
        return columns, rows, [r.pop("__line__") for r in rows]
    header, rows = _read_csv_rows(path)
    return header, rows, list(range(2, len(rows) + 2))


def _matches(raw: object, wanted: str) -> bool:
    """Whether a cell equals a filter value: as numbers when both are numbers, else as stripped text."""
    try:
        return float(raw) == float(wanted)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(raw).strip() == wanted.strip()


def _map_and_filter(path: Path, header: list[str], rows: list[dict], lines: list[int], columns: dict[str, str] | None,
                    where: dict[str, str] | None) -> tuple[list[str], list[dict], list[int]]:
    """Rename the file's columns to synthmix's names, then keep the rows matching every filter."""
    for ours, theirs in (columns or {}).items():
        if theirs not in header:
            raise DataError(f"{path}: column '{theirs}' (mapped to '{ours}') is not in the file (columns found: "
                            f"{', '.join(header)}); fix the --column mapping")
    rename = {theirs: ours for ours, theirs in (columns or {}).items()}
    header = [rename.get(h, h) for h in header]
    rows = [{rename.get(k, k): v for k, v in r.items()} for r in rows]
    for col, wanted in (where or {}).items():
        if col not in header:
            raise DataError(f"{path}: filter column '{col}' is not in the file (columns found: {', '.join(header)}); "
                            "fix the --where filter")
        keep = [i for i, r in enumerate(rows) if _matches(r.get(col), wanted)]
        if not keep:
            seen = sorted({str(r.get(col)) for r in rows})[:10]
            raise DataError(f"{path}: no row has {col} = {wanted} (values found: {', '.join(seen)}); fix the --where filter")
        rows, lines = [rows[i] for i in keep], [lines[i] for i in keep]
    return header, rows, lines


def read_predictions(path: str | Path, columns: dict[str, str] | None = None,
                     where: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a prediction file (CSV, JSONL or Parquet) with `confidence` in [0, 1] and `correct` in {0, 1}.

    Returns a frame with float `confidence`, int `correct` and, when present, str `example_id`; an example id
    that repeats (several conditions in one file, like synthmix's examples table) asks for a --where filter.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file; pass a CSV, JSONL or Parquet prediction file with columns confidence, correct")
    columns, rows, line_of = _map_and_filter(p, *_read_any(p), columns, where)
    if not rows:
        raise DataError(f"{p}: empty file (no prediction rows); it needs one row per example with columns confidence, correct")
    missing = [c for c in PREDICTION_REQUIRED if c not in columns]
    if missing:
        raise DataError(
            f"{p}: row 1 (line {line_of[0]}), column '{missing[0]}': missing (columns found: {', '.join(columns)}); "
            f"every row needs {', '.join(PREDICTION_REQUIRED)} (map other names with --column {missing[0]}=NAME)"
        )
    conf, corr, ids = [], [], []
    for i, (r, line) in enumerate(zip(rows, line_of), start=1):
        for col in PREDICTION_REQUIRED:
            if r.get(col) is None or r.get(col) == "":
                raise _cell_error(p, i, line, col, "missing value", "every row needs a value")
        c = _number(p, i, line, "confidence", r["confidence"])
        if not 0 <= c <= 1:
            raise _cell_error(p, i, line, "confidence", f"{c} is outside [0, 1]", "write the probability of the predicted answer")
        raw_correct = r["correct"]
        if isinstance(raw_correct, bool):
            raw_correct = int(raw_correct)
        if isinstance(raw_correct, str) and raw_correct.strip().lower() in ("true", "false"):
            raw_correct = int(raw_correct.strip().lower() == "true")
        k = _number(p, i, line, "correct", raw_correct)
        if k not in (0.0, 1.0):
            raise _cell_error(p, i, line, "correct", f"{raw_correct!r} is not 0 or 1", "write 1 for correct, 0 otherwise")
        conf.append(c)
        corr.append(int(k))
        if "example_id" in columns:
            ids.append(str(r.get("example_id", "")))
    frame = pd.DataFrame({"confidence": conf, "correct": corr})
    if ids:
        frame["example_id"] = ids
        repeated = frame["example_id"].duplicated()
        if repeated.any():
            i = int(np.flatnonzero(repeated.to_numpy())[0])
            raise _cell_error(p, i + 1, line_of[i], "example_id", f"{ids[i]!r} repeats an earlier row (the file holds "
                              "several conditions)", "select one condition with --where, e.g. --where model=NAME "
                              "--where share=0.5 --where seed=0")
    frame.attrs["path"] = str(p)
    return frame


def read_tidy_table(path: str | Path, columns: dict[str, str] | None = None,
                    where: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a tidy results table (CSV, JSONL or Parquet) with the condition columns, `metric` and `value`.

    `share` may be empty only on rows that are not about one share (e.g. a transcribed safe share);
    `seed` and `regime` are optional (a table of published means has neither).
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file; pass a tidy CSV, JSONL or Parquet table with columns {', '.join(TIDY_REQUIRED)}")
    header, rows, line_of = _map_and_filter(p, *_read_any(p), columns, where)
    rows = [{k: "" if v is None else v for k, v in r.items()} for r in rows]
    if not rows:
        raise DataError(f"{p}: empty table (header only); it needs one row per condition and metric")
    missing = [c for c in TIDY_REQUIRED if c not in header]
    if missing:
        raise DataError(
            f"{p}: row 1 (line {line_of[0]}), column '{missing[0]}': missing (columns found: {', '.join(header)}); "
            f"a tidy table needs {', '.join(TIDY_REQUIRED)} (map other names with --column {missing[0]}=NAME)"
        )
    out = []
    for i, (r, line) in enumerate(zip(rows, line_of, strict=True), start=1):
        rec = dict(r)
        for col in ("model", "task", "metric"):
            if col != "model" and not str(r[col]).strip():
                raise _cell_error(p, i, line, col, "empty", f"name the {col}")
            rec[col] = str(r[col]).strip()
        rec["value"] = _number(p, i, line, "value", r["value"])
        share = str(r["share"]).strip()
        rec["share"] = float("nan") if share == "" else _number(p, i, line, "share", share)
        if share and not 0 <= rec["share"] <= 1:
            raise _cell_error(p, i, line, "share", f"{rec['share']} is outside [0, 1]", "write the synthetic fraction (0.3, not 30)")
        it = _number(p, i, line, "iteration", r["iteration"])
        if it < 0 or it != int(it):
            raise _cell_error(p, i, line, "iteration", f"{r['iteration']!r} is not a non-negative integer", "write 0, 1, 2, …")
        rec["iteration"] = int(it)
        if "seed" in header and str(r["seed"]).strip() != "":
            rec["seed"] = int(_number(p, i, line, "seed", r["seed"]))
        if "regime" in header:
            regime = str(r["regime"]).strip() or "replace"
            if regime not in REGIMES:
                raise _cell_error(p, i, line, "regime", f"unknown regime {regime!r}", f"use one of {', '.join(REGIMES)}")
            rec["regime"] = regime
        if "n_params" in header and str(r["n_params"]).strip() != "":
            rec["n_params"] = _number(p, i, line, "n_params", r["n_params"])
        out.append(rec)
    frame = pd.DataFrame(out)
    if "regime" not in frame:
        frame["regime"] = "replace"
    frame.attrs["path"] = str(p)
    return frame


def load_published(name: str) -> pd.DataFrame:
    """Load one transcribed table from the published folder by file stem (e.g. 'table1')."""
    path = published_dir() / f"{name}.csv"
    if not path.is_file():
        available = sorted(f.stem for f in published_dir().glob("*.csv"))
        raise DataError(f"no published table {name!r}; available: {', '.join(available)}")
    return read_tidy_table(path)
