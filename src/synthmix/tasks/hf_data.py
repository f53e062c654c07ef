"""Loading a real benchmark split: from local files (``data_dir``) or through ``datasets`` by hub name.

A ``DataSource`` names the hub dataset (and config) and, per split, the file names to look for in
``data_dir``: the benchmark's original release file first, then the Hugging Face layouts (a JSONL
export, or the hub repository's parquet shard). Readers handle JSONL, gzipped JSONL, JSON and
parquet; each task turns rows of either layout into its one record schema. Nothing here imports
``datasets`` or ``pyarrow`` until a split is actually read, so building a task stays cheap.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.errors import ConfigError, DataError
from synthmix.tasks.base import Example, Task, normalized_hash


@dataclass(frozen=True)
class DataSource:
    """Where a benchmark lives: hub name, hub config and the local file names of each split."""

    dataset: str  # human name used in messages ("GSM8K")
    hub: str  # datasets.load_dataset path ("gsm8k")
    config: str | None  # hub config ("main") or None
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # split -> candidate paths under data_dir
    hub_splits: dict[str, str] = field(default_factory=dict)  # our split -> the hub's split name when they differ


def read_rows(path: Path) -> list[dict[str, Any]] | dict[str, Any]:
    """Rows of a JSONL(.gz) or parquet file, or the parsed object of a ``.json`` file."""
    name = path.name
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            if name.endswith(".json"):
                return json.load(handle)
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read it as {'parquet' if name.endswith('.parquet') else 'JSON'}: {exc}") from exc


def local_file(source: DataSource, data_dir: Path, split: str) -> Path | None:
    """The first candidate file of ``split`` that exists under ``data_dir``."""
    for candidate in source.files.get(split, ()):
        path = data_dir / candidate
        if path.is_file():
            return path
    return None


def unreachable(source: DataSource, split: str, data_dir: Path | None, cause: str) -> DataError:
    """The error for a split nobody can supply: names the dataset, the split and both ways to supply it."""
    files = " or ".join(source.files.get(split, ())) or "(no local layout known)"
    call = f"datasets.load_dataset({source.hub!r}{', ' + repr(source.config) if source.config else ''}, split={source.hub_splits.get(split, split)!r})"
    where = f"data_dir {str(data_dir)!r} holds none of {files}" if data_dir else "no data_dir was given"
    return DataError(
        f"{source.dataset} ({source.hub}) split {split!r} cannot be loaded: {where}, and {cause}. "
        f"Supply it either way: put {files} in a folder and set `data_dir:` in the study's task options "
        f"(tasks: {{<task>: {{data_dir: PATH}}}}), or make `{call}` work (network access to the Hugging Face hub, "
        "or a populated HF_DATASETS_CACHE)."
    )


def load_split(source: DataSource, split: str, data_dir: Path | None, hub: bool) -> tuple[list[dict[str, Any]] | dict[str, Any], Path | None]:
    """Raw rows of ``split`` (and the file read), from ``data_dir`` when given, else from the hub."""
    if data_dir is not None:
        path = local_file(source, data_dir, split)
        if path is not None:
            return read_rows(path), path
        raise unreachable(source, split, data_dir, "the hub is not tried when data_dir is set")
    if not hub:
        raise unreachable(source, split, None, "the hub is switched off (hub: false)")
    try:
        import datasets

        rows = datasets.load_dataset(source.hub, source.config, split=source.hub_splits.get(split, split))
    except Exception as exc:  # any hub, network or cache failure: datasets raises many unrelated types
        raise unreachable(source, split, None, f"the hub failed ({type(exc).__name__}: {str(exc)[:200]})") from exc
    return [dict(row) for row in rows], None


def check_split(name: str, split: str, splits: tuple[str, ...], note: str = "") -> None:
    """Reject a split the task does not define, listing the ones it does (no silent aliases)."""
    if split not in splits:
        raise ConfigError(f"task {name!r} has no split {split!r}; splits: {', '.join(splits)}{'. ' + note if note else ''}")


def holdout(rows: list[Example], key: Callable[[Example], str], percent: int) -> tuple[list[Example], list[Example]]:
    """Split rows into (kept, held out) by the normalised hash of ``key(row)``: ``percent`` % are held out."""
    kept: list[Example] = []
    held: list[Example] = []
    for row in rows:
        (held if int(normalized_hash(key(row))[:8], 16) % 100 < percent else kept).append(row)
    return kept, held


def as_path(data_dir: str | Path | None, task: str) -> Path | None:
    """``data_dir`` as a Path, checked to be a folder when given."""
    if data_dir is None:
        return None
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise ConfigError(f"task {task!r}: data_dir {str(path)!r} is not a folder")
    return path


class BenchmarkTask(Task):
    """A real benchmark: lazy, cached split loading from ``data_dir`` or the hub, in one record schema.

    Subclasses set ``source`` and ``splits`` and implement ``convert`` (raw rows of either layout →
    the task's records). Construction reads nothing, so ``get_task`` is cheap for the planner.
    """

    source: DataSource
    splits: tuple[str, ...]
    split_note: str = ""

    def __init__(self, data_dir: str | Path | None = None, hub: bool = True) -> None:
        if not isinstance(hub, bool):
            raise ConfigError(f"task {self.name!r}: hub must be true or false (got {hub!r})")
        self.data_dir = as_path(data_dir, self.name)
        self.hub = hub
        self._cache: dict[str, list[Example]] = {}

    def convert(self, raw: list[dict[str, Any]] | dict[str, Any], split: str) -> list[Example]:
        """The task's records from the raw rows (or JSON object) of ``split``."""
        if not isinstance(raw, list):
            raise DataError(f"{self.source.dataset} {split}: expected one JSON object per line, got a single document")
        return [dict(row) for row in raw]

    def read(self, split: str) -> list[Example]:
        """The records of ``split`` as stored (subclasses carve derived splits here)."""
        raw, path = load_split(self.source, split, self.data_dir, self.hub)
        try:
            return self.convert(raw, split)
        except (KeyError, TypeError, IndexError) as exc:
            where = str(path) if path else f"{self.source.hub} {split}"
            raise DataError(f"{where}: a row does not have {self.source.dataset}'s fields ({type(exc).__name__}: {exc})") from exc

    def load(self, split: str) -> list[Example]:
        """The examples of ``split`` in file order; read once, then served from memory."""
        import copy

        check_split(self.name, split, self.splits, self.split_note)
        if split not in self._cache:
            self._cache[split] = self.read(split)
        return copy.deepcopy(self._cache[split])

    def data_files(self) -> list[Path]:
        """The local files behind the task's splits (those present under ``data_dir``); none for the hub."""
        if self.data_dir is None:
            return []
        found = {local_file(self.source, self.data_dir, split) for split in self.source.files}
        return sorted(p for p in found if p is not None)

    def options(self) -> dict[str, Any]:
        """Where the data comes from: ``data_dir`` (or the hub name) and whether the hub may be used."""
        return {"data_dir": str(self.data_dir) if self.data_dir else None, "hub": self.hub,
                "source": f"{self.source.hub}/{self.source.config}" if self.source.config else self.source.hub}
