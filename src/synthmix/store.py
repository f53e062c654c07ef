"""The content-addressed artifact store: ids, atomic commits, manifests, the study lock and gc.

An artifact is a folder ``<root>/<kind>/<id>``. A step writes into a temporary sibling named with host,
pid and a random suffix; ``commit`` fsyncs it, writes ``manifest.json`` last and ``os.replace``s it into
place. The manifest inside the final folder is the completion marker: nothing else counts as done. When
the target already exists (another worker finished first) the commit is a no-op, so execution may be
at-least-once while commits stay idempotent. Temporary folders of dead owners are adopted by the next
attempt at the same artifact (keeping only ``_checkpoint/``, so long steps resume) or removed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthmix.errors import StoreError
from synthmix.failpoints import pause_point

MANIFEST = "manifest.json"
CHECKPOINT_DIR = "_checkpoint"
STEP_LOG = "step_log.json"
FAILURE_RECORD = "failure.json"  # a failed step that wrote this keeps its folder (e.g. a short pool's samples)
FAILED_DIR = ".failed"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def canonical(value: Any) -> Any:
    """Type-tagged canonical form of a JSON-like value, so that ``1``, ``1.0``, ``"1"`` and ``True`` differ."""
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StoreError(f"cannot hash non-finite float {value!r} in step parameters")
        return ["float", value.hex()]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (list, tuple)):
        return ["list", [canonical(v) for v in value]]
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise StoreError(f"cannot hash a mapping key of type {type(k).__name__} ({k!r}); keys must be strings")
        return ["dict", [[k, canonical(value[k])] for k in sorted(value)]]
    raise StoreError(f"cannot hash a value of type {type(value).__name__} ({value!r}) in step parameters")


def artifact_id(kind: str, code_version: str, params: dict[str, Any], input_ids: dict[str, str],
                extras: dict[str, Any]) -> str:
    """sha256 of step kind, code version, canonical params, sorted input ids and extras (task version, data hashes, model revision)."""
    payload = canonical({
        "kind": kind,
        "code_version": code_version,
        "params": params,
        "inputs": dict(sorted(input_ids.items())),
        "extras": extras,
    })
    blob = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
        _fsync_tree(tmp)
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

    def discard(self, kind: str, aid: str) -> None:
        """Remove a committed artifact (a gc'd model that a pending step needs again)."""
        final = self.path(kind, aid)
        trash = final.parent / f".trash~{aid}~{secrets.token_hex(4)}"
        os.replace(final, trash)
        shutil.rmtree(trash, ignore_errors=True)


class StudyLock:
    """One driver per study: a lock file holding pid, host and a lease renewed by a heartbeat thread."""

    def __init__(self, study_dir: Path, lease_s: float = 60.0) -> None:
        self.path = Path(study_dir) / "lock.json"
        self.lease_s = lease_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "host": socket.gethostname(), "lease_until": time.time() + self.lease_s}

    def acquire(self) -> None:
        """Take the lock, stealing it from a dead or expired owner; raise if a live driver holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and not self._stale(owner):
                    raise StoreError(
                        f"{self.path}: the study is being run by pid {owner['pid']} on {owner['host']} "
                        f"(lease until {time.ctime(owner['lease_until'])}); wait for it, or delete the lock file if "
                        "that process is gone"
                    ) from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(self._record(), f)
            self._thread = threading.Thread(target=self._heartbeat, daemon=True)
            self._thread.start()
            return
        raise StoreError(f"{self.path}: could not take the study lock after 3 tries; another driver is racing for it")

    def _owner(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def _stale(self, owner: dict[str, Any]) -> bool:
        """A lock is stale when its lease ran out or its owner died on this host."""
        if owner.get("lease_until", 0) < time.time():
            return True
        return owner.get("host") == socket.gethostname() and not pid_alive(int(owner.get("pid", 0)))

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._record()))
            os.replace(tmp, self.path)

    def release(self) -> None:
        """Give the lock back (only if this process still holds it)."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        owner = self._owner()
        if owner and owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> StudyLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
