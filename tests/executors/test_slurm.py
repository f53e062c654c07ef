"""The Slurm executor: the sbatch scripts it generates (no cluster needed), and runs on a real one-node Slurm."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from conftest import VENV_BIN, cluster_env, manifests, scores, synthmix_run, tiny_study
from synthmix.executors.base import StepSpec
from synthmix.executors.resources import step_resources
from synthmix.executors.slurm import SlurmExecutor, job_parameters, requeues_allowed
from synthmix.store import TempName

REPO = Path(__file__).resolve().parents[2]
PORTS = {"SLURMCTLD_PORT": "6917", "SLURMD_PORT": "6918"}


def _spec(kind: str = "finetune", model: str = "EleutherAI/pythia-12b", timeout_s: float | None = None) -> StepSpec:
    return StepSpec(kind=kind, artifact_id="a" * 64, params={}, inputs={}, store_root="/store", label=f"{kind} x",
                    timeout_s=timeout_s, resources=step_resources(kind, model).as_dict())


def _sbatch_script(spec: StepSpec, settings: dict, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The submission script submitit writes for this step (its own builder, as ``submit`` uses it).

    submitit's executor refuses to exist where ``srun`` is not on PATH; writing a script needs no
    cluster, so the default suite pretends ``srun`` is there (the slow stage installs the real one).
    """
    import submitit

    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", classmethod(lambda cls: 2))
    executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=requeues_allowed(spec, settings))
    executor.update_parameters(**job_parameters(spec, settings))
    return executor._make_submission_file_text("python -u -m submitit.core._submit FOLDER", "UID")


def test_sbatch_script_requests_step_resources_and_study_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = {"partition": "gpu", "account": "lab", "setup": ["source /opt/venv/bin/activate"],
                "additional": {"exclusive": True}}
    script = _sbatch_script(_spec(), settings, tmp_path, monkeypatch)
    for line in ("#SBATCH --cpus-per-task=16", "#SBATCH --gpus-per-node=4", "#SBATCH --mem=60GB",
                 "#SBATCH --time=90", "#SBATCH --partition=gpu", "#SBATCH --account=lab",
                 "#SBATCH --job-name=synthmix-finetune", "#SBATCH --signal=USR2@90", "#SBATCH --exclusive"):
        assert line in script.splitlines(), line
    assert "source /opt/venv/bin/activate" in script


def test_sbatch_script_cpu_step_asks_no_gpu_and_study_timeout_sets_time() -> None:
    params = job_parameters(_spec("mix", "mini-120k", timeout_s=125), {})
    assert params["time"] == 3 and params["cpus_per_task"] == 1 and "gpus_per_node" not in params


def test_requeues_allowed_none_under_a_study_timeout() -> None:
    assert requeues_allowed(_spec(timeout_s=60), {}) == 0
    assert requeues_allowed(_spec(), {"max_requeues": 5}) == 5


def test_preempted_step_job_resubmits_itself_pointing_at_its_attempt_folder(tmp_path: Path) -> None:
    import os
    import socket

    from synthmix.executors.slurm import StepJob

    spec = StepSpec(kind="finetune", artifact_id="b" * 64, params={}, inputs={}, store_root=str(tmp_path),
                    label="finetune x", timeout_s=None, resources={})
    host = socket.gethostname().replace("~", "-")
    mine = tmp_path / "finetune" / f".tmp~{'b' * 64}~{host}~{os.getpid()}~0a1b2c3d"
    (mine / "_checkpoint").mkdir(parents=True)
    (tmp_path / "finetune" / f".tmp~{'b' * 64}~{host}~1~ffffffff").mkdir()  # another process's attempt
    job = StepJob()
    resubmission = job.checkpoint(spec)
    assert job.preempted
    assert isinstance(resubmission.function, StepJob) and resubmission.function.adopt == mine
    assert resubmission.args == (spec,)


@contextmanager
def slurm_up(state: Path, ports: dict[str, str]) -> Iterator[dict[str, str]]:
    """A one-node Slurm on loopback started by scripts/slurm-up.sh in ``state``; yields the environment that reaches it."""
    env = cluster_env(**ports)
    up = subprocess.run([str(REPO / "scripts" / "slurm-up.sh"), str(state)], env=env, capture_output=True, text=True,
                        timeout=300, check=False)
    assert up.returncode == 0, up.stderr
    env["SLURM_CONF"] = str(state / "slurm.conf")
    try:
        yield env
    finally:
        subprocess.run([str(REPO / "scripts" / "slurm-up.sh"), "--down", str(state)], env=env, timeout=60, check=False)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The module's one-node Slurm."""
    with slurm_up(tmp_path_factory.mktemp("slurm"), PORTS) as env:
        yield env


@pytest.mark.slow
def test_slurm_run_scores_equal_local_executor(slurm, local_baseline, tmp_path: Path) -> None:
    study = tiny_study(tmp_path, "tiny", tmp_path / "store")
    result = synthmix_run(study, "--executor", "slurm", "--jobs", "2", env=slurm)
    assert result.returncode == 0, result.stderr + result.stdout
    assert scores(tmp_path / "runs" / "tiny") == local_baseline
    seen = manifests(tmp_path / "store")
    assert len({m["worker_evidence"]["slurm_job_id"] for m in seen}) == 19


def _resumable_study(folder: Path, store: Path) -> Path:
    """The tiny study with a fine-tune that checkpoints every gradient step and resumes from ``_checkpoint/``."""
    study = tiny_study(folder, "tiny", store)
    spec = yaml.safe_load(study.read_text())
    spec["step_modules"]["finetune"] = "tinysteps.resumable_finetune"
    study.write_text(yaml.safe_dump(spec, sort_keys=False))
    return study


def _job_of(temp: Path) -> str:
    """The Slurm job whose process owns a step's temporary folder (its pid is in the folder's name)."""
    owner = TempName.parse(temp.name)
    assert owner is not None, temp
    environ = Path(f"/proc/{owner.pid}/environ").read_bytes().split(b"\0")
    return next(v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"SLURM_JOB_ID="))


def _job(job: str, env: dict[str, str]) -> str:
    """``scontrol show job`` of one job."""
    return subprocess.run(["scontrol", "show", "job", job], env=env, capture_output=True, text=True, check=False).stdout


@pytest.mark.slow
def test_slurm_preempted_finetune_is_requeued_and_resumes_from_checkpoint(slurm, local_baseline, tmp_path: Path) -> None:
    """USR2 mid fine-tune: submitit requeues the job, Slurm holds it (credential lifetime), it reruns and resumes.

    The hold must not be cut short: a rerun released in the second of the requeue is refused by slurmd.
    """
    study = _resumable_study(tmp_path, tmp_path / "store")
    env = {**slurm, "TINY_STEP_SLEEP": "4"}
    run = subprocess.Popen([str(VENV_BIN / "synthmix"), "run", str(study), "--executor", "slurm", "--jobs", "2"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 180
    checkpoints: list[Path] = []
    while not checkpoints and time.monotonic() < deadline and run.poll() is None:
        checkpoints = list((tmp_path / "store" / "finetune").glob(".tmp~*/_checkpoint/state.json"))
        time.sleep(0.05)
    assert checkpoints, "no fine-tune was caught between checkpoints"
    job = _job_of(checkpoints[0].parents[1])
    subprocess.run(["scancel", "--signal=USR2", job], env=env, check=True)
    while not ("Restarts=1" in (shown := _job(job, env)) and "JobState=PENDING" in shown) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "JobState=PENDING Reason=BeginTime" in shown, shown  # held for the credential lifetime, then rerun
    output, _ = run.communicate(timeout=300)
    assert run.returncode == 0, output
    assert scores(tmp_path / "runs" / "tiny") == local_baseline
    restarted = [m for m in manifests(tmp_path / "store") if m["worker_evidence"]["slurm_job_id"] == job]
    assert len(restarted) == 1 and restarted[0]["kind"] == "finetune"
    assert restarted[0]["worker_evidence"]["slurm_restart_count"] == "1"
    assert 0 < restarted[0]["step_log"]["resumed_from_step"] < 20
    assert len(restarted[0]["step_log"]["losses"]) == 20


@pytest.mark.slow
def test_slurm_job_arrays_per_wave_scores_equal_local_executor(slurm, local_baseline, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With arrays, each wave of ready steps goes to Slurm as one job array per resource request."""
    from synthmix.config import load_study
    from synthmix.driver import run_study

    for key in ("SLURM_CONF", "PYTHONPATH"):
        monkeypatch.setenv(key, slurm[key])
    study = load_study(tiny_study(tmp_path, "tiny", tmp_path / "store"))
    folder = tmp_path / "slurm-jobs"
    summary = run_study(study, SlurmExecutor(folder, jobs=4, settings=study, arrays=True))
    assert summary.executed == 19 and not summary.failed
    assert scores(tmp_path / "runs" / "tiny") == local_baseline
    scripts = [p.read_text() for p in folder.glob("*_submission.sh")]
    arrays = [s for s in scripts if "#SBATCH --array=" in s]
    assert arrays and len(scripts) < 19
    assert len({m["worker_evidence"]["slurm_job_id"] for m in manifests(tmp_path / "store")}) == 19
