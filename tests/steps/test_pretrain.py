import json

import pytest
from pydantic import ValidationError

from synthmix.errors import ConfigError
from synthmix.steps.pretrain import Params, learning_rate, run

TINY = {"rung": "mini-120k", "token_budget": 2 * 8 * 64, "seq_len": 64, "batch_size": 8, "log_every": 1}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    outs = [tmp_path_factory.mktemp(f"run{i}") for i in range(2)]
    for out in outs:
        run({}, Params(**TINY), out)
    return outs


def test_run_same_seed_gives_identical_weights_and_tokenizer(two_runs):
    a, b = two_runs
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    assert (a / "tokenizer.json").read_bytes() == (b / "tokenizer.json").read_bytes()


def test_run_writes_step_log_with_the_manifest_fields(two_runs):
    log = json.loads((two_runs[0] / "step_log.json").read_text())
    assert {"loss_curve", "tokens_per_s", "final_loss", "n_params", "tokens"} <= set(log)
    assert log["tokens"] == TINY["token_budget"] and [s for s, _ in log["loss_curve"]] == [0, 1]
    assert log["loss_curve"][-1][1] == log["last_batch_loss"] and log["n_params"] > 80_000


def test_run_final_loss_is_the_mean_of_the_last_tenth_of_steps(tmp_path):
    run({}, Params(**{**TINY, "token_budget": 20 * 8 * 64}), tmp_path)
    log = json.loads((tmp_path / "step_log.json").read_text())
    assert log["steps"] == 20 and len(log["loss_curve"]) == 20
    assert log["final_loss"] == pytest.approx((log["loss_curve"][-2][1] + log["loss_curve"][-1][1]) / 2)


def test_run_output_loads_through_auto_classes(two_runs):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(two_runs[0])
    tokenizer = AutoTokenizer.from_pretrained(two_runs[0])
    assert model.config.model_type == "gpt_neox" and tokenizer.eos_token == "<|endoftext|>"
    assert model.config.vocab_size == len(tokenizer)


def test_params_reject_unknown_keys_and_are_frozen():
    with pytest.raises(ValidationError):
        Params(rung="mini-120k", colour="red")
    with pytest.raises(ValidationError):
        Params(rung="mini-120k").seed = 3


def test_run_unknown_rung_raises_config_error(tmp_path):
    with pytest.raises(ConfigError, match="mini-120k"):
        run({}, Params(rung="mini-9t"), tmp_path)


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    params = Params(rung="mini-120k", lr=1.0, warmup_fraction=0.1)
    assert learning_rate(0, 100, params) == pytest.approx(0.1)
    assert learning_rate(9, 100, params) == pytest.approx(1.0)
    assert learning_rate(99, 100, params) == pytest.approx(0.1, abs=0.01)


def test_learning_rate_peaks_at_the_rungs_pretrain_lr_unless_set():
    from synthmix.models.mini import PRETRAIN_LR

    warm = Params(rung="mini-3.7m", warmup_fraction=0.1)
    assert learning_rate(9, 100, warm) == pytest.approx(PRETRAIN_LR["mini-3.7m"])
    assert learning_rate(9, 100, Params(rung="mini-3.7m", warmup_fraction=0.1, lr=0.5)) == pytest.approx(0.5)


def test_corpus_windows_are_runs_of_whole_documents_each_starting_at_a_document_start():
    from synthmix.models.mini import train_tokenizer
    from synthmix.steps.pretrain import corpus_windows
    from synthmix.tasks.mini.corpus import corpus_text

    docs = corpus_text(0, 200_000)
    tokenizer = train_tokenizer(docs[:200], vocab_size=300)
    encoded = [[*ids, tokenizer.eos_token_id] for ids in tokenizer(docs)["input_ids"]]
    rows = corpus_windows(Params(rung="mini-120k", seq_len=64), tokenizer, 200)
    assert len(rows) == 200 and {len(r) for r in rows} == {64}
    j = 0
    for row in rows:
        expected: list[int] = []
        while len(expected) < 64:
            expected.extend(encoded[j])
            j += 1
        assert row == expected[:64]
    assert j < len(encoded)


def test_corpus_windows_come_from_the_world_the_params_size():
    from synthmix.models.mini import train_tokenizer
    from synthmix.steps.pretrain import corpus_windows
    from synthmix.tasks.mini.corpus import corpus_text

    docs = corpus_text(0, 20_000, n_people=400, n_objects=600)
    assert docs != corpus_text(0, 20_000)
    tokenizer = train_tokenizer(docs, vocab_size=300)
    (row,) = corpus_windows(Params(rung="mini-120k", seq_len=32, n_people=400, n_objects=600), tokenizer, 1)
    assert row == tokenizer(docs[0])["input_ids"][:32]


def test_run_keeps_a_heldout_curve_on_corpus_rows_it_never_trains_on(two_runs):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from synthmix.steps.pretrain import HELDOUT_ROWS, corpus_windows

    log = json.loads((two_runs[0] / "step_log.json").read_text())
    assert [s for s, _ in log["heldout_curve"]] == [0, 1, 2]  # before training, then after each logged step
    params = Params(**TINY)
    rows = corpus_windows(params, AutoTokenizer.from_pretrained(two_runs[0]), 2 * 8 + HELDOUT_ROWS)[16:]
    model = AutoModelForCausalLM.from_pretrained(two_runs[0]).eval()
    with torch.no_grad():
        ids = torch.tensor(rows)
        expected = float(model(input_ids=ids, labels=ids).loss)
    assert log["heldout_curve"][-1][1] == pytest.approx(expected, rel=1e-5)
