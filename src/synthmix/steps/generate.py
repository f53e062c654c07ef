"""The generate step: the synthetic writer. Few-shot prompts from external training examples, sampled in batches.

Each attempt draws ``n_shots`` training examples (seeded by ``seed`` and the attempt's index), asks
the model for one new example with ``task.synthesis_prompt``, samples at the study's temperature and
top-p, and parses the text with ``task.parse_synthetic``. Every raw sample is stored with the reason
it is unusable, if it is. Usable = parsed, not a test item (normalised-hash match: contamination is
excluded and counted), and, for ``verified`` pools, ``task.verify`` passes. There is no other
filtering (the paper's regime): duplicates stay and are counted. The step writes until the pool
holds ``n_target`` usable examples, or fails after ``attempt_cap × n_target`` attempts.

Backends: ``hf`` samples with ``models.generation.generate_batch``; ``vllm`` with
``models.vllm_backend.VllmSampler`` (same prompts, temperature, top-p, stop strings and records) when
vLLM and a GPU are present, else with ``hf`` and a warning. ``step_log.json`` (merged into the manifest)
records the backend that ran. Random streams: attempts ``start`` … of one batch draw from a stream opened
at ``seed × 1,000,003 + start``, so a pool does not depend on what ran before it.

A failed pool keeps its evidence: before raising, the step writes its samples, pool and statistics as
usual plus ``failure.json`` (the message and counts), the marker by which a worker keeps the folder as a
failed artifact for the driver to ingest into the ``samples`` table and the report.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from synthmix.errors import StepError
from synthmix.store import FAILURE_RECORD

NGRAM = 4
STREAM_STRIDE = 1_000_003


class Params(BaseModel):
    """Sampling settings, pool size and attempt cap of one pool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    task_options: dict[str, Any]
    n_target: int = Field(gt=0)
    attempt_cap: float = Field(ge=1.0)
    temperature: float = Field(gt=0)
    top_p: float = Field(gt=0, le=1.0)
    n_shots: int = Field(ge=0)
    batch_size: int = Field(gt=0)
    max_new_tokens: int | None = Field(default=None, gt=0)
    backend: Literal["hf", "vllm"]
    seed: int = Field(ge=0)
    verified: bool
    threads: int = Field(ge=1)


def word_ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    """Distinct whitespace-word n-grams of a text."""
    words = text.split()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def ngram_overlap(texts: list[str], reference: list[str], n: int = NGRAM) -> float:
    """Share of the texts' word n-grams (with multiplicity per text) that occur anywhere in ``reference``."""
    known: set[tuple[str, ...]] = set()
    for r in reference:
        known |= word_ngrams(r, n)
    total = hits = 0
    for t in texts:
        grams = word_ngrams(t, n)
        total += len(grams)
        hits += len(grams & known)
    return hits / total if total else 0.0


def synthesis_prompts(task: Any, train: list[dict[str, Any]], n_shots: int, seed: int, start: int, count: int) -> list[str]:
    """Prompts of attempts ``start`` … ``start + count − 1``; attempt i's shots depend only on (seed, i)."""
    prompts = []
    for i in range(start, start + count):
        rng = random.Random(f"shots:{seed}:{i}")
        prompts.append(task.synthesis_prompt(rng.sample(train, min(n_shots, len(train)))))
    return prompts


def _judge(task: Any, text: str, verified: bool, test_keys: set[str]) -> dict[str, Any]:
    """The stored record of one raw sample: parsed example, verification and why it is unusable."""
    from synthmix.tasks.base import ParseFailure

    parsed = task.parse_synthetic(text)
    if isinstance(parsed, ParseFailure):
        return {"text": text, "parsed_ok": False, "verified": None, "reason": parsed.reason, "example": None}
    check = task.verify(parsed) if (verified or task.has_verifier) else None
    reason = None
    if task.contamination_key(parsed) in test_keys:
        reason = "matches a test item (normalised hash)"
    elif verified and not check:
        reason = "verify() failed"
    return {"text": text, "parsed_ok": True, "verified": check, "reason": reason, "example": parsed}


def run(inputs: dict[str, Path], params: Params, out: Path) -> None:
    """Sample until the pool is full; write ``samples.jsonl``, ``pool.jsonl`` and ``pool.json``."""
    import torch

    from synthmix.models.adapters import load_for_inference
    from synthmix.models.loading import detect_placement
    from synthmix.models.vllm_backend import choose_backend, make_sampler
    from synthmix.tasks import get_task

    torch.manual_seed(params.seed)
    torch.set_num_threads(params.threads)
    task = get_task(params.task, **params.task_options)
    train = task.load("train")
    test_keys = {task.contamination_key(ex) for ex in task.load(task.eval_split)}
    choice = choose_backend(params.backend)
    (out / "step_log.json").write_text(json.dumps(choice.as_log(), indent=1))
    sampler = make_sampler(choice, inputs["model"], lambda: load_for_inference(inputs["model"], detect_placement("inference")),
                           seed=params.seed)
    spec = task.synthesis_generation
    max_new = params.max_new_tokens or spec.max_new_tokens
    cap = math.ceil(params.attempt_cap * params.n_target)
    records: list[dict[str, Any]] = []
    pool: list[dict[str, Any]] = []
    while len(pool) < params.n_target and len(records) < cap:
        start = len(records)
        count = min(params.batch_size, cap - start)
        prompts = synthesis_prompts(task, train, params.n_shots, params.seed, start, count)
        stream = sampler.stream(params.seed * STREAM_STRIDE + start)
        for i, c in enumerate(sampler.generate(prompts, max_new, spec.stop, params.temperature, params.top_p,
                                               stream=stream)):
            record = {"sample_id": f"{start + i:06d}", **_judge(task, c.text, params.verified, test_keys)}
            records.append(record)
            if record["reason"] is None and len(pool) < params.n_target:
                pool.append(record["example"])
    with open(out / "samples.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(out / "pool.jsonl", "w", encoding="utf-8") as f:
        for ex in pool:
            f.write(json.dumps(ex, ensure_ascii=False) + "\n")
    parsed = [r for r in records if r["parsed_ok"]]
    keys = [task.contamination_key(ex) for ex in pool]
    checked = [r["verified"] for r in parsed if r["verified"] is not None]
    stats = {
        "parse_rate": len(parsed) / len(records),
        "duplicate_rate": 1 - len(set(keys)) / len(keys) if keys else 0.0,
        "ngram_overlap": ngram_overlap([task.format_train(ex) for ex in pool], [task.format_train(ex) for ex in train]),
        "test_matches": sum(1 for r in parsed if r["reason"] == "matches a test item (normalised hash)"),
        "verified_rate": sum(bool(v) for v in checked) / len(checked) if checked else 0.0,
        "n_attempts": len(records),
        "n_usable": len(pool),
    }
    (out / "pool.json").write_text(json.dumps(stats, indent=1))
    if len(pool) < params.n_target:
        message = (f"the writer produced {len(pool)} usable samples of {params.n_target} in {len(records)} attempts "
                   f"(cap {params.attempt_cap:g} × {params.n_target}; parse rate {stats['parse_rate']:.1%}, "
                   f"{stats['test_matches']} test matches); raise mixing.attempt_cap or train the writer longer")
        failure = {"error": message, "n_target": params.n_target, **stats,
                   "files": ["samples.jsonl", "pool.jsonl", "pool.json", "step_log.json"]}
        (out / FAILURE_RECORD).write_text(json.dumps(failure, indent=1))
        raise StepError(message)
