"""The finetune step and its training loop: answer-only labels, seeded order, learning, exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmix.models.adapters import load_for_inference
from synthmix.models.training import IGNORE, batch_order, collate, encode_pair, learning_rate
from synthmix.steps import finetune, mix

OPTIONS = {"n_train": 32, "n_validation": 8, "n_test": 8}
TRAINING = {"method": "full", "epochs": 3.0, "lr": 1e-2, "batch_size": 8, "grad_accum": 2, "warmup_ratio": 0.1,
            "weight_decay": 0.0, "max_length": 64, "loss_on": "answer", "init_from": "iteration-0", "precision": "auto",
            "gradient_checkpointing": False, "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["query_key_value"]}}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mix")
    mix.run({}, mix.Params(task="mini-factual", task_options=OPTIONS, n=32, share=0.0, regime="replace", seed=0), out)
    return out


def _params(model: Path, **training: object) -> finetune.Params:
    return finetune.Params(model=str(model), task="mini-factual", task_options=OPTIONS, seed=0,
                           training={**TRAINING, **training}, threads=1)


def test_encode_pair_masks_the_prompt_when_loss_on_answer(tiny_model_dir: Path) -> None:
    from synthmix.models.loading import load_tokenizer

    tok = load_tokenizer(tiny_model_dir)
    ids, labels = encode_pair(tok, "Q: who?\nA:", " Bob\n\n", 64, "answer")
    n_prompt = len(tok("Q: who?\nA:")["input_ids"])
    assert labels[:n_prompt] == [IGNORE] * n_prompt and labels[n_prompt:] == ids[n_prompt:]
    ids_all, labels_all = encode_pair(tok, "Q: who?\nA:", " Bob\n\n", 64, "all")
    assert labels_all == ids_all == ids


def test_batch_order_depends_only_on_seed_and_size() -> None:
    a, b = batch_order(10, 4, 2.5, seed=3), batch_order(10, 4, 2.5, seed=3)
    assert a == b and a != batch_order(10, 4, 2.5, seed=4)
    flat = [i for batch in a for i in batch]
    assert len(flat) == 25 and sorted(flat[:10]) == list(range(10))


def test_learning_rate_warms_up_then_decays_to_zero() -> None:
    rates = [learning_rate(s, 10, 1.0, 0.2) for s in range(10)]
    assert rates[0] == 0.5 and rates[1] == 1.0 and rates[2] == 1.0 and rates[-1] == pytest.approx(0.125)


def test_finetune_lowers_the_loss_and_saves_a_loadable_model(tiny_model_dir: Path, data: Path, tmp_path: Path) -> None:
    from synthmix.models.adapters import load_for_inference

    finetune.run({"data": data}, _params(tiny_model_dir), tmp_path)
    log = json.loads((tmp_path / "step_log.json").read_text())
    curve = [loss for _, loss in log["loss_curve"]]
    assert log["steps"] == len(curve) == 6  # 96 examples / (8 × 2)
    assert curve[-1] < curve[0]
    assert log["n_params"] > 0 and log["tokens_per_s"] > 0
    assert not (tmp_path / "_checkpoint").exists() or (tmp_path / "_checkpoint" / "state.pt").exists()
    model, tok = load_for_inference(tmp_path)
    assert model.config.num_hidden_layers == 2 and tok.pad_token is not None


def test_finetune_resume_from_checkpoint_is_bit_identical(tiny_model_dir: Path, data: Path, tmp_path: Path) -> None:
    import torch

    from synthmix.models.loading import load_model

    whole, part = tmp_path / "whole", tmp_path / "part"
    whole.mkdir()
    part.mkdir()
    finetune.run({"data": data}, _params(tiny_model_dir), whole)
    # an interrupted attempt leaves only its checkpoint: simulate by re-running after deleting everything else
    finetune.run({"data": data}, _params(tiny_model_dir), part)
    state = torch.load(part / "_checkpoint" / "state.pt", weights_only=False)
    assert 0 < state["result"]["steps"] < 6
    for child in part.iterdir():
        if child.name != "_checkpoint":
            child.unlink()
    finetune.run({"data": data}, _params(tiny_model_dir), part)
    log = json.loads((part / "step_log.json").read_text())
    assert log["resumed_from_step"] == state["result"]["steps"]
    a, b = load_model(whole).state_dict(), load_model(part).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_finetune_lora_stores_adapters_not_merged_weights(tiny_model_dir: Path, data: Path, tmp_path: Path) -> None:
    from synthmix.models.adapters import is_adapter, load_for_inference

    finetune.run({"data": data}, _params(tiny_model_dir, method="lora", epochs=1.0), tmp_path)
    assert is_adapter(tmp_path)
    log = json.loads((tmp_path / "step_log.json").read_text())
    assert 0 < log["n_trainable"] < log["n_params"]
    model, _ = load_for_inference(tmp_path)
    assert type(model).__name__ == "GPTNeoXForCausalLM"


def test_finetune_params_reject_unknown_training_keys(tiny_model_dir: Path) -> None:
    with pytest.raises(ValueError):
        _params(tiny_model_dir, optimizer="sgd")


def test_finetune_lora_base_is_store_relative_so_a_moved_store_loads(tiny_model_dir: Path, data: Path,
                                                                     tmp_path: Path) -> None:
    import shutil

    import torch

    from synthmix.models.adapters import adapter_base, read_base_record

    store = tmp_path / "store"
    base = store / "pretrain" / "rung"
    shutil.copytree(tiny_model_dir, base)
    first, second = store / "finetune" / "first", store / "finetune" / "second"
    first.mkdir(parents=True)
    second.mkdir()
    finetune.run({"init": base, "data": data}, _params(base, method="lora", epochs=1.0), first)
    finetune.run({"init": first, "data": data}, _params(base, method="lora", epochs=1.0), second)
    assert read_base_record(first) == read_base_record(second) == {"artifact": "pretrain/rung"}
    before = load_for_inference(second)[0].state_dict()
    moved = tmp_path / "elsewhere"
    shutil.move(store, moved)
    assert adapter_base(moved / "finetune" / "second") == str((moved / "pretrain" / "rung").resolve())
    after = load_for_inference(moved / "finetune" / "second")[0].state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_finetune_lora_from_a_hub_model_records_its_id_and_revision() -> None:
    from synthmix.models.adapters import base_record

    assert base_record("EleutherAI/pythia-12b", is_artifact=False, revision="step143000") == \
        {"model": "EleutherAI/pythia-12b", "revision": "step143000"}


def test_finetune_keeps_train_and_heldout_loss_curves(tiny_model_dir: Path, data: Path, tmp_path: Path) -> None:
    import torch

    from synthmix.models.loading import load_model, load_tokenizer
    from synthmix.models.training import heldout_loss
    from synthmix.tasks import get_task

    out = tmp_path / "ft"
    out.mkdir()
    finetune.run({"data": data}, _params(tiny_model_dir), out)
    log = json.loads((out / "step_log.json").read_text())
    assert log["steps"] == 6 and [s for s, _ in log["loss_curve"]] == [1, 2, 3, 4, 5, 6]  # 32 × 3 / (8 × 2)
    assert log["heldout_split"] == "dev" and [s for s, _ in log["heldout_curve"]] == [0, 1, 2, 3, 4, 5, 6]
    task = get_task("mini-factual", **OPTIONS)
    tok = load_tokenizer(tiny_model_dir)
    held = [encode_pair(tok, task.prompt(ex), task.target(ex), 64, "answer") for ex in task.load("dev")[:64]]
    pad = tok.pad_token_id
    assert log["heldout_curve"][0][1] == pytest.approx(heldout_loss(load_model(tiny_model_dir), held, pad, 8), rel=1e-5)
    assert log["heldout_curve"][-1][1] == pytest.approx(heldout_loss(load_model(out), held, pad, 8), rel=1e-5)
    with torch.no_grad():  # the held-out loss is a mean over supervised tokens: check one batch by hand
        ids, mask, labels = collate(held[:2], pad)
        logits = load_model(out)(input_ids=ids, attention_mask=mask).logits
        manual = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(),
                                                   ignore_index=IGNORE)
    assert heldout_loss(load_model(out), held[:2], pad, 2) == pytest.approx(float(manual), rel=1e-5)
