"""The store's kept failures: a failed attempt that left ``failure.json`` is kept; a later commit removes it."""

from __future__ import annotations

from pathlib import Path

from synthmix.store import FAILURE_RECORD, Store


def _failed_attempt(store: Store, aid: str) -> Path:
    """A temporary folder with partial output, a checkpoint and the failure record."""
    tmp = store.begin("generate", aid)
    (tmp / "samples.jsonl").write_text('{"sample_id": 0}\n')
    (tmp / "_checkpoint").mkdir()
    (tmp / FAILURE_RECORD).write_text("{}")
    return tmp


def test_keep_failed_moves_the_attempt_aside_without_its_checkpoint(tmp_path: Path) -> None:
    store = Store(tmp_path)
    kept = store.keep_failed("generate", "a1", _failed_attempt(store, "a1"))
    assert kept == store.failed_path("generate", "a1")
    assert (kept / "samples.jsonl").is_file() and not (kept / "_checkpoint").exists()
    assert not store.is_done("generate", "a1") and list(store.artifacts()) == []


def test_keep_failed_replaces_an_older_failure(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.keep_failed("generate", "a1", _failed_attempt(store, "a1"))
    second = _failed_attempt(store, "a1")
    (second / "samples.jsonl").write_text('{"sample_id": 1}\n')
    kept = store.keep_failed("generate", "a1", second)
    assert (kept / "samples.jsonl").read_text() == '{"sample_id": 1}\n'


def test_commit_removes_the_kept_failure_of_the_same_artifact(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.keep_failed("generate", "a1", _failed_attempt(store, "a1"))
    store.keep_failed("generate", "a2", _failed_attempt(store, "a2"))
    tmp = store.begin("generate", "a1")
    assert store.commit("generate", "a1", tmp, {"id": "a1"})
    assert not store.failed_path("generate", "a1").exists()
    assert store.failed_path("generate", "a2").exists(), "other artifacts' failures stay"
