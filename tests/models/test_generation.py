"""The lean GPT-NeoX sampler against Hugging Face's forward and ``generate``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthmix.models.generation import HFDecoder, NeoxDecoder, generate_batch
from synthmix.models.loading import load_model, load_tokenizer

PROMPTS = ["Q: where was", "Question: How many apples does Anna have now?\nAnswer:", "Title:"]


def test_neox_decoder_matches_hf_generate_greedy(tiny_model_dir: Path) -> None:
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    ours = generate_batch(NeoxDecoder(model), tok, PROMPTS, 12, greedy=True)
    for prompt, c in zip(PROMPTS, ours, strict=True):
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        ref = model.generate(ids, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)[0, ids.shape[1]:]
        assert c.token_ids == ref.tolist()[: len(c.token_ids)]


def test_neox_and_hf_decoders_give_the_same_logprobs(tiny_model_dir: Path) -> None:
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    a = generate_batch(NeoxDecoder(model), tok, PROMPTS, 10, greedy=True)
    b = generate_batch(HFDecoder(model), tok, PROMPTS, 10, greedy=True)
    for x, y in zip(a, b, strict=True):
        assert x.token_ids == y.token_ids
        assert torch.allclose(torch.tensor(x.logprobs), torch.tensor(y.logprobs), atol=1e-4)


def test_sampling_is_seeded_and_stops_at_stop_strings(tiny_model_dir: Path) -> None:
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    run = lambda seed: generate_batch(NeoxDecoder(model), tok, PROMPTS * 4, 16, stop=("e",), temperature=0.8,  # noqa: E731
                                      top_p=0.9, generator=torch.Generator().manual_seed(seed))
    a, b = run(0), run(0)
    assert [c.text for c in a] == [c.text for c in b]
    assert all("e" not in c.text for c in a)
    assert all(len(c.ends) == len(c.token_ids) == len(c.logprobs) for c in a)


def test_span_logprob_sums_the_overlapping_tokens() -> None:
    from synthmix.models.generation import Completion

    c = Completion("ab cd", [1, 2, 3], [-1.0, -2.0, -4.0], [2, 3, 5])
    assert c.span_logprob(3, 5) == -4.0
    assert c.span_logprob(0, 5) == -7.0
    assert c.span_logprob(1, 3) == -3.0


def test_span_mean_logprob_averages_the_overlapping_tokens() -> None:
    from synthmix.models.generation import Completion

    c = Completion("ab cd", [1, 2, 3], [-1.0, -2.0, -4.0], [2, 3, 5])
    assert c.span_mean_logprob(1, 3) == -1.5
    assert c.span_mean_logprob(0, 5) == pytest.approx(-7.0 / 3)
    assert c.span_mean_logprob(5, 5) == 0.0
