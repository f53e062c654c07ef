"""The results database: an SQLite (WAL) index of finished artifacts, written by the driver alone.

Every row can be rebuilt from the artifacts in the store: the driver ingests each finished artifact in
one transaction (so a kill mid-ingest leaves the previous state) and re-ingests on start whatever the
database lacks. Tables are tidy (long form) and keyed by the condition columns; analysis reads pandas
frames of them and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from synthmix.errors import StoreError
from synthmix.failpoints import pause_point
from synthmix.plan import CONDITION_COLUMNS, Condition, Step

COND = ", ".join(CONDITION_COLUMNS)
COND_DEFS = "model TEXT, task TEXT, share REAL, iteration INTEGER, seed INTEGER, regime TEXT"
TABLES = ("runs", "scores", "examples", "samples", "mixes", "artifacts")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs ({COND_DEFS}, step TEXT, role TEXT, label TEXT, artifact_id TEXT, status TEXT,
    started REAL, finished REAL, wall_s REAL, PRIMARY KEY ({COND}, role));
CREATE TABLE IF NOT EXISTS scores ({COND_DEFS}, metric TEXT, value REAL, PRIMARY KEY ({COND}, metric));
CREATE TABLE IF NOT EXISTS examples ({COND_DEFS}, example_id TEXT, score REAL, correct INTEGER, confidence REAL,
    prediction TEXT, PRIMARY KEY ({COND}, example_id));
CREATE TABLE IF NOT EXISTS samples (artifact_id TEXT, {COND_DEFS}, sample_id TEXT, text TEXT, parsed_ok INTEGER,
    verified INTEGER, reason TEXT, PRIMARY KEY (artifact_id, sample_id));
CREATE TABLE IF NOT EXISTS mixes ({COND_DEFS}, n_external INTEGER, n_synthetic INTEGER, share_examples REAL,
    share_tokens REAL, by_origin_iteration TEXT, PRIMARY KEY ({COND}));
CREATE TABLE IF NOT EXISTS artifacts (artifact_id TEXT PRIMARY KEY, kind TEXT, label TEXT, code_version TEXT,
    wall_s REAL, peak_rss_mb REAL, device TEXT, host TEXT, finished TEXT, manifest TEXT);
CREATE TABLE IF NOT EXISTS ingested (artifact_id TEXT, roles TEXT, at REAL, PRIMARY KEY (artifact_id, roles));
CREATE TABLE IF NOT EXISTS failures (artifact_id TEXT PRIMARY KEY, kind TEXT, label TEXT, error TEXT, at REAL);
"""


def _marks(n: int) -> str:
    """``?,?,…`` with n placeholders."""
    return ",".join("?" * n)


def roles_digest(step: Step) -> str:
    """A short hash of the (condition, role) pairs an artifact is ingested for."""
    pairs = sorted((json.dumps(c.as_dict(), sort_keys=True), r) for c, r in step.roles)
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file (an artifact's own output)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class ResultsDB:
    """The study's database; open it in the driver (writes) or anywhere (reads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def _tx(self) -> sqlite3.Connection:
        self.con.execute("BEGIN IMMEDIATE")
        return self.con

    def record_plan(self, steps: Iterable[Step], ids: dict[str, str], done: set[str]) -> None:
        """Write one ``runs`` row per (condition, role) with the step's artifact id and status done/pending."""
        con = self._tx()
        try:
            rows = []
            for s in steps:
                aid = ids[s.key]
                status = "done" if aid in done else "pending"
                for cond, role in s.roles:
                    rows.append((*cond.as_dict().values(), s.kind, role, s.label, aid, status))
            con.execute("DELETE FROM runs")
            con.executemany(
                f"INSERT OR REPLACE INTO runs ({COND}, step, role, label, artifact_id, status) VALUES ({_marks(11)})",
                rows,
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def set_status(self, aid: str, status: str, started: float | None = None, finished: float | None = None,
                   wall_s: float | None = None) -> None:
        """Update every ``runs`` row of an artifact."""
        self.con.execute(
            "UPDATE runs SET status=?, started=COALESCE(?, started), finished=COALESCE(?, finished), "
            "wall_s=COALESCE(?, wall_s) WHERE artifact_id=?",
            (status, started, finished, wall_s, aid),
        )

    def record_failure(self, aid: str, step: Step, error: str) -> None:
        """Remember a failed step so later runs skip it unless asked to retry."""
        self.con.execute("INSERT OR REPLACE INTO failures VALUES (?,?,?,?,?)", (aid, step.kind, step.label, error, time.time()))

    def clear_failure(self, aid: str) -> None:
        """Forget a failure (before a retry)."""
        self.con.execute("DELETE FROM failures WHERE artifact_id=?", (aid,))

    def failed(self) -> dict[str, str]:
        """Artifact id → error text of every recorded failure."""
        return dict(self.con.execute("SELECT artifact_id, error FROM failures"))

    def is_ingested(self, aid: str, step: Step) -> bool:
        """Whether this artifact has been ingested for exactly this set of conditions and roles."""
        row = self.con.execute("SELECT 1 FROM ingested WHERE artifact_id=? AND roles=?", (aid, roles_digest(step))).fetchone()
        return row is not None

    def ingested_set(self) -> set[tuple[str, str]]:
        """All (artifact id, roles digest) pairs ingested so far."""
        return set(self.con.execute("SELECT artifact_id, roles FROM ingested"))

    def ingest(self, step: Step, aid: str, folder: Path, manifest: dict[str, Any]) -> None:
        """Index one finished artifact for every condition it serves, in a single transaction."""
        con = self._tx()
        try:
            con.execute(
                f"INSERT OR REPLACE INTO artifacts VALUES ({_marks(10)})",
                (aid, step.kind, step.label, manifest.get("code_version"), manifest.get("wall_s"),
                 manifest.get("peak_rss_mb"), manifest.get("device"), manifest.get("host"),
                 manifest.get("finished"), json.dumps(manifest, default=str)),
            )
            _INGESTERS.get(step.kind, _ingest_nothing)(con, step, aid, folder, manifest)
            pause_point("ingest:before-commit")
            con.execute("UPDATE runs SET status='done', wall_s=?, finished=? WHERE artifact_id=?",
                        (manifest.get("wall_s"), manifest.get("finished_ts"), aid))
            con.execute("INSERT OR REPLACE INTO ingested VALUES (?,?,?)", (aid, roles_digest(step), time.time()))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def ingest_failed(self, step: Step, aid: str, folder: Path) -> None:
        """Index what a failed step kept (a short pool's samples and statistics) without marking it done."""
        con = self._tx()
        try:
            _INGESTERS.get(step.kind, _ingest_nothing)(con, step, aid, folder, {})
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def fingerprint(self) -> str:
        """A hash of what the database holds (ingested artifacts, failures, run states): equal means nothing changed."""
        h = hashlib.sha256()
        for query in ("SELECT artifact_id, roles FROM ingested ORDER BY 1, 2",
                      "SELECT artifact_id, error FROM failures ORDER BY 1",
                      f"SELECT {COND}, role, artifact_id, status FROM runs ORDER BY {COND}, role"):
            for row in self.con.execute(query):
                h.update(repr(row).encode())
        return h.hexdigest()

    def frame(self, table: str) -> Any:
        """A table as a pandas DataFrame (tidy, long form)."""
        import pandas as pd

        if table not in TABLES:
            raise StoreError(f"unknown results table {table!r}; tables: {', '.join(TABLES)}")
        return pd.read_sql_query(f"SELECT * FROM {table}", self.con)

    def integrity_check(self) -> str:
        """SQLite's own consistency check ('ok' when the file is sound)."""
        return self.con.execute("PRAGMA integrity_check").fetchone()[0]


def _scores_rows(conds: Iterable[Condition], metrics: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(*c.as_dict().values(), m, float(v)) for c in conds for m, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _put_scores(con: sqlite3.Connection, conds: list[Condition], metrics: dict[str, Any]) -> None:
    con.executemany(f"INSERT OR REPLACE INTO scores ({COND}, metric, value) VALUES ({_marks(8)})",
                    _scores_rows(conds, metrics))


def _with_role(step: Step, prefix: str) -> list[Condition]:
    return sorted({c for c, r in step.roles if r == prefix})


def _ingest_nothing(con: sqlite3.Connection, step: Step, aid: str, folder: Path, manifest: dict[str, Any]) -> None:
    """Steps whose outputs only need the artifacts row."""


def _ingest_evaluate(con: sqlite3.Connection, step: Step, aid: str, folder: Path, manifest: dict[str, Any]) -> None:
    """Scores and per-example rows of an evaluation."""
    conds = _with_role(step, "evaluate")
    _put_scores(con, conds, json.loads((folder / "scores.json").read_text()))
    rows = _read_jsonl(folder / "examples.jsonl") if (folder / "examples.jsonl").is_file() else []
    for c in conds:
        key = tuple(c.as_dict().values())
        con.execute(f"DELETE FROM examples WHERE ({COND}) = ({_marks(6)})", key)
        con.executemany(
            f"INSERT OR REPLACE INTO examples ({COND}, example_id, score, correct, confidence, prediction) "
            f"VALUES ({_marks(11)})",
            [(*key, str(r["example_id"]), float(r["score"]), int(bool(r["correct"])), r.get("confidence"),
              r.get("prediction")) for r in rows],
        )


def _ingest_finetune(con: sqlite3.Connection, step: Step, aid: str, folder: Path, manifest: dict[str, Any]) -> None:
    """Model size and final training loss for the conditions the model belongs to."""
    log = manifest.get("step_log") or {}
    metrics = {k: log[k] for k in ("n_params", "final_loss") if k in log}
    if "final_loss" in metrics:
        metrics["train_loss"] = metrics.pop("final_loss")
    _put_scores(con, _with_role(step, "finetune"), metrics)


def _ingest_mix(con: sqlite3.Connection, step: Step, aid: str, folder: Path, manifest: dict[str, Any]) -> None:
    """The composition of a training mix (effective share by examples and by tokens)."""
    mix = json.loads((folder / "mix.json").read_text())
    conds = _with_role(step, "mix")
    for c in conds:
        con.execute(
            f"INSERT OR REPLACE INTO mixes ({COND}, n_external, n_synthetic, share_examples, share_tokens, "
            f"by_origin_iteration) VALUES ({_marks(11)})",
            (*c.as_dict().values(), mix["n_external"], mix["n_synthetic"], mix["share_examples"],
             mix["share_tokens"], json.dumps(mix.get("by_origin_iteration", {}))),
        )
    _put_scores(con, conds, {"share_examples": mix["share_examples"], "share_tokens": mix["share_tokens"]})


def _ingest_generate(con: sqlite3.Connection, step: Step, aid: str, folder: Path, manifest: dict[str, Any]) -> None:
    """Every synthetic sample as written, and the pool's statistics for the conditions whose latest pool it is."""
    uses = [(c, r) for c, r in step.roles if r.startswith("pool")]
    cols: dict[str, Any] = {}
    for col in CONDITION_COLUMNS:
        values = {getattr(c, col) for c, _ in uses}
        cols[col] = values.pop() if len(values) == 1 else None
    if uses:
        cond, role = uses[0]
        cols["iteration"] = cond.iteration if role == "pool" else int(role.removeprefix("pool"))
    con.execute("DELETE FROM samples WHERE artifact_id=?", (aid,))
    rows = _read_jsonl(folder / "samples.jsonl") if (folder / "samples.jsonl").is_file() else []
    con.executemany(
        f"INSERT OR REPLACE INTO samples (artifact_id, {COND}, sample_id, text, parsed_ok, verified, reason) "
        f"VALUES ({_marks(12)})",
        [(aid, *cols.values(), str(r["sample_id"]), r["text"], int(bool(r["parsed_ok"])),
          None if r.get("verified") is None else int(bool(r["verified"])), r.get("reason")) for r in rows],
    )
    stats_path = folder / "pool.json"
    if stats_path.is_file():
        _put_scores(con, _with_role(step, "pool"), json.loads(stats_path.read_text()))


_INGESTERS = {
    "evaluate": _ingest_evaluate,
    "finetune": _ingest_finetune,
    "mix": _ingest_mix,
    "generate": _ingest_generate,
}


def export_tables(db: ResultsDB, out: Path, fmt: str) -> list[Path]:
    """Write every tidy table as CSV or Parquet into ``out``; returns the files written."""
    if fmt not in ("csv", "parquet"):
        raise StoreError(f"unknown export format {fmt!r}; use csv or parquet")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        df = db.frame(table)
        path = out / f"{table}.{fmt}"
        df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path, index=False)
        written.append(path)
    return written
