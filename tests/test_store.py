"""The store: kept failures, content hashes and damage, quarantine, a full disk, and a lock that cannot be held twice."""

from __future__ import annotations

import errno
import hashlib
import multiprocessing as mp
import os
import socket
import time
from pathlib import Path

import pytest

from synthmix.errors import StoreError
from synthmix.store import FAILURE_RECORD, Store, StudyLock, is_disk_full


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


def _committed(store: Store, aid: str = "a1") -> Path:
    """A committed artifact with two files."""
    tmp = store.begin("generate", aid)
    (tmp / "samples.jsonl").write_text('{"sample_id": 0}\n')
    (tmp / "sub").mkdir()
    (tmp / "sub" / "model.safetensors").write_bytes(b"\0" * 1000)
    store.commit("generate", aid, tmp, {"id": aid})
    return store.path("generate", aid)


def test_commit_records_the_sha256_and_size_of_every_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    _committed(store)
    files = store.manifest("generate", "a1")["files"]
    assert files == {
        "samples.jsonl": {"sha256": hashlib.sha256(b'{"sample_id": 0}\n').hexdigest(), "bytes": 17},
        "sub/model.safetensors": {"sha256": hashlib.sha256(b"\0" * 1000).hexdigest(), "bytes": 1000},
    }
    assert store.damage("generate", "a1") == []


def test_damage_names_a_truncated_file_an_edited_file_and_a_missing_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    folder = _committed(store)
    with open(folder / "sub" / "model.safetensors", "r+b") as f:
        f.truncate(10)
    assert store.damage("generate", "a1", full=False) == ["sub/model.safetensors has 10 bytes, the manifest says 1000"]
    (folder / "samples.jsonl").write_text('{"sample_id": 9}\n')  # same size, other bytes
    assert store.damage("generate", "a1", full=False) == ["sub/model.safetensors has 10 bytes, the manifest says 1000"]
    assert store.damage("generate", "a1") == ["samples.jsonl does not match its sha256",
                                              "sub/model.safetensors has 10 bytes, the manifest says 1000"]
    (folder / "samples.jsonl").unlink()
    assert store.damage("generate", "a1")[0] == "samples.jsonl is missing"


def test_gc_deleted_weights_are_not_damage(tmp_path: Path) -> None:
    store = Store(tmp_path)
    _committed(store)
    assert store.strip_weights("generate", "a1") == 1000
    assert store.damage("generate", "a1") == []


def test_quarantine_moves_a_damaged_artifact_aside_so_it_is_not_done(tmp_path: Path) -> None:
    store = Store(tmp_path)
    _committed(store)
    moved = store.quarantine("generate", "a1")
    assert not store.is_done("generate", "a1") and (moved / "samples.jsonl").is_file()
    assert moved.parent == tmp_path / "generate" / ".damaged" and list(store.artifacts()) == []


def test_a_full_disk_while_committing_raises_enospc_before_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path)
    monkeypatch.setenv("SYNTHMIX_FAIL_AT", "commit:write-manifest:ENOSPC")
    with pytest.raises(OSError) as caught:
        _committed(store)
    assert caught.value.errno == errno.ENOSPC and is_disk_full(caught.value)
    assert not store.is_done("generate", "a1")


def test_a_half_written_lock_file_of_a_live_holder_is_not_stolen(tmp_path: Path) -> None:
    holder = StudyLock(tmp_path)
    holder.acquire()
    (tmp_path / "lock").write_text("")  # emptied or half-written: the flock still holds
    with pytest.raises(StoreError, match="being run by another process"):
        StudyLock(tmp_path).acquire()
    holder.release()
    again = StudyLock(tmp_path)
    again.acquire()
    assert (tmp_path / "lock").read_text() == f"pid {os.getpid()} on {socket.gethostname()}\n"
    again.release()


def test_a_lock_left_by_a_killed_holder_is_free(tmp_path: Path) -> None:
    (tmp_path / "lock").write_text("pid 1 on nowhere\n")  # what a killed driver leaves
    with StudyLock(tmp_path):
        pass


def _contend(folder: str, start: float, log: str) -> None:
    """Wait for the common start, try the lock once; while holding it, append enter/leave times."""
    while time.time() < start:
        pass
    lock = StudyLock(Path(folder))
    try:
        lock.acquire()
    except StoreError:
        return
    with open(log, "a") as f:
        f.write(f"enter {time.monotonic_ns()} {os.getpid()}\n")
    time.sleep(0.05)
    with open(log, "a") as f:
        f.write(f"leave {time.monotonic_ns()} {os.getpid()}\n")
    lock.release()


def test_40_simultaneous_lock_trials_never_have_two_holders(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")
    log = tmp_path / "holders.log"
    double = 0
    for trial in range(40):
        folder = tmp_path / f"study{trial}"
        start = time.time() + 0.1
        procs = [ctx.Process(target=_contend, args=(str(folder), start, str(log))) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        holding = 0
        events = sorted((int(t), kind) for kind, t, _ in (line.split() for line in log.read_text().splitlines()))
        for _, kind in events:
            holding += 1 if kind == "enter" else -1
            double += holding > 1
        assert events, f"trial {trial}: nobody got the lock"
        log.unlink()
    assert double == 0
