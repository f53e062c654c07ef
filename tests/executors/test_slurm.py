"""The Slurm executor: the sbatch scripts it generates (no cluster needed), and runs on a real one-node Slurm."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import cluster_env, manifests, scores, synthmix_run, tiny_study
from synthmix.executors.base import StepSpec
from synthmix.executors.resources import step_resources
from synthmix.executors.slurm import job_parameters, requeues_allowed

REPO = Path(__file__).resolve().parents[2]
PORTS = {"SLURMCTLD_PORT": "6917", "SLURMD_PORT": "6918"}


def _spec(kind: str = "finetune", model: str = "EleutherAI/pythia-12b", timeout_s: float | None = None) -> StepSpec:
    return StepSpec(kind=kind, artifact_id="a" * 64, params={}, inputs={}, store_root="/store", label=f"{kind} x",
                    timeout_s=timeout_s, resources=step_resources(kind, model).as_dict())


def _sbatch_script(spec: StepSpec, settings: dict, folder: Path) -> str:
    """The submission script submitit writes for this step (its own builder, as ``submit`` uses it)."""
    import submitit

    executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=requeues_allowed(spec, settings))
    executor.update_parameters(**job_parameters(spec, settings))
    return executor._make_submission_file_text("python -u -m submitit.core._submit FOLDER", "UID")


def test_sbatch_script_requests_step_resources_and_study_partition(tmp_path: Path) -> None:
    settings = {"partition": "gpu", "account": "lab", "setup": ["source /opt/venv/bin/activate"],
                "additional": {"exclusive": True}}
    script = _sbatch_script(_spec(), settings, tmp_path)
    for line in ("#SBATCH --cpus-per-task=16", "#SBATCH --gpus-per-node=4", "#SBATCH --mem=60GB",
                 "#SBATCH --time=90", "#SBATCH --partition=gpu", "#SBATCH --account=lab",
                 "#SBATCH --job-name=synthmix-finetune", "#SBATCH --signal=USR2@90", "#SBATCH --exclusive"):
        assert line in script.splitlines(), line
    assert "source /opt/venv/bin/activate" in script


def test_sbatch_script_cpu_step_asks_no_gpu_and_study_timeout_sets_time() -> None:
    params = job_parameters(_spec("mix", "mini-90k", timeout_s=125), {})
    assert params["time"] == 3 and params["cpus_per_task"] == 1 and "gpus_per_node" not in params


def test_requeues_allowed_none_under_a_study_timeout() -> None:
    assert requeues_allowed(_spec(timeout_s=60), {}) == 0
    assert requeues_allowed(_spec(), {"max_requeues": 5}) == 5


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A one-node Slurm on loopback started by scripts/slurm-up.sh; yields the environment that reaches it."""
    state = tmp_path_factory.mktemp("slurm")
    env = cluster_env(**PORTS)
    up = subprocess.run([str(REPO / "scripts" / "slurm-up.sh"), str(state)], env=env, capture_output=True, text=True,
                        timeout=300)
    assert up.returncode == 0, up.stderr
    env["SLURM_CONF"] = str(state / "slurm.conf")
    try:
        yield env
    finally:
        subprocess.run([str(REPO / "scripts" / "slurm-up.sh"), "--down", str(state)], env=env, timeout=60)


@pytest.mark.slow
def test_slurm_run_scores_equal_local_executor(slurm, local_baseline, tmp_path: Path) -> None:
    study = tiny_study(tmp_path, "tiny", tmp_path / "store")
    result = synthmix_run(study, "--executor", "slurm", "--jobs", "2", env=slurm)
    assert result.returncode == 0, result.stderr + result.stdout
    assert scores(tmp_path / "runs" / "tiny") == local_baseline
    seen = manifests(tmp_path / "store")
    assert len({m["worker_evidence"]["slurm_job_id"] for m in seen}) == 19


@pytest.mark.slow
@pytest.mark.xfail(reason="known bug: a USR2 that lands while the step runs inside the job requeues it, but the requeued "
                          "job never runs again and leaves squeue, so the driver fails the step after its 30 s grace; "
                          "the test used to pass only when USR2 arrived before submitit installed its handler",
                   strict=False)
def test_slurm_preempted_finetune_is_requeued_and_study_finishes(slurm, local_baseline, tmp_path: Path) -> None:
    study = tiny_study(tmp_path, "tiny", tmp_path / "store")
    env = {**slurm, "TINY_STEP_SLEEP": "3"}
    run = subprocess.Popen([env["PATH"].split(":")[0] + "/synthmix", "run", str(study), "--executor", "slurm",
                            "--jobs", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    job = ""
    deadline = time.monotonic() + 120
    while not job and time.monotonic() < deadline:
        out = subprocess.run(["squeue", "-h", "-t", "R", "-n", "synthmix-finetune", "-o", "%i"], env=env,
                             capture_output=True, text=True)
        job = out.stdout.split()[0] if out.stdout.split() else ""
        time.sleep(0.2)
    assert job, "no fine-tune job was caught running"
    # USR2 before submitit installs its handler would just kill the job: wait until the step is running inside it
    while not any((tmp_path / "store" / "finetune").glob(".tmp~*")) and time.monotonic() < deadline + 120:
        time.sleep(0.1)
    subprocess.run(["scancel", "--signal=USR2", job], env=env, check=True)
    while "Restarts=1" not in subprocess.run(["scontrol", "show", "job", job], env=env, capture_output=True,
                                             text=True).stdout:
        time.sleep(0.2)
    # Slurm holds a requeued job for about two minutes; release it now.
    subprocess.run(["scontrol", "update", f"jobid={job}", "StartTime=now"], env=env, check=True)
    output, _ = run.communicate(timeout=300)
    assert run.returncode == 0, output
    assert scores(tmp_path / "runs" / "tiny") == local_baseline
    restarted = [m for m in manifests(tmp_path / "store") if m["worker_evidence"]["slurm_job_id"] == job]
    assert len(restarted) == 1 and restarted[0]["kind"] == "finetune"
    assert restarted[0]["worker_evidence"]["slurm_restart_count"] == "1"
