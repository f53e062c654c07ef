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


def _foreign_attempt(store: Store, aid: str, host: str = "othernode") -> Path:
    """A temporary folder another node's attempt left, with a checkpoint and a partial file."""
    tmp = tmp_path_of(store, aid, host)
    (tmp / "_checkpoint").mkdir(parents=True)
    (tmp / "_checkpoint" / "state.pt").write_text("step 7")
    (tmp / "partial.bin").write_text("x")
    return tmp


def tmp_path_of(store: Store, aid: str, host: str) -> Path:
    """The name ``Store.begin`` gives an attempt on ``host`` (pid 1: alive everywhere, so never seen as dead)."""
    return store.root / "finetune" / f".tmp~{aid}~{host}~1~abcd1234"


def test_begin_leaves_another_hosts_attempt_alone(tmp_path: Path) -> None:
    store = Store(tmp_path)
    foreign = _foreign_attempt(store, "a1")
    tmp = store.begin("finetune", "a1")
    assert foreign.is_dir() and not (tmp / "_checkpoint").exists()


def test_begin_adopts_the_named_attempt_of_another_host_keeping_its_checkpoint(tmp_path: Path) -> None:
    store = Store(tmp_path)
    foreign = _foreign_attempt(store, "a1")
    tmp = store.begin("finetune", "a1", adopt=foreign)
    assert not foreign.exists()
    assert (tmp / "_checkpoint" / "state.pt").read_text() == "step 7"
    assert not (tmp / "partial.bin").exists(), "only the checkpoint survives adoption"


def test_begin_ignores_an_adopt_path_of_another_artifact(tmp_path: Path) -> None:
    store = Store(tmp_path)
    other = _foreign_attempt(store, "a2")
    tmp = store.begin("finetune", "a1", adopt=other)
    assert other.is_dir() and not (tmp / "_checkpoint").exists()


def test_own_attempt_finds_only_this_process_folder(tmp_path: Path) -> None:
    store = Store(tmp_path)
    _foreign_attempt(store, "a1")
    assert store.own_attempt("finetune", "a1") is None
    tmp = store.begin("finetune", "a1")
    assert store.own_attempt("finetune", "a1") == tmp
