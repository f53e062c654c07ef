"""Per-example evaluation shared by ``synthmix evaluate`` and the study's evaluate step (docs/evaluation.md).

Multiple choice: every option is scored by its summed log-likelihood after the context. Reported, with
lm-evaluation-harness's definitions: ``accuracy`` (= ``acc``, argmax of the sums), ``acc_norm`` (argmax of the
sums divided by each option's length in characters, lm-eval's ``acc_norm``), and ``acc_norm_tokens`` (divided by
its token count, synthmix's earlier ``accuracy_norm``). Confidence is the probability the model gives its predicted
option under the softmax over the options' *per-token* log-likelihoods, so a long option is not judged unlikely
(nor a short one likely) for its length alone. Task YAMLs and ``prompt_format: lm-eval`` tasks tokenise each
(context, option) pair the lm-eval way, synthmix's own formats the way fine-tuning does (``models.scoring``).

Generation: the greedy answer is scored; the extracted answer (``task.extract`` or the ``task.answer_span``
text) is what confidence is about. ``self_consistency``: the share of ``k`` sampled answers (the study's
temperature and top-p) whose extracted answer equals the greedy one. ``answer_prob``: the geometric-mean
per-token probability of the greedy answer's span. An answer that cannot be extracted is *unparsed*: it is wrong,
counted in ``unparsed_rate``, and has no confidence; ECE, OC gap and Brier are computed over parsed answers only
(``n_calibrated`` of them).
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from synthmix.tasks.lm_eval_yaml import FEWSHOT_SEED

__all__ = ["CALIBRATION_BOOTSTRAP", "CONSISTENCY_SEED", "Confidence", "OptionChoice", "calibration_scores", "contexts",
           "evaluate_generated", "evaluate_model", "evaluate_multiple_choice", "extracted", "finish", "option_choice",
           "parse_task_options", "write_examples"]

CONSISTENCY_SEED = 1
CALIBRATION_BOOTSTRAP = 1000


@dataclass(frozen=True)
class Confidence:
    """How generated answers get a confidence: ``self_consistency`` with ``k`` samples, or ``answer_prob``."""

    kind: Literal["self_consistency", "answer_prob"] = "self_consistency"
    k: int = 4
    temperature: float = 1.0
    top_p: float = 1.0


def contexts(task: Any, examples: Sequence[dict[str, Any]], split: str, num_fewshot: int) -> list[str]:
    """The context of each example: a task YAML's lm-eval few-shot context, else ``num_fewshot`` training texts + prompt."""
    if hasattr(task, "fewshot_draws"):
        draws = task.fewshot_draws(examples, num_fewshot, split)
        return [task.context(ex, num_fewshot, shots) for ex, shots in zip(examples, draws, strict=True)]
    if num_fewshot == 0:
        return [task.prompt(ex) for ex in examples]
    pool = task.load("train")
    rnd = random.Random(FEWSHOT_SEED)
    return ["".join(task.format_train(d) for d in rnd.sample(pool, num_fewshot)) + task.prompt(ex) for ex in examples]


@dataclass(frozen=True)
class OptionChoice:
    """The options picked by summed, per-character and per-token log-likelihood, and the confidence."""

    summed: int
    by_chars: int
    by_tokens: int
    confidence: float  # P(summed pick) under softmax(loglik / tokens)


def option_choice(logliks: Sequence[float], n_chars: Sequence[int], n_tokens: Sequence[int]) -> OptionChoice:
    """Pick options from their log-likelihoods; ties go to the first option (numpy argmax, as lm-eval)."""
    ll = np.asarray(logliks, dtype=np.float64)
    per_token = ll / np.asarray(n_tokens, dtype=np.float64)
    probs = np.exp(per_token - per_token.max())
    probs /= probs.sum()
    summed = int(np.argmax(ll))
    return OptionChoice(summed, int(np.argmax(ll / np.asarray(n_chars, dtype=np.float64))), int(np.argmax(per_token)),
                        float(probs[summed]))


def evaluate_multiple_choice(model: Any, tokenizer: Any, task: Any, examples: Sequence[dict[str, Any]],
                             ctxs: Sequence[str], batch_size: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Per-example rows (logliks in option order, prediction, correct, confidence) and acc / acc_norm / acc_norm_tokens."""
    from synthmix.models.scoring import continuation_loglikelihoods

    lm_eval = hasattr(task, "fewshot_draws") or getattr(task, "prompt_format", "synthmix") == "lm-eval"
    encoding = "lm-eval" if lm_eval else "separate"
    flat_ctx, flat_cont, owner = [], [], []
    for i, (ex, ctx) in enumerate(zip(examples, ctxs, strict=True)):
        for c in task.choices(ex):
            flat_ctx.append(ctx)
            flat_cont.append(c)
            owner.append(i)
    scored = continuation_loglikelihoods(model, tokenizer, flat_ctx, flat_cont, batch_size=batch_size, encoding=encoding)
    by_example: list[list[tuple[float, int]]] = [[] for _ in examples]
    for s, o in zip(scored, owner, strict=True):
        by_example[o].append(s)
    rows, hits = [], {"acc_norm": [], "acc_norm_tokens": []}
    for ex, mine in zip(examples, by_example, strict=True):
        labels = task.choice_labels(ex)
        chars = [len(c) for c in _option_texts(task, ex)]
        pick = option_choice([ll for ll, _ in mine], chars, [n for _, n in mine])
        pred = labels[pick.summed]
        hits["acc_norm"].append(task.correct(labels[pick.by_chars], ex))
        hits["acc_norm_tokens"].append(task.correct(labels[pick.by_tokens], ex))
        rows.append({"example_id": task.example_id(ex), "logliks": [ll for ll, _ in mine],
                     "n_tokens": [n for _, n in mine], "prediction": pred, "correct": task.correct(pred, ex),
                     "score": task.score(pred, ex), "confidence": pick.confidence, "parsed": True})
    return rows, {name: sum(map(bool, h)) / len(h) for name, h in hits.items()}


def _option_texts(task: Any, ex: dict[str, Any]) -> list[str]:
    """What lm-eval's acc_norm measures: a YAML task's option strings, else the built-in continuations stripped."""
    if hasattr(task, "doc_to_choice"):
        return task.doc_to_choice(ex)
    return [c.strip() for c in task.choices(ex)]


def extracted(task: Any, text: str) -> str | None:
    """The answer a generation states: ``task.extract`` when the task has one, else its ``answer_span`` text."""
    if hasattr(task, "extract"):
        return task.extract(text)
    span = task.answer_span(text)
    return text[span[0]:span[1]] if span else None


def _same_answer(a: str, b: str) -> bool:
    """Equality after case, whitespace, thousands separators, ``$`` and a trailing full stop are dropped."""

    def norm(s: str) -> str:
        return re.sub(r"\s+", " ", s.lower().replace(",", "").replace("$", "")).strip().rstrip(".")

    return norm(a) == norm(b)


def evaluate_generated(sampler: Any, task: Any, examples: Sequence[dict[str, Any]], ctxs: Sequence[str],
                       batch_size: int, confidence: Confidence) -> list[dict[str, Any]]:
    """Greedy answers with their extracted answer, correctness and answer-level confidence (None when unparsed)."""
    spec = task.generation
    stream = sampler.stream(CONSISTENCY_SEED)
    rows = []
    for start in range(0, len(examples), batch_size):
        chunk, prompts = examples[start:start + batch_size], list(ctxs[start:start + batch_size])
        greedy = sampler.generate(prompts, spec.max_new_tokens, spec.stop, greedy=True)
        samples: list[list[str | None]] = [[] for _ in chunk]
        if confidence.kind == "self_consistency":
            per_call = max(1, batch_size // confidence.k)
            for s in range(0, len(chunk), per_call):
                outs = sampler.generate([p for p in prompts[s:s + per_call] for _ in range(confidence.k)],
                                        spec.max_new_tokens, spec.stop, confidence.temperature, confidence.top_p,
                                        stream=stream)
                for j, c in enumerate(outs):
                    samples[s + j // confidence.k].append(extracted(task, c.text))
        for ex, prompt, c, mine in zip(chunk, prompts, greedy, samples, strict=True):
            answer = extracted(task, c.text)
            conf = None
            if answer is not None and confidence.kind == "self_consistency":
                conf = sum(s is not None and _same_answer(s, answer) for s in mine) / confidence.k
            elif answer is not None:
                span = task.answer_span(c.text)
                conf = math.exp(c.span_mean_logprob(*span)) if span else None
            rows.append({"example_id": task.example_id(ex), "prompt": prompt, "generation": c.text,
                         "extracted": answer, "parsed": answer is not None, "correct": task.correct(c.text, ex),
                         "score": task.score(c.text, ex), "confidence": conf, "prediction": c.text})
    return rows


def calibration_scores(rows: Sequence[dict[str, Any]], bins: int) -> tuple[dict[str, float], dict[str, Any]]:
    """ECE (plain, debiased, bootstrap 95 % CI), OC gap and Brier over parsed rows; and the reliability table."""
    from synthmix.metrics.calibration import (
        RELIABLE_MIN_ITEMS,
        brier_score,
        debiased_expected_calibration_error,
        expected_calibration_error,
        expected_calibration_error_ci,
        overconfidence_gap,
        reliability_table,
    )

    parsed = [r for r in rows if r["parsed"]]
    scores = {"unparsed_rate": 1.0 - len(parsed) / len(rows), "n_calibrated": float(len(parsed))}
    if not parsed:
        return scores, {"reliable": False, "count": [], "note": "no parsed answer: calibration undefined"}
    conf = [min(max(float(r["confidence"]), 0.0), 1.0) for r in parsed]
    hits = [int(bool(r["correct"])) for r in parsed]
    low, high = expected_calibration_error_ci(conf, hits, bins, CALIBRATION_BOOTSTRAP)
    scores.update({"ece": expected_calibration_error(conf, hits, bins), "ece_ci_low": low, "ece_ci_high": high,
                   "ece_debiased": debiased_expected_calibration_error(conf, hits, bins),
                   "oc_gap": overconfidence_gap(conf, hits), "brier": brier_score(conf, hits),
                   "mean_confidence": float(np.mean(conf)), "accuracy_parsed": float(np.mean(hits))})
    table = reliability_table(conf, hits, bins)
    return scores, {
        "edges": table.edges.tolist(), "count": table.count.tolist(),
        "accuracy": [None if math.isnan(a) else a for a in table.accuracy.tolist()],
        "confidence": [None if math.isnan(c) else c for c in table.confidence.tolist()],
        "reliable": len(parsed) >= RELIABLE_MIN_ITEMS,
    }


def write_examples(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """One JSON object per example."""
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def finish(task: Any, rows: Sequence[dict[str, Any]], bins: int, out: Path) -> dict[str, float]:
    """Write ``examples.jsonl`` and ``reliability.json``; the accuracy and calibration scores of ``rows``."""
    write_examples(rows, out / "examples.jsonl")
    mean_score = sum(r["score"] for r in rows) / len(rows)
    scores = {"score": mean_score, task.info.primary_metric: mean_score, "n_eval": float(len(rows))}
    if "exact_match" in task.info.metrics:
        scores["exact_match"] = sum(bool(r["correct"]) for r in rows) / len(rows)
    if task.output_type == "multiple_choice":
        scores["accuracy"] = mean_score
    calibration, table = calibration_scores(rows, bins)
    scores.update(calibration)
    (out / "reliability.json").write_text(json.dumps(table, indent=1))
    return scores


def parse_task_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings as task options, each value read as YAML (so numbers and booleans keep their type)."""
    import yaml

    from synthmix.errors import ConfigError

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--task-option {pair!r}: write KEY=VALUE, e.g. prompt_format=lm-eval")
        options[key.strip()] = yaml.safe_load(value)
    return options


def evaluate_model(model: str | Path, task_spec: str, out: Path, options: dict[str, Any] | None = None,
                   limit: int | None = None, num_fewshot: int | None = None, confidence: Confidence = Confidence(),
                   batch_size: int = 16, bins: int = 10) -> dict[str, float]:
    """``synthmix evaluate``: score a model (folder or hub id) on a task name or YAML; write examples and scores."""
    import torch

    from synthmix.models.generation import HFSampler
    from synthmix.models.loading import load_model, load_tokenizer
    from synthmix.tasks import get_task

    torch.manual_seed(0)
    task = get_task(task_spec, **(options or {}))
    split = task.eval_split
    examples = task.load(split)[:limit]
    shots = getattr(task, "num_fewshot", 0) if num_fewshot is None else num_fewshot
    ctxs = contexts(task, examples, split, shots)
    hf_model, tokenizer = load_model(model).eval(), load_tokenizer(model)
    out.mkdir(parents=True, exist_ok=True)
    extra: dict[str, float] = {}
    if task.output_type == "multiple_choice":
        rows, extra = evaluate_multiple_choice(hf_model, tokenizer, task, examples, ctxs, batch_size)
    else:
        rows = evaluate_generated(HFSampler(hf_model, tokenizer), task, examples, ctxs, batch_size, confidence)
        for flt in getattr(task, "filters", ())[1:]:
            extra[f"exact_match,{flt.name}"] = float(np.mean([task.exact_match(r["generation"], ex, flt)
                                                               for r, ex in zip(rows, examples, strict=True)]))
        if getattr(task, "filters", ()):
            extra[f"exact_match,{task.filters[0].name}"] = float(np.mean([r["correct"] for r in rows]))
    scores = finish(task, rows, bins, out)
    scores.update(extra)
    scores["num_fewshot"] = float(shots)
    (out / "scores.json").write_text(json.dumps(scores, indent=1, sort_keys=True))
    return scores
