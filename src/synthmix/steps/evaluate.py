"""The evaluate step: per-example predictions with confidence, calibration, diversity and perplexity of one model.

Confidence, the ``max_y P(y|x)`` that ECE and the overconfidence gap use:
- multiple choice: the softmax over the options' summed log-likelihoods; confidence = its maximum
  (``metrics.qa.choose_option``); the prediction is the summed-likelihood choice (``accuracy``),
  the per-token-normalised choice is reported as ``accuracy_norm``;
- generated answers (greedy decoding): the model's probability of the final answer span it
  produced (``task.answer_span``), i.e. the product of the probabilities of the tokens overlapping
  that span, conditioned on the prompt and everything generated before it. No answer span = 0.
  For code the span is the whole completion, so confidence is near 0 and its ECE is unreliable.
Diversity: ``diversity_n`` samples at the study's temperature/top-p from synthesis prompts whose
shots are drawn with a fixed seed, so the prompt set is the same for every condition of a task;
Self-BLEU-4 (exact) and Distinct-1/2 on them. Perplexity: per token on ``perplexity_n`` held-out
external texts (the tuning split, never trained on).

Backends: the sampled parts (greedy answers, pass@k samples, diversity samples) go through a sampler,
``hf`` (``generate_batch``) or ``vllm`` (``models.vllm_backend.VllmSampler``, same settings, same records,
log-probabilities under the untempered model so confidence means the same), falling back to ``hf`` with a
warning when vLLM or a GPU is missing; ``step_log.json`` (merged into the manifest) records which ran.
They run first, so a vLLM engine is freed before the HF model loads for option scoring and perplexity.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DIVERSITY_SEED = 0


class Evaluation(BaseModel):
    """The study's evaluation settings (see ``synthmix.config.EvaluationSettings``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_eval: int | None = Field(gt=0)
    batch_size: int = Field(gt=0)
    diversity_n: int = Field(gt=0)
    perplexity_n: int = Field(gt=0)
    ece_bins: int = Field(gt=0)
    pass_k: list[int]
    split: Literal["eval", "tuning"] = "eval"


class Params(BaseModel):
    """What is measured, and the sampling settings of the diversity samples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    task_options: dict[str, Any]
    evaluation: Evaluation
    temperature: float = Field(gt=0)
    top_p: float = Field(gt=0, le=1.0)
    n_shots: int = Field(ge=0)
    backend: Literal["hf", "vllm"]
    threads: int = Field(ge=1)


def _multiple_choice(model: Any, tokenizer: Any, task: Any, examples: list[dict[str, Any]], batch: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Per-example rows and accuracy/accuracy_norm by option log-likelihood."""
    from synthmix.metrics.qa import choose_option
    from synthmix.models.scoring import continuation_loglikelihoods

    contexts, conts, owner = [], [], []
    for i, ex in enumerate(examples):
        for c in task.choices(ex):
            contexts.append(task.prompt(ex))
            conts.append(c)
            owner.append(i)
    scored = continuation_loglikelihoods(model, tokenizer, contexts, conts, batch_size=batch)
    rows, norm_hits = [], []
    for i, ex in enumerate(examples):
        mine = [s for s, o in zip(scored, owner, strict=True) if o == i]
        choice = choose_option([ll for ll, _ in mine], [n for _, n in mine])
        labels = task.choice_labels(ex)
        pred = labels[choice.summed]
        norm_hits.append(float(task.correct(labels[choice.normalised], ex)))
        rows.append({"example_id": task.example_id(ex), "score": task.score(pred, ex), "correct": task.correct(pred, ex),
                     "confidence": choice.confidence, "prediction": pred})
    return rows, {"accuracy_norm": sum(norm_hits) / len(norm_hits)}


def _generated(sampler: Any, task: Any, examples: list[dict[str, Any]], batch: int) -> list[dict[str, Any]]:
    """Greedy answers, scored, with the probability of their answer span as confidence."""
    spec = task.generation
    rows = []
    for start in range(0, len(examples), batch):
        chunk = examples[start:start + batch]
        outs = sampler.generate([task.prompt(ex) for ex in chunk], spec.max_new_tokens, spec.stop, greedy=True)
        for ex, c in zip(chunk, outs, strict=True):
            span = task.answer_span(c.text)
            confidence = math.exp(c.span_logprob(*span)) if span else 0.0
            rows.append({"example_id": task.example_id(ex), "score": task.score(c.text, ex),
                         "correct": task.correct(c.text, ex), "confidence": confidence, "prediction": c.text})
    return rows


def _pass_at_k(sampler: Any, task: Any, examples: list[dict[str, Any]], params: Params) -> dict[str, float]:
    """Unbiased pass@k for k > 1 from max(k) samples per problem at the study's temperature."""
    from synthmix.metrics.code import pass_at_k

    ks = sorted(k for k in params.evaluation.pass_k if k > 1)
    if not ks:
        return {}
    n = max(ks)
    spec = task.generation
    stream = sampler.stream(DIVERSITY_SEED)
    passed = []
    for ex in examples:
        outs = sampler.generate([task.prompt(ex)] * n, spec.max_new_tokens, spec.stop, params.temperature, params.top_p,
                                stream=stream)
        passed.append(sum(task.correct(c.text, ex) for c in outs))
    return {f"pass@{k}": sum(pass_at_k(n, c, k) for c in passed) / len(passed) for k in ks}


def _diversity_samples(sampler: Any, task: Any, params: Params) -> list[str]:
    """A fixed number of samples from a fixed prompt set (the same for every condition of a task)."""
    from synthmix.steps.generate import synthesis_prompts

    n = params.evaluation.diversity_n
    prompts = synthesis_prompts(task, task.load("train"), params.n_shots, DIVERSITY_SEED, 0, n)
    spec = task.synthesis_generation
    stream = sampler.stream(DIVERSITY_SEED)
    texts: list[str] = []
    for start in range(0, n, params.evaluation.batch_size):
        outs = sampler.generate(prompts[start:start + params.evaluation.batch_size], spec.max_new_tokens, spec.stop,
                                params.temperature, params.top_p, stream=stream)
        texts.extend(c.text for c in outs)
    return texts


def _diversity(texts: list[str], out: Path) -> dict[str, float]:
    """Self-BLEU and Distinct-1/2 of the diversity samples, which are written to ``diversity_samples.jsonl``."""
    from synthmix.metrics.diversity import distinct_n, self_bleu

    with open(out / "diversity_samples.jsonl", "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"sample_id": i, "text": t}, ensure_ascii=False) + "\n")
    words = [t for t in texts if len(t.split()) >= 2]
    if len(words) < 2:
        return {}
    return {"self_bleu": self_bleu(texts), "distinct_1": distinct_n(words, 1), "distinct_2": distinct_n(words, 2)}


def _calibration(rows: list[dict[str, Any]], bins: int, out: Path) -> dict[str, float]:
    """ECE (plug-in and debiased), overconfidence gap, Brier score; the reliability table goes to a file."""
    from synthmix.metrics.calibration import (
        RELIABLE_MIN_ITEMS,
        brier_score,
        debiased_expected_calibration_error,
        expected_calibration_error,
        overconfidence_gap,
        reliability_table,
    )

    conf = [min(max(float(r["confidence"]), 0.0), 1.0) for r in rows]
    hits = [int(bool(r["correct"])) for r in rows]
    table = reliability_table(conf, hits, bins)
    (out / "reliability.json").write_text(json.dumps({
        "edges": table.edges.tolist(), "count": table.count.tolist(),
        "accuracy": [None if math.isnan(a) else a for a in table.accuracy.tolist()],
        "confidence": [None if math.isnan(c) else c for c in table.confidence.tolist()],
        "reliable": len(rows) >= RELIABLE_MIN_ITEMS,
    }, indent=1))
    return {"ece": expected_calibration_error(conf, hits, bins),
            "ece_debiased": debiased_expected_calibration_error(conf, hits, bins),
            "oc_gap": overconfidence_gap(conf, hits), "brier": brier_score(conf, hits)}


def scored_split(task: Any, which: str) -> str:
    """The split evaluation scores: the task's eval split, or for ``tuning`` its tuning split (never the eval split)."""
    from synthmix.errors import ConfigError
    from synthmix.tasks.base import tuning_split

    if which == "eval":
        return task.eval_split
    split = tuning_split(task)
    if split is None:
        raise ConfigError(f"task {task.name!r} has no tuning split apart from its eval split {task.eval_split!r}; "
                          "settings can only be tuned on a task that has one (the mini tasks, gsm8k)")
    return split


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Write ``scores.json``, ``examples.jsonl``, ``reliability.json`` and ``diversity_samples.jsonl``."""
    import functools

    import torch

    from synthmix.models.adapters import load_for_inference
    from synthmix.models.loading import detect_placement
    from synthmix.models.scoring import perplexity
    from synthmix.models.vllm_backend import choose_backend, make_sampler
    from synthmix.tasks import get_task

    torch.manual_seed(0)
    torch.set_num_threads(params.threads)
    task = get_task(params.task, **params.task_options)
    cfg = params.evaluation
    examples = task.load(scored_split(task, cfg.split))[: cfg.n_eval]
    choice = choose_backend(params.backend)
    (out / "step_log.json").write_text(json.dumps(choice.as_log(), indent=1))
    hf_model = functools.cache(lambda: load_for_inference(inputs["model"], detect_placement("inference")))
    sampler = make_sampler(choice, inputs["model"], hf_model)
    scores: dict[str, float] = {}
    if task.output_type != "multiple_choice":
        rows = _generated(sampler, task, examples, cfg.batch_size)
        if task.output_type == "code":
            scores.update(_pass_at_k(sampler, task, examples, params))
    diversity_texts = _diversity_samples(sampler, task, params)
    if choice.used == "vllm":
        sampler.close()
    model, tokenizer = hf_model()
    if task.output_type == "multiple_choice":
        rows, extra = _multiple_choice(model, tokenizer, task, examples, cfg.batch_size)
        scores.update(extra)
    with open(out / "examples.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    mean_score = sum(r["score"] for r in rows) / len(rows)
    scores.update({"score": mean_score, task.info.primary_metric: mean_score, "n_eval": float(len(rows))})
    if "exact_match" in task.info.metrics:
        scores["exact_match"] = sum(bool(r["correct"]) for r in rows) / len(rows)
    scores.update(_calibration(rows, cfg.ece_bins, out))
    scores.update(_diversity(diversity_texts, out))
    held_out = task.load(getattr(task, "tuning_split", "validation"))[: cfg.perplexity_n]
    scores["perplexity"] = perplexity(model, tokenizer, [task.format_train(ex) for ex in held_out], cfg.batch_size)
    (out / "scores.json").write_text(json.dumps(scores, indent=1, sort_keys=True))
