"""The content-addressed artifact store: ids, atomic commits, manifests, the study lock and gc.

An artifact is a folder ``<root>/<kind>/<id>``. A step writes into a temporary sibling named with host,
pid and a random suffix; ``commit`` fsyncs it, writes ``manifest.json`` last and ``os.replace``s it into
place. The manifest inside the final folder is the completion marker: nothing else counts as done. When
the target already exists (another worker finished first) the commit is a no-op, so execution may be
at-least-once while commits stay idempotent. Temporary folders of dead owners are adopted by the next
attempt at the same artifact (keeping only ``_checkpoint/``, so long steps resume) or removed.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthmix.errors import DiskFullError, StoreError
from synthmix.failpoints import fail_point, pause_point

MANIFEST = "manifest.json"
CHECKPOINT_DIR = "_checkpoint"
STEP_LOG = "step_log.json"
FAILURE_RECORD = "failure.json"  # a failed step that wrote this keeps its folder (e.g. a short pool's samples)
FAILED_DIR = ".failed"
DAMAGED_DIR = ".damaged"  # damaged artifacts moved aside by verification, kept for inspection
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def content_hashes(folder: Path) -> dict[str, dict[str, Any]]:
    """Relative path → {sha256, bytes} of every file in an artifact folder except its manifest."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST:
            out[rel] = {"sha256": file_sha256(path), "bytes": path.stat().st_size}
    return out


def damage(folder: Path, manifest: dict[str, Any], full: bool = True) -> list[str]:
    """What is wrong with an artifact's files against its manifest's content hashes (empty when intact).

    ``full=False`` checks only that every file is there with its size (cheap); ``full=True`` also hashes them.
    Files gc deleted on purpose (weights of a collected artifact) are not damage.
    """
    files = manifest.get("files")
    if not isinstance(files, dict):
        return ["the manifest has no content hashes (written before artifacts were verified)"]
    collected = (folder / "GC").is_file()
    problems = []
    for rel, want in files.items():
        path = folder / rel
        if collected and path.suffix in WEIGHT_SUFFIXES:
            continue
        try:
            size = path.stat().st_size
        except OSError:
            problems.append(f"{rel} is missing")
            continue
        if size != want["bytes"]:
            problems.append(f"{rel} has {size} bytes, the manifest says {want['bytes']}")
        elif full and file_sha256(path) != want["sha256"]:
            problems.append(f"{rel} does not match its sha256")
    return problems


def folder_bytes(folder: Path) -> int:
    """Total size of the files under a folder (0 when it is gone)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def disk_full(path: Path, needed_bytes: int) -> DiskFullError:
    """The error for a full disk: where, and about how much the work needs."""
    return DiskFullError(f"no space left on {path} (needs about {max(1, round(needed_bytes / 1e6))} MB); free some "
                         "space (or run `synthmix gc`) and run again: finished steps are kept and the run resumes")


def is_disk_full(error: BaseException) -> bool:
    """Whether an exception is the operating system (or SQLite) saying the disk is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "database or disk is full" in str(error)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_tree(folder: Path) -> None:
    """fsync every file and folder under ``folder`` so a commit survives a power cut."""
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(folder: Path) -> None:
    """fsync a directory entry table (makes renames and creations durable)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class TempName:
    """The parts of a temporary artifact folder's name: ``.tmp~<id>~<host>~<pid>~<random>``."""

    artifact: str
    host: str
    pid: int

    @staticmethod
    def parse(name: str) -> TempName | None:
        """Read a temp folder name; ``None`` for anything else."""
        parts = name.split("~")
        if len(parts) != 5 or parts[0] != ".tmp" or not parts[3].isdigit():
            return None
        return TempName(parts[1], parts[2], int(parts[3]))


class Store:
    """A folder of artifacts shared by studies (and by workers on other machines through a shared filesystem)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, aid: str) -> Path:
        """Final folder of an artifact."""
        return self.root / kind / aid

    def is_done(self, kind: str, aid: str) -> bool:
        """Whether the artifact is committed (its manifest is in the final folder)."""
        return (self.path(kind, aid) / MANIFEST).is_file()

    def manifest(self, kind: str, aid: str) -> dict[str, Any]:
        """The manifest of a committed artifact."""
        path = self.path(kind, aid) / MANIFEST
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise StoreError(f"{path}: cannot read the manifest ({e}); remove the folder to recompute it") from None

    def begin(self, kind: str, aid: str, adopt: Path | None = None) -> Path:
        """A fresh temporary folder for a step's output; a dead owner's folder for the same id is adopted.

        Only owners on this host can be seen to be dead; ``adopt`` names a folder the caller knows is dead
        wherever it was written (a requeued Slurm job's previous attempt, which may have run on another node).
        """
        parent = self.root / kind
        parent.mkdir(parents=True, exist_ok=True)
        host = socket.gethostname().replace("~", "-")
        tmp = parent / f".tmp~{aid}~{host}~{os.getpid()}~{secrets.token_hex(4)}"
        adopted = self._dead_temps(parent, aid)
        named = adopt is not None and adopt.parent == parent and adopt.name.startswith(f".tmp~{aid}~") and adopt.is_dir()
        if named:
            adopted = [adopt, *(p for p in adopted if p != adopt)]
        if adopted:
            os.replace(adopted[0], tmp)
            for stale in adopted[1:]:
                shutil.rmtree(stale, ignore_errors=True)
            for child in tmp.iterdir():
                if child.name != CHECKPOINT_DIR:
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            tmp.mkdir()
        return tmp

    def commit(self, kind: str, aid: str, tmp: Path, manifest: dict[str, Any]) -> bool:
        """Make ``tmp`` the artifact: fsync, manifest last, rename. False when another writer committed first."""
        final = self.path(kind, aid)
        if final.exists():
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        shutil.rmtree(tmp / CHECKPOINT_DIR, ignore_errors=True)
        log = tmp / STEP_LOG
        if log.is_file():
            manifest = {**manifest, "step_log": json.loads(log.read_text())}
        manifest = {**manifest, "files": content_hashes(tmp)}
        _fsync_tree(tmp)
        fail_point("commit:write-manifest")
        with open(tmp / MANIFEST, "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True, default=str)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(tmp)
        pause_point("commit:before-rename")
        try:
            os.replace(tmp, final)
        except OSError:
            if final.exists():
                shutil.rmtree(tmp, ignore_errors=True)
                return False
            raise
        _fsync_dir(final.parent)
        shutil.rmtree(self.failed_path(kind, aid), ignore_errors=True)
        return True

    def own_attempt(self, kind: str, aid: str) -> Path | None:
        """This process's temporary folder for an artifact, if it has begun one (named by host and pid in ``begin``)."""
        host = socket.gethostname().replace("~", "-")
        return next(iter((self.root / kind).glob(f".tmp~{aid}~{host}~{os.getpid()}~*")), None)

    def failed_path(self, kind: str, aid: str) -> Path:
        """Where a failed attempt's folder is kept when the step left a ``failure.json`` in it."""
        return self.root / kind / FAILED_DIR / aid

    def keep_failed(self, kind: str, aid: str, tmp: Path) -> Path:
        """Keep a failed attempt's folder (replacing an older one) so its partial output can be reported."""
        kept = self.failed_path(kind, aid)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(kept, ignore_errors=True)
        shutil.rmtree(tmp / CHECKPOINT_DIR, ignore_errors=True)
        os.replace(tmp, kept)
        return kept

    def _dead_temps(self, parent: Path, aid: str) -> list[Path]:
        """Temporary folders for ``aid`` whose owner process is gone, newest first."""
        me = socket.gethostname().replace("~", "-")
        found = []
        for p in parent.glob(f".tmp~{aid}~*"):
            t = TempName.parse(p.name)
            if t and t.host == me and not pid_alive(t.pid):
                found.append(p)
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def remove_dead_temps(self) -> int:
        """Delete temporary folders whose owners died on this host (except checkpoints an attempt may adopt)."""
        me = socket.gethostname().replace("~", "-")
        removed = 0
        if not self.root.is_dir():
            return 0
        for kind_dir in self.root.iterdir():
            if not kind_dir.is_dir():
                continue
            for p in kind_dir.glob(".tmp~*"):
                t = TempName.parse(p.name)
                if t and t.host == me and not pid_alive(t.pid) and not (p / CHECKPOINT_DIR).exists():
                    shutil.rmtree(p, ignore_errors=True)
                    removed += 1
        return removed

    def artifacts(self) -> Iterator[tuple[str, str]]:
        """Every committed (kind, id) in the store."""
        if not self.root.is_dir():
            return
        for kind_dir in sorted(self.root.iterdir()):
            if kind_dir.is_dir():
                for p in sorted(kind_dir.iterdir()):
                    if not p.name.startswith(".") and (p / MANIFEST).is_file():
                        yield kind_dir.name, p.name

    def strip_weights(self, kind: str, aid: str) -> int:
        """Delete an artifact's model weight files (gc), keeping manifest, metrics and samples; bytes freed."""
        freed = 0
        folder = self.path(kind, aid)
        for p in folder.rglob("*"):
            if p.is_file() and p.suffix in WEIGHT_SUFFIXES:
                freed += p.stat().st_size
                p.unlink()
        if freed:
            (folder / "GC").write_text("model weights deleted by `synthmix gc`; rerun the study to recompute them\n")
        return freed

    def is_collected(self, kind: str, aid: str) -> bool:
        """Whether gc removed this artifact's weights."""
        return (self.path(kind, aid) / "GC").is_file()

    def damage(self, kind: str, aid: str, full: bool = True) -> list[str]:
        """What is wrong with a committed artifact's files (empty when intact); see ``damage``."""
        try:
            manifest = self.manifest(kind, aid)
        except StoreError:
            return ["its manifest cannot be read"]
        return damage(self.path(kind, aid), manifest, full)

    def quarantine(self, kind: str, aid: str) -> Path:
        """Move a damaged artifact aside (``<kind>/.damaged/``) so the next run recomputes it; returns where it went."""
        target = self.root / kind / DAMAGED_DIR / f"{aid}~{secrets.token_hex(4)}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(kind, aid), target)
        return target

    def discard(self, kind: str, aid: str) -> None:
        """Remove a committed artifact (a gc'd model that a pending step needs again)."""
        final = self.path(kind, aid)
        trash = final.parent / f".trash~{aid}~{secrets.token_hex(4)}"
        os.replace(final, trash)
        shutil.rmtree(trash, ignore_errors=True)


class StudyLock:
    """One driver per study: an exclusive ``flock`` on ``lock``, which the kernel drops when its holder dies.

    Nothing is ever judged stale: a killed driver's lock is free at once, and a live driver's lock cannot be
    taken whatever its file holds (empty, half-written). The file's text (pid, host) only names the holder.
    """

    def __init__(self, study_dir: Path) -> None:
        self.path = Path(study_dir) / "lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; raise StoreError naming the holder if another live process has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 256, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise StoreError(f"{self.path}: the study is being run by {holder}; wait for it to finish "
                             "(the lock is released the moment that process exits)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock back."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StudyLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
