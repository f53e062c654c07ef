"""Throughput of ``synthmix verify`` (MB/s) against sha256 of the same bytes and a raw read, in the same process.

Fills a store with a toy study whose artifacts hold weight-sized files (``--mb`` per finetune), then times
``verify_study`` (plan, ids, every manifest, every file hashed), a plain ``hashlib.file_digest`` over the
same files, and a raw read of them; the page cache is warm for all three (the first pass warms it), so
the ratio shows verify's overhead over hashing itself, not the disk. Run:
``.venv/bin/python bench/bench_verify.py [--mb 64]``.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_noop_rerun import InProcess  # noqa: E402

from synthmix.config import load_study  # noqa: E402
from synthmix.driver import run_study, verify_study  # noqa: E402
from synthmix.store import Store  # noqa: E402
from toy_study import toy_study  # noqa: E402


def _files(store: Store) -> list[Path]:
    """Every file of every committed artifact."""
    return [p for kind, aid in store.artifacts() for p in store.path(kind, aid).rglob("*") if p.is_file()]


def _median(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=64, help="size of the weights file added to each finetune artifact")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    path = toy_study(tmp, name="verify")
    study = load_study(path)
    assert run_study(study, InProcess()).ok
    store = Store(study.store)
    block = bytes(range(256)) * 4096  # 1 MiB
    for kind, aid in list(store.artifacts()):
        if kind == "finetune":  # stand-in weights, recorded in the manifest as a real commit would
            folder = store.path(kind, aid)
            with open(folder / "model.safetensors", "wb") as f:
                for _ in range(args.mb):
                    f.write(block)
            manifest = store.manifest(kind, aid)
            digest = hashlib.sha256(block * args.mb).hexdigest()
            manifest["files"]["model.safetensors"] = {"sha256": digest, "bytes": args.mb << 20}
            (folder / "manifest.json").write_text(__import__("json").dumps(manifest))
    files = _files(store)
    total = sum(p.stat().st_size for p in files)

    def hash_all() -> None:
        for p in files:
            with open(p, "rb") as f:
                hashlib.file_digest(f, "sha256")

    def read_all() -> None:
        for p in files:
            with open(p, "rb") as f:
                while f.read(1 << 20):
                    pass

    report = verify_study(study)
    assert report.damaged == [] and report.bytes == total, report
    verify_s = _median(lambda: verify_study(study))
    sha_s = _median(hash_all)
    read_s = _median(read_all)
    mb = total / 1e6
    print(f"{report.checked} artifacts, {len(files)} files, {mb:.0f} MB (page cache warm)")
    print(f"synthmix verify: {verify_s:.2f} s = {mb / verify_s:.0f} MB/s")
    print(f"baseline sha256 of the same files: {sha_s:.2f} s = {mb / sha_s:.0f} MB/s; verify / sha256 = {verify_s / sha_s:.2f}x")
    print(f"raw read of the same files: {read_s:.2f} s = {mb / read_s:.0f} MB/s")


if __name__ == "__main__":
    main()
