"""The Ray executor on a real local Ray cluster (2 CPUs) inside a private network namespace that has only loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import VENV_BIN, cluster_env, manifests, scores, synthmix_run, tiny_study
from synthmix.executors.ray import GIB, task_options
from synthmix.store import TempName

PORT = 6391
FINETUNE_SLEEP_S = "1.5"


def test_task_options_carry_cpus_gpus_memory_and_retries() -> None:
    options = task_options({"cpus": 4.0, "gpus": 1.0, "memory_gb": 16.0}, max_retries=3)
    assert options == {"num_cpus": 4.0, "num_gpus": 1.0, "memory": 16 * GIB, "max_retries": 3, "retry_exceptions": False}


def test_task_options_without_memory_reserve_none() -> None:
    assert "memory" not in task_options({"cpus": 1.0, "gpus": 0.0}, max_retries=0)


def _netns_pids(ns_link: str) -> list[int]:
    """Processes living in the network namespace ``ns_link`` points at (everything the cluster started)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "net") == ns_link:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@contextmanager
def ray_head(port: int, env: dict[str, str]) -> Iterator[tuple[tuple[str, ...], str]]:
    """A Ray head with 2 CPUs in a fresh loopback-only network namespace; yields (nsenter prefix, address)."""
    holder = subprocess.Popen(["unshare", "-n", "sh", "-c", "ip link set lo up && exec sleep infinity"])
    time.sleep(0.3)
    ns = f"/proc/{holder.pid}/ns/net"
    ns_link = os.readlink(ns)
    prefix = ("nsenter", f"--net={ns}", "--")
    address = f"127.0.0.1:{port}"
    temp_dir = tempfile.mkdtemp(prefix="sm-ray-")
    head = subprocess.Popen([*prefix, str(VENV_BIN / "ray"), "start", "--head", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}", "--block"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        probe = [*prefix, str(VENV_BIN / "python"), "-c",
                 (f"import ray; ray.init(address='{address}', log_to_driver=False); "
                  "assert ray.cluster_resources().get('CPU') == 2")]
        while subprocess.run(probe, env=env, capture_output=True, check=False).returncode != 0:
            assert head.poll() is None and time.monotonic() < deadline, "ray head did not come up"
            time.sleep(1)
        yield prefix, address
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
        for pid in _netns_pids(ns_link):
            if pid != holder.pid:
                os.kill(pid, signal.SIGKILL)
        holder.kill()
        holder.wait()


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[tuple[tuple[str, ...], str]]:
    """The module's Ray cluster, whose workers pause fine-tunes so that a test can kill one mid-step."""
    with ray_head(PORT, cluster_env(TINY_STEP_SLEEP=FINETUNE_SLEEP_S)) as cluster:
        yield cluster


@pytest.mark.slow
def test_ray_run_scores_equal_local_executor(ray_cluster, local_baseline, tmp_path: Path) -> None:
    prefix, address = ray_cluster
    study = tiny_study(tmp_path, "tiny", tmp_path / "store")
    result = synthmix_run(study, "--executor", "ray", "--address", address, "--jobs", "2", prefix=prefix)
    assert result.returncode == 0, result.stderr + result.stdout
    assert scores(tmp_path / "runs" / "tiny") == local_baseline
    seen = manifests(tmp_path / "store")
    assert len(seen) == 19
    assert len({(m["host"], m["pid"]) for m in seen}) >= 2
    for m in seen:
        assert m["worker_evidence"]["pid"] == m["pid"]
        assert m["worker_evidence"]["ray_assigned"]["CPU"] == m["resources"]["cpus"]
    again = synthmix_run(study, "--executor", "ray", "--address", address, "--jobs", "2", prefix=prefix)
    assert again.returncode == 0 and "0 steps run, 19 already done" in again.stdout


@pytest.mark.slow
def test_ray_worker_killed_mid_finetune_study_still_finishes(ray_cluster, local_baseline, tmp_path: Path) -> None:
    prefix, address = ray_cluster
    study = tiny_study(tmp_path, "tiny", tmp_path / "store")
    run = subprocess.Popen([*prefix, str(VENV_BIN / "synthmix"), "run", str(study), "--executor", "ray",
                            "--address", address, "--jobs", "2"],
                           env=cluster_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and run.poll() is None:
        temps = [TempName.parse(p.name) for p in (tmp_path / "store" / "finetune").glob(".tmp~*")]
        if temps and temps[0] is not None:
            victim = temps[0]
            os.kill(victim.pid, signal.SIGKILL)
        time.sleep(0.05)
    output, _ = run.communicate(timeout=300)
    assert victim is not None, "no fine-tune was caught running"
    assert run.returncode == 0, output
    assert scores(tmp_path / "runs" / "tiny") == local_baseline
    finetunes = {m["id"]: m for m in manifests(tmp_path / "store") if m["kind"] == "finetune"}
    assert victim.artifact in finetunes
    assert finetunes[victim.artifact]["pid"] != victim.pid
    assert victim.pid not in {m["pid"] for m in finetunes.values()}
