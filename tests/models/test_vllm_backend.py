"""The vLLM backend's sampling settings mirror the HF path's (vLLM itself needs a GPU and is not installed in CI)."""

from __future__ import annotations

import importlib.util

import pytest

from synthmix.errors import StepError
from synthmix.models.vllm_backend import VllmGenerator, sampling_params


def test_sampling_params_carry_hf_settings() -> None:
    p = sampling_params(64, stop=["\n\n"], temperature=0.8, top_p=0.9, seed=3)
    assert (p["max_tokens"], p["temperature"], p["top_p"], p["stop"], p["seed"]) == (64, 0.8, 0.9, ["\n\n"], 3)
    assert p["include_stop_str_in_output"] and p["logprobs"] == 0 and p["n"] == 1


def test_sampling_params_greedy_is_temperature_zero() -> None:
    p = sampling_params(16, temperature=0.8, top_p=0.9, greedy=True)
    assert (p["temperature"], p["top_p"]) == (0.0, 1.0)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_vllm_generator_without_vllm_names_the_extra(tmp_path) -> None:
    with pytest.raises(StepError, match="synthmix\\[gpu\\]"):
        VllmGenerator(tmp_path)
