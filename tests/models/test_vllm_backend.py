"""The vLLM backend's settings, backend choice and result conversion (vLLM itself needs a GPU and is not installed in CI).

The conversion is checked on plain records with the fields vLLM's ``RequestOutput`` / ``CompletionOutput`` /
``Logprob`` carry (``outputs[0].token_ids``, ``outputs[0].logprobs`` = one ``{token id: Logprob}`` per token),
built here as dataclasses: no part of vLLM is imitated, only its output data.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from synthmix.errors import StepError
from synthmix.models.generation import HFSampler, _finish, generate_batch, make_decoder
from synthmix.models.loading import load_model, load_tokenizer
from synthmix.models.vllm_backend import (
    SeedStream,
    VllmSampler,
    base_model_for_serving,
    choose_backend,
    completions_from_outputs,
    sampling_params,
)

PROMPTS = ["Q: where was", "Question: How many apples does Anna have now?\nAnswer:", "Title:"]


@dataclass
class Logprob:
    """vllm.logprobs.Logprob's fields."""

    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    """The fields of vllm.outputs.CompletionOutput that the conversion reads (and its neighbours)."""

    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, Logprob]] | None
    finish_reason: str | None = None


@dataclass
class RequestOutput:
    """The fields of vllm.outputs.RequestOutput that the conversion reads."""

    request_id: str
    outputs: list[CompletionOutput] = field(default_factory=list)


def _as_vllm(ids: list[int], logprobs: list[float], extra: dict[int, float] | None = None) -> RequestOutput:
    """One request's output as vLLM returns it with ``logprobs=0`` (the sampled token, sometimes with others)."""
    steps = [{t: Logprob(lp, rank=1)} | {k: Logprob(v) for k, v in (extra or {}).items() if k != t}
             for t, lp in zip(ids, logprobs, strict=True)]
    return RequestOutput("0", [CompletionOutput(0, "", list(ids), sum(logprobs), steps, "length")])


def test_sampling_params_carry_hf_settings() -> None:
    p = sampling_params(64, stop=["\n\n"], temperature=0.8, top_p=0.9, seed=3)
    assert (p["max_tokens"], p["temperature"], p["top_p"], p["stop"], p["seed"]) == (64, 0.8, 0.9, ["\n\n"], 3)
    assert p["include_stop_str_in_output"] and p["logprobs"] == 0 and p["n"] == 1


def test_sampling_params_greedy_is_temperature_zero() -> None:
    p = sampling_params(16, temperature=0.8, top_p=0.9, greedy=True)
    assert (p["temperature"], p["top_p"]) == (0.0, 1.0)


def test_sampling_params_map_each_hf_call_of_the_steps() -> None:
    # the writer (generate step, diversity, pass@k): generate_batch(..., max_new, stop, temperature, top_p)
    writer = sampling_params(48, ("\n\n",), 0.8, 0.9, seed=7)
    assert {k: writer[k] for k in ("max_tokens", "stop", "temperature", "top_p")} == \
        {"max_tokens": 48, "stop": ["\n\n"], "temperature": 0.8, "top_p": 0.9}
    # evaluation answers: generate_batch(..., max_new, stop, greedy=True) with default temperature/top_p
    answer = sampling_params(32, ("\n",), greedy=True, seed=0)
    assert (answer["temperature"], answer["top_p"], answer["max_tokens"], answer["stop"]) == (0.0, 1.0, 32, ["\n"])


def test_choose_backend_falls_back_to_hf_with_a_warning() -> None:
    with pytest.warns(RuntimeWarning, match="sampled with the HF backend"):
        choice = choose_backend("vllm", available=False)
    assert (choice.requested, choice.used) == ("vllm", "hf")
    assert choice.as_log()["backend"] == "hf" and "synthmix[gpu]" in choice.as_log()["backend_warning"]


def test_choose_backend_takes_vllm_when_available_and_hf_when_asked() -> None:
    assert choose_backend("vllm", available=True).used == "vllm"
    assert choose_backend("hf", available=True) == choose_backend("hf", available=False)
    assert choose_backend("hf").as_log() == {"backend": "hf", "backend_requested": "hf", "backend_warning": None}


def test_seed_stream_hands_out_consecutive_request_seeds() -> None:
    stream = SeedStream(10)
    assert stream.take(3) == [10, 11, 12] and stream.take(2) == [13, 14]


def test_completions_from_vllm_outputs_equal_the_hf_records(tiny_model_dir: Path) -> None:
    """vLLM returns every token up to the stop string (included) or EOS; the records equal the HF path's."""
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    stop = ("e",)
    raw = generate_batch(make_decoder(model), tok, PROMPTS, 12, greedy=True)  # no stop: the whole token stream
    cut = HFSampler(model, tok).generate(PROMPTS, 12, stop, greedy=True)
    outputs = [_as_vllm(c.token_ids, c.logprobs, extra={0: -9.0}) for c in raw]
    ours = completions_from_outputs(tok, outputs, stop)
    assert ours == [_finish(tok, c.token_ids, c.logprobs, stop, tok.eos_token_id) for c in raw]
    assert [(c.text, c.token_ids, c.ends) for c in ours] == [(c.text, c.token_ids, c.ends) for c in cut]
    for a, b in zip(ours, cut, strict=True):  # the HF batch drops finished rows, so its floats differ in the last bits
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-5)


def test_completions_from_vllm_outputs_cut_at_eos(tiny_model_dir: Path) -> None:
    tok = load_tokenizer(tiny_model_dir)
    ids = tok("a b c", add_special_tokens=False)["input_ids"]
    out = _as_vllm(ids + [tok.eos_token_id], [-0.5] * (len(ids) + 1))
    (c,) = completions_from_outputs(tok, [out], ())
    assert c.token_ids == ids and c.logprobs == [-0.5] * len(ids) and c.text == tok.decode(ids)


def test_base_model_for_serving_puts_adapters_on_their_base(tmp_path: Path) -> None:
    import json

    store = tmp_path / "store"
    adapter = store / "finetune" / "abc"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 4, "base_model_name_or_path": "/gone/pretrain/x"}))
    (adapter / "base_model.json").write_text(json.dumps({"artifact": "pretrain/x"}))
    assert base_model_for_serving(adapter) == (str((store / "pretrain" / "x").resolve()), str(adapter))
    assert base_model_for_serving(store / "pretrain" / "x") == (str(store / "pretrain" / "x"), None)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_vllm_sampler_without_vllm_names_the_extra(tmp_path: Path) -> None:
    with pytest.raises(StepError, match="synthmix\\[gpu\\]"):
        VllmSampler(tmp_path)
