"""Any Hugging Face causal LM: five architectures load, fine-tune (full and LoRA), generate and score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_archs import ARCHITECTURES, build_tiny_model

from synthmix.models.adapters import is_adapter, load_for_inference, lora_targets, planned_lora_targets
from synthmix.models.generation import HFSampler
from synthmix.models.loading import load_model, load_tokenizer
from synthmix.models.scoring import continuation_loglikelihoods
from synthmix.steps import finetune, mix
from synthmix.tasks import get_task

OPTIONS = {"n_train": 16, "n_validation": 8, "n_test": 8}
TRAINING = {"method": "full", "epochs": 1.0, "lr": 1e-2, "batch_size": 8, "grad_accum": 1, "warmup_ratio": 0.0,
            "weight_decay": 0.0, "max_length": 64, "loss_on": "answer", "init_from": "iteration-0", "precision": "auto",
            "gradient_checkpointing": False, "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": None}}
# peft's defaults (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING) for the five architectures
EXPECTED_TARGETS = {"gpt_neox": ["query_key_value"], "llama": ["q_proj", "v_proj"], "gpt2": ["c_attn"],
                    "qwen2": ["q_proj", "v_proj"], "mistral": ["q_proj", "v_proj"]}
VARIANTS = {"gpt_neox": {}, "llama": {"pad": False}, "gpt2": {"pad": False}, "qwen2": {"chat_template": True},
            "mistral": {"pad": False}}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    task = get_task("mini-math", **OPTIONS)
    texts = [task.format_train(ex) for ex in task.load("train")] * 4
    root = tmp_path_factory.mktemp("archs")
    return {arch: build_tiny_model(root / f"tiny-{arch}", arch, texts, **VARIANTS[arch]) for arch in ARCHITECTURES}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mix")
    mix.run({}, mix.Params(task="mini-math", task_options=OPTIONS, n=16, share=0.0, regime="replace", seed=0), out)
    return out


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_lora_targets_default_to_peft_choice_per_architecture(models: dict[str, Path], arch: str) -> None:
    model = load_model(models[arch])
    assert lora_targets(model, None) == EXPECTED_TARGETS[arch]
    assert lora_targets(model, ["x"]) == ["x"]
    assert planned_lora_targets(str(models[arch]), None) == (["query_key_value"] if arch == "gpt_neox" else None)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_tokenizer_without_pad_pads_with_eos_left(models: dict[str, Path], arch: str) -> None:
    tok = load_tokenizer(models[arch])
    expected_pad = tok.eos_token_id if VARIANTS[arch].get("pad") is False else tok.convert_tokens_to_ids("<|padding|>")
    assert tok.pad_token_id == expected_pad and tok.padding_side == "left"
    batch = tok(["1", "1 + 2 = 3"], padding=True)
    assert batch["input_ids"][0][0] == expected_pad and batch["attention_mask"][0][0] == 0


@pytest.mark.parametrize("method", ["full", "lora"])
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_any_causal_lm_finetunes_generates_and_scores(models: dict[str, Path], data: Path, tmp_path: Path,
                                                      arch: str, method: str) -> None:
    params = finetune.Params(model=str(models[arch]), task="mini-math", task_options=OPTIONS, seed=0,
                             training={**TRAINING, "method": method}, threads=1)
    out = tmp_path / "ft"
    out.mkdir()
    finetune.run({"data": data}, params, out)
    log = json.loads((out / "step_log.json").read_text())
    assert log["steps"] == 2 and len(log["loss_curve"]) == 2  # 16 examples, batch 8, 1 epoch
    assert is_adapter(out) == (method == "lora")
    if method == "lora":
        assert sorted(json.loads((out / "adapter_config.json").read_text())["target_modules"]) == EXPECTED_TARGETS[arch]
        assert log["n_trainable"] < log["n_params"]
    model, tok = load_for_inference(out)
    completions = HFSampler(model, tok).generate(["12 + 3 =", "1 + 1 ="], max_new_tokens=5, greedy=True)
    assert len(completions) == 2 and all(len(c.token_ids) <= 5 for c in completions)
    ll = continuation_loglikelihoods(model, tok, ["12 + 3 =", "1 + 1 ="], [" 15", " 2"])
    assert all(n >= 1 and lp < 0 for lp, n in ll)
    single = continuation_loglikelihoods(model, tok, ["1 + 1 ="], [" 2"])
    assert single[0][0] == pytest.approx(ll[1][0], abs=1e-4)  # padding does not change a row's score
