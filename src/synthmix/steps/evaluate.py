"""The evaluate step: per-example predictions with confidence, calibration, diversity and perplexity of one model.

Accuracy and confidence come from ``synthmix.evaluation`` (the code ``synthmix evaluate`` runs; definitions in
docs/evaluation.md):
- multiple choice: ``accuracy`` (lm-eval's ``acc``), ``acc_norm`` (per character, lm-eval's), ``acc_norm_tokens``;
  confidence = the predicted option's probability under the softmax over per-token option log-likelihoods;
- generated answers: greedy decoding; confidence per ``evaluation.confidence``: ``self_consistency`` (share of
  ``evaluation.consistency_k`` samples at the study's temperature/top-p whose extracted answer equals the greedy
  one) or ``answer_prob`` (per-token geometric-mean probability of the answer span). Unparsed answers are counted
  (``unparsed_rate``) and left out of ECE, OC gap and Brier, which also get a bootstrap CI and a debiased ECE.
Diversity: ``diversity_n`` samples at the study's temperature/top-p from synthesis prompts whose
shots are drawn with a fixed seed, so the prompt set is the same for every condition of a task;
Self-BLEU-4 (exact) and Distinct-1/2 on them. Perplexity: per token on ``perplexity_n`` texts of the task's
tuning split (held out: never trained on, never the scored split); omitted, with the reason in ``step_log.json``,
for a task without one (CommonsenseQA, whose only labelled held-out split is the eval split).

Backends: the sampled parts (greedy answers, consistency samples, pass@k samples, diversity samples) go through a
sampler, ``hf`` (``generate_batch``) or ``vllm`` (``models.vllm_backend.VllmSampler``, same settings, same records,
log-probabilities under the untempered model so confidence means the same), falling back to ``hf`` with a
warning when vLLM or a GPU is missing; ``step_log.json`` (merged into the manifest) records which ran.
They run first, so a vLLM engine is freed before the HF model loads for option scoring and perplexity.
"""

from __future__ import annotations

import json
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
    confidence: Literal["self_consistency", "answer_prob"] = "self_consistency"
    consistency_k: int = Field(default=4, ge=1)


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


def _perplexity_split(task: Any, scored: str) -> str | None:
    """The held-out split perplexity reads: the task's tuning split when it exists and is not the scored split."""
    from synthmix.tasks.base import tuning_split

    split = tuning_split(task)
    return split if split is not None and split != scored else None


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Write ``scores.json``, ``examples.jsonl``, ``reliability.json`` and ``diversity_samples.jsonl``."""
    import functools

    import torch

    from synthmix.evaluation import Confidence, contexts, evaluate_generated, evaluate_multiple_choice, finish
    from synthmix.models.adapters import load_for_inference
    from synthmix.models.loading import detect_placement
    from synthmix.models.scoring import perplexity
    from synthmix.models.vllm_backend import choose_backend, make_sampler
    from synthmix.tasks import get_task

    torch.manual_seed(0)
    torch.set_num_threads(params.threads)
    task = get_task(params.task, **params.task_options)
    cfg = params.evaluation
    split = scored_split(task, cfg.split)
    examples = task.load(split)[: cfg.n_eval]
    ctxs = contexts(task, examples, split, 0)
    choice = choose_backend(params.backend)
    log: dict[str, Any] = choice.as_log()
    hf_model = functools.cache(lambda: load_for_inference(inputs["model"], detect_placement("inference")))
    sampler = make_sampler(choice, inputs["model"], hf_model)
    scores: dict[str, float] = {}
    if task.output_type != "multiple_choice":
        confidence = Confidence(cfg.confidence, cfg.consistency_k, params.temperature, params.top_p)
        rows = evaluate_generated(sampler, task, examples, ctxs, cfg.batch_size, confidence)
        if task.output_type == "code":
            scores.update(_pass_at_k(sampler, task, examples, params))
    diversity_texts = _diversity_samples(sampler, task, params)
    if choice.used == "vllm":
        sampler.close()
    model, tokenizer = hf_model()
    if task.output_type == "multiple_choice":
        rows, extra = evaluate_multiple_choice(model, tokenizer, task, examples, ctxs, cfg.batch_size)
        scores.update(extra)
    scores.update(finish(task, rows, cfg.ece_bins, out))
    scores.update(_diversity(diversity_texts, out))
    held = _perplexity_split(task, split)
    if held is None:
        log["perplexity"] = f"omitted: task {task.name!r} has no held-out split apart from the scored split {split!r}"
    else:
        texts = [task.format_train(ex) for ex in task.load(held)[: cfg.perplexity_n]]
        scores["perplexity"] = perplexity(model, tokenizer, texts, cfg.batch_size)
        log["perplexity"] = f"split {held!r}, {len(texts)} texts"
    (out / "step_log.json").write_text(json.dumps(log, indent=1))
    (out / "scores.json").write_text(json.dumps(scores, indent=1, sort_keys=True))
