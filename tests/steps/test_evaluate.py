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


def _run(model: Path, task: str, out: Path, backend: str = "hf", temperature: float = 0.8,
         **evaluation: object) -> tuple[dict, list[dict]]:
    params = evaluate.Params(task=task, task_options=OPTIONS, evaluation={**EVALUATION, **evaluation},
                             temperature=temperature, top_p=0.9, n_shots=1, backend=backend, threads=1)
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


def test_evaluate_multiple_choice_logliks_acc_norm_and_length_normalised_confidence(tiny_model_dir: Path,
                                                                                    tmp_path: Path) -> None:
    from synthmix.models.loading import load_model, load_tokenizer
    from synthmix.tasks import get_task

    scores, rows = _run(tiny_model_dir, "mini-commonsense", tmp_path)
    assert scores["n_eval"] == 12 == len(rows)
    assert {"score", "accuracy", "acc_norm", "acc_norm_tokens", "ece", "ece_ci_low", "ece_ci_high", "ece_debiased",
            "oc_gap", "brier", "perplexity"} <= set(scores)
    assert scores["score"] == scores["accuracy"] == pytest.approx(sum(r["correct"] for r in rows) / 12)
    assert scores["unparsed_rate"] == 0.0
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    task = get_task("mini-commonsense", **OPTIONS)
    by_chars = []
    for ex, row in zip(task.load(task.eval_split), rows, strict=True):
        lls = torch.tensor([_loglik(model, tok, task.prompt(ex), c) for c in task.choices(ex)], dtype=torch.float64)
        n_tokens = torch.tensor([len(tok(c)["input_ids"]) for c in task.choices(ex)], dtype=torch.float64)
        chars = torch.tensor([len(c.strip()) for c in task.choices(ex)], dtype=torch.float64)
        assert row["logliks"] == pytest.approx(lls.tolist(), abs=1e-4)
        assert row["prediction"] == task.choice_labels(ex)[int(lls.argmax())]
        probs = torch.softmax(lls / n_tokens, 0)
        assert row["confidence"] == pytest.approx(float(probs[int(lls.argmax())]), abs=1e-4)
        by_chars.append(task.choice_labels(ex)[int((lls / chars).argmax())] == ex["answerKey"])
    assert scores["acc_norm"] == pytest.approx(sum(by_chars) / 12)
    table = json.loads((tmp_path / "reliability.json").read_text())
    assert sum(table["count"]) == 12 and len(table["edges"]) == 11 and table["reliable"] is False


def test_evaluate_generated_answer_prob_is_the_span_per_token_probability(tiny_model_dir: Path, tmp_path: Path) -> None:
    from synthmix.models.loading import load_model, load_tokenizer
    from synthmix.tasks import get_task

    scores, rows = _run(tiny_model_dir, "mini-factual", tmp_path, confidence="answer_prob")
    assert {"f1", "exact_match", "self_bleu", "distinct_1", "distinct_2", "unparsed_rate", "n_calibrated"} <= set(scores)
    assert scores["score"] == scores["f1"]
    assert scores["n_calibrated"] == sum(r["parsed"] for r in rows)
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    task = get_task("mini-factual", **OPTIONS)
    examples = task.load(task.eval_split)
    checked = 0
    for ex, row in zip(examples, rows, strict=True):
        assert row["parsed"] == (row["confidence"] is not None) == (row["extracted"] is not None)
        span = task.answer_span(row["generation"])
        if span is None or span[0] != 0 or "\ufffd" in row["generation"]:
            continue  # a split multi-byte character re-encodes to other tokens than the ones generated
        text = row["generation"][: span[1]]
        ref, n = _loglik(model, tok, task.prompt(ex), text), len(tok(text)["input_ids"])
        assert row["confidence"] == pytest.approx(math.exp(ref / n), rel=1e-3, abs=1e-6)
        checked += 1
    assert checked >= 1
    samples = (tmp_path / "diversity_samples.jsonl").read_text().splitlines()
    assert len(samples) == 6


def test_evaluate_self_consistency_is_one_when_samples_are_near_greedy(tiny_model_dir: Path, tmp_path: Path) -> None:
    scores, rows = _run(tiny_model_dir, "mini-factual", tmp_path, temperature=1e-4, consistency_k=3)
    parsed = [r for r in rows if r["parsed"]]
    # near-ties of an untrained model's logits can flip between batch shapes, so allow one disagreement in 12
    assert len(parsed) == 12 and sum(r["confidence"] == 1.0 for r in parsed) >= 11
    assert all(r["confidence"] is None for r in rows if not r["parsed"])
    assert scores["unparsed_rate"] == pytest.approx(1 - len(parsed) / len(rows))
    assert "perplexity" in scores


def test_evaluate_self_consistency_takes_values_in_steps_of_one_over_k(tiny_model_dir: Path, tmp_path: Path) -> None:
    scores, rows = _run(tiny_model_dir, "mini-factual", tmp_path, temperature=1.5, consistency_k=4)
    confidences = {r["confidence"] for r in rows if r["parsed"]}
    assert confidences <= {0.0, 0.25, 0.5, 0.75, 1.0}
    assert scores["mean_confidence"] == pytest.approx(sum(confidences_list := [r["confidence"] for r in rows if r["parsed"]])
                                                      / len(confidences_list))


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
