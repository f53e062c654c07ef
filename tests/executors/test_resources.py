"""Resource defaults per step kind and model size."""

from __future__ import annotations

import pytest

from synthmix.executors.resources import gpu_memory_gb, gpus_needed, parameter_count, step_resources


@pytest.mark.parametrize(("model", "expected"), [
    ("EleutherAI/pythia-410m", 410e6), ("EleutherAI/pythia-6.9b", 6.9e9), ("EleutherAI/pythia-12b", 12e9),
    ("mini-2.2m", 2.2e6), ("mini-120k", 120e3), ("/data/my-model", None),
])
def test_parameter_count_reads_size_from_name(model: str, expected: float | None) -> None:
    assert parameter_count(model) == expected


def test_gpu_memory_full_finetune_is_sixteen_bytes_per_parameter_with_headroom() -> None:
    assert gpu_memory_gb("finetune", 1e9, "full") == pytest.approx(16 * 1.25)
    assert gpu_memory_gb("generate", 1e9) == pytest.approx(2 * 1.25)


def test_gpus_needed_full_12b_shards_over_four_and_lora_fits_one() -> None:
    assert gpus_needed("finetune", 12e9, "full") == 4  # 240 GB → 3 × 80 GB, rounded to a power of two
    assert gpus_needed("finetune", 12e9, "lora") == 1
    assert gpus_needed("finetune", 6.9e9, "full") == 2
    assert gpus_needed("generate", 12e9) == 1


def test_step_resources_mini_rung_runs_on_cpu_with_study_threads() -> None:
    r = step_resources("finetune", "mini-2.2m", threads=2)
    assert (r.cpus, r.gpus) == (2, 0)


def test_step_resources_pythia_gets_gpus_and_cpus_per_gpu() -> None:
    r = step_resources("finetune", "EleutherAI/pythia-12b", method="full")
    assert r.as_dict() == {"cpus": 16.0, "gpus": 4.0, "memory_gb": 60.0, "time_min": 90.0}


def test_step_resources_mix_never_asks_for_a_gpu() -> None:
    assert step_resources("mix", "EleutherAI/pythia-12b").gpus == 0


def test_study_resources_override_the_name_guess_key_by_key(tmp_path) -> None:
    from synthmix.config import load_study
    from synthmix.executors.resources import model_resources, requested_resources

    (tmp_path / "ckpt").mkdir()
    (tmp_path / "s.yaml").write_text(
        "name: r\nblocks:\n"
        "  - {name: a, models: [./ckpt, mini-120k], tasks: [mini-math], shares: [0.0], iterations: [0],"
        " resources: {gpus: 2, time: 90}}\n"
        "  - {name: b, models: [mini-120k], tasks: [mini-math], shares: [0.0], iterations: [0]}\n"
        "resources:\n  mini-120k: {cpus: 8, memory: 12}\n")
    study = load_study(tmp_path / "s.yaml")
    ckpt = str(tmp_path / "ckpt")
    assert step_resources("finetune", ckpt).gpus == 0  # a local folder's name says nothing: the guess is CPU
    asked = model_resources(study, ckpt)
    assert requested_resources("finetune", ckpt, asked).as_dict() == {
        "cpus": 1.0, "gpus": 2.0, "memory_gb": 4.0, "time_min": 90.0}
    assert requested_resources("mix", ckpt, asked).gpus == 0  # a mix only shuffles rows
    assert requested_resources("evaluate", "mini-120k", model_resources(study, "mini-120k")).as_dict() == {
        "cpus": 8.0, "gpus": 0.0, "memory_gb": 12.0, "time_min": 30.0}


def test_resources_reject_negative_gpus(tmp_path) -> None:
    import pytest

    from synthmix.config import load_study
    from synthmix.errors import ConfigError

    (tmp_path / "s.yaml").write_text("name: r\nblocks:\n  - {name: a, models: [mini-120k], tasks: [mini-math], "
                                     "shares: [0.0], iterations: [0], resources: {gpus: -1}}\n")
    with pytest.raises(ConfigError, match=r"blocks\[0\].resources.gpus: Input should be greater than or equal to 0 \(got -1\)"):
        load_study(tmp_path / "s.yaml")
