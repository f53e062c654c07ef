"""plan --cost: FLOPs from parameter counts and tokenised data, hours on a named device, disk with and without gc."""

from pathlib import Path

import pytest
from shared_paths import DATA as SHARED_DATA
from shared_paths import TOKENIZER_FILE as SHARED_TOKENIZER_FILE

from synthmix.config import parse_study
from synthmix.cost import (
    DEVICES,
    count_task_tokens,
    estimate_cost,
    render_cost,
    stride_sample,
)
from synthmix.errors import ConfigError
from synthmix.models.pythia import PYTHIA
from synthmix.plan import build_plan
from synthmix.tasks import get_task

DATA = SHARED_DATA
TOKENIZER_FILE = SHARED_TOKENIZER_FILE
SAMPLE = 800  # texts tokenised per split in these tests (the estimate and the independent count use the same stride sample)
pytestmark = pytest.mark.skipif(not (DATA / "math").is_dir() or not TOKENIZER_FILE.is_file(),
                                reason="the GSM8K files and the Pythia tokenizer in shared/ are not on this machine")


def small_study(tasks=("math",), **extra):
    data = {"name": "cost", "blocks": [{"name": "b", "models": ["EleutherAI/pythia-410m"], "tasks": list(tasks),
                                        "shares": [0, 0.5], "iterations": [1], "seeds": [0]}],
            "tasks": {t: {"data_dir": str(DATA / t)} if (DATA / t).is_dir() else {"hub": False} for t in tasks},
            "mixing": {"n": 200}, "evaluation": {"n_eval": 40}, **extra}
    return parse_study(data, Path("cost.yaml"))


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(TOKENIZER_FILE))  # the raw `tokenizers` object: an independent path to the counts


@pytest.fixture(scope="module")
def estimate():
    study = small_study(("math", "commonsense"))
    return study, estimate_cost(study, build_plan(study), tokenizer=TOKENIZER_FILE, sample=SAMPLE)


def test_finetune_flops_are_six_n_d_from_independently_counted_tokens(estimate, tokenizer):
    study, est = estimate
    train = stride_sample(get_task("math", data_dir=DATA / "math").load("train"), SAMPLE)
    mean = sum(min(len(tokenizer.encode(get_task("math").format_train(ex)).ids), 512) for ex in train) / len(train)
    d = 3 * 200 * mean
    finetune = next(s for s in est.steps if s.kind == "finetune" and s.task == "math")
    assert finetune.tokens == pytest.approx(d) and finetune.flops == pytest.approx(6 * PYTHIA["410m"].params * d)
    assert finetune.gpu_hours == pytest.approx(finetune.flops / (312e12 * 0.4) / 3600)


def test_multiple_choice_evaluation_is_two_n_d_over_every_option(estimate, tokenizer):
    _, est = estimate
    task = get_task("commonsense", data_dir=DATA / "commonsense")
    d = sum(len(tokenizer.encode(task.prompt(ex) + c).ids) for ex in task.load("validation")[:40] for c in task.choices(ex))
    evaluate = next(s for s in est.steps if s.kind == "evaluate" and s.task == "commonsense")
    assert evaluate.flops == pytest.approx(2 * PYTHIA["410m"].params * d)


def test_disk_without_gc_holds_every_model_and_gc_peak_holds_two(estimate):
    _, est = estimate
    checkpoint = PYTHIA["410m"].params * 2
    assert est.disk_without_gc == 2 * 3 * checkpoint  # per task: iteration 0, iteration 1 at 0 % and at 50 %
    assert est.disk_peak_with_gc == 2 * checkpoint  # the iteration-0 model and one iteration-1 model at a time


def test_unreachable_task_is_listed_and_not_counted(tokenizer):
    study = small_study(("math", "reading"))
    est = estimate_cost(study, build_plan(study), tokenizer=TOKENIZER_FILE, device="h100-sxm")
    assert est.missing_tasks == ["reading"] and {s.task for s in est.steps} == {"math"}
    assert any("reading" in line for line in est.seed_comparison())


def test_estimate_scales_with_the_device_and_the_mfu(estimate):
    study, est = estimate
    faster = estimate_cost(study, build_plan(study), tokenizer=TOKENIZER_FILE, device="h100-sxm", mfu=0.2, sample=SAMPLE)
    ratio = (DEVICES["h100-sxm"].peak_flops * 0.2) / (DEVICES["a100-40gb"].peak_flops * 0.4)
    assert faster.total("finetune")[1] == pytest.approx(est.total("finetune")[1] / ratio)
    assert faster.total()[0] == pytest.approx(est.total()[0])


def test_bad_device_and_mfu_are_config_errors(estimate):
    study, _ = estimate
    with pytest.raises(ConfigError, match="a100-40gb"):
        estimate_cost(study, build_plan(study), tokenizer=TOKENIZER_FILE, device="tpu")
    with pytest.raises(ConfigError, match="mfu"):
        estimate_cost(study, build_plan(study), tokenizer=TOKENIZER_FILE, mfu=1.5)


def test_stride_sample_is_even_and_bounded():
    assert stride_sample(list(range(10)), 4) == [0, 3, 6, 9] and stride_sample([1, 2], 5) == [1, 2]


def test_sampled_mean_is_close_to_the_full_mean(tokenizer):
    study = small_study()
    task = get_task("math", data_dir=DATA / "math")
    from synthmix.models.pythia import tokenizer_from_file

    tok = tokenizer_from_file(TOKENIZER_FILE)
    full, sampled = count_task_tokens(task, tok, study, sample=10_000), count_task_tokens(task, tok, study, sample=300)
    assert sampled.mean_train_tokens == pytest.approx(full.mean_train_tokens, rel=0.05)


def test_render_names_device_source_seed_figures_and_disk(estimate):
    from rich.console import Console

    _, est = estimate
    console = Console(record=True, width=200)
    for renderable in render_cost(est):
        console.print(renderable)
    text = console.export_text()
    assert "datasheet" in text and "2,400" in text and "without gc" in text and "GPU-hours" in text


def test_a_mini_study_is_costed_with_its_world_tokenizer_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    from synthmix.cost import resolve_tokenizer
    from synthmix.models.mini import VOCAB_SIZE

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    study = parse_study({"name": "m", "blocks": [{"name": "b", "models": ["mini-120k"], "tasks": ["mini-math"],
                                                    "shares": [0.0, 0.5], "iterations": [0, 1]}]}, Path("m.yaml"))
    tok = resolve_tokenizer(None, study)
    assert len(tok) <= VOCAB_SIZE + 8
    assert len(tok("Q: 2 + 3 = ?")["input_ids"]) > 0
