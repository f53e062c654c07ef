"""The evaluate step: files and metrics, with confidence cross-checked against a plain forward pass."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from synthmix.models.vllm_backend import vllm_available
from synthmix.steps import evaluate

OPTIONS = {"n_train": 32, "n_validation": 8, "n_test": 12}
EVALUATION = {"n_eval": 12, "batch_size": 8, "diversity_n": 6, "perplexity_n": 4, "ece_bins": 10, "pass_k": [1]}


def _run(model: Path, task: str, out: Path, backend: str = "hf") -> tuple[dict, list[dict]]:
    params = evaluate.Params(task=task, task_options=OPTIONS, evaluation=EVALUATION, temperature=0.8, top_p=0.9,
                             n_shots=1, backend=backend, threads=1)
    evaluate.run({"model": model}, params, out)
    rows = [json.loads(line) for line in (out / "examples.jsonl").read_text().splitlines()]
    return json.loads((out / "scores.json").read_text()), rows


def _loglik(model, tok, context: str, continuation: str) -> float:
    """Reference: summed log P(continuation | context) from one unbatched forward."""
    c = tok(context)["input_ids"]
    x = tok(continuation)["input_ids"]
    ids = torch.tensor([c + x])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0, :-1].float(), -1)
    return float(sum(logp[len(c) - 1 + i, t] for i, t in enumerate(x)))


def test_evaluate_multiple_choice_confidence_is_the_option_softmax(tiny_model_dir: Path, tmp_path: Path) -> None:
    from synthmix.models.loading import load_model, load_tokenizer
    from synthmix.tasks import get_task

    scores, rows = _run(tiny_model_dir, "mini-commonsense", tmp_path)
    assert scores["n_eval"] == 12 == len(rows)
    assert {"score", "accuracy", "accuracy_norm", "ece", "ece_debiased", "oc_gap", "brier", "perplexity"} <= set(scores)
    assert scores["score"] == scores["accuracy"] == pytest.approx(sum(r["correct"] for r in rows) / 12)
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    task = get_task("mini-commonsense", **OPTIONS)
    ex = task.load(task.eval_split)[0]
    lls = torch.tensor([_loglik(model, tok, task.prompt(ex), c) for c in task.choices(ex)])
    probs = torch.softmax(lls, 0)
    assert rows[0]["confidence"] == pytest.approx(float(probs.max()), abs=1e-4)
    assert rows[0]["prediction"] == task.choice_labels(ex)[int(probs.argmax())]
    table = json.loads((tmp_path / "reliability.json").read_text())
    assert sum(table["count"]) == 12 and len(table["edges"]) == 11 and table["reliable"] is False


def test_evaluate_generated_confidence_is_the_answer_span_probability(tiny_model_dir: Path, tmp_path: Path) -> None:
    from synthmix.models.loading import load_model, load_tokenizer
    from synthmix.tasks import get_task

    scores, rows = _run(tiny_model_dir, "mini-factual", tmp_path)
    assert {"f1", "exact_match", "self_bleu", "distinct_1", "distinct_2"} <= set(scores)
    assert scores["score"] == scores["f1"]
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    task = get_task("mini-factual", **OPTIONS)
    examples = task.load(task.eval_split)
    checked = 0
    for ex, row in zip(examples, rows, strict=True):
        span = task.answer_span(row["prediction"])
        if span is None or span[0] != 0 and row["prediction"][: span[0]].strip():
            continue
        # the whole prediction up to the span's end, scored in one forward: P(prefix + span | prompt) / P(prefix)
        ref = _loglik(model, tok, task.prompt(ex), row["prediction"][: span[1]])
        if span[0] > 0:
            ref -= _loglik(model, tok, task.prompt(ex), row["prediction"][: span[0]])
        assert row["confidence"] == pytest.approx(math.exp(ref), rel=1e-3, abs=1e-6)
        checked += 1
    assert checked >= 1
    samples = (tmp_path / "diversity_samples.jsonl").read_text().splitlines()
    assert len(samples) == 6


def test_evaluate_params_reject_unknown_keys() -> None:
    with pytest.raises(ValueError):
        evaluate.Params(task="mini-factual", task_options={}, evaluation={**EVALUATION, "extra": 1}, temperature=0.8,
                        top_p=0.9, n_shots=1, backend="hf", threads=1)


@pytest.mark.skipif(vllm_available(), reason="vLLM and a GPU are here: the vllm backend runs, not the fallback")
def test_evaluate_vllm_backend_falls_back_to_hf_with_equal_results(tiny_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "hf").mkdir()
    (tmp_path / "vllm").mkdir()
    hf = _run(tiny_model_dir, "mini-factual", tmp_path / "hf")
    with pytest.warns(RuntimeWarning, match="sampled with the HF backend"):
        fallback = _run(tiny_model_dir, "mini-factual", tmp_path / "vllm", backend="vllm")
    assert fallback == hf
    for name in ("diversity_samples.jsonl", "reliability.json"):
        assert (tmp_path / "hf" / name).read_bytes() == (tmp_path / "vllm" / name).read_bytes()
    log = json.loads((tmp_path / "vllm" / "step_log.json").read_text())
    assert (log["backend"], log["backend_requested"]) == ("hf", "vllm")
