"""The generate step: every raw sample stored with its reason, the pool filled or the step failing with counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmix.errors import StepError
from synthmix.models.vllm_backend import vllm_available
from synthmix.steps import generate
from synthmix.tasks import register_task
from synthmix.tasks.base import ParseFailure
from synthmix.tasks.mini.factual import MiniFactual

OPTIONS = {"n_train": 32, "n_validation": 8, "n_test": 8}


class AnyTextFactual(MiniFactual):
    """mini-factual whose parser accepts any non-empty text as a question (so a random model fills a pool)."""

    name = "test-any-text"

    def parse_synthetic(self, text: str):
        body = text.strip()
        return {"question": body, "answer": ["x"]} if body else ParseFailure("empty")


register_task("test-any-text", AnyTextFactual)


def _params(task: str, **over: object) -> generate.Params:
    base = {"task": task, "task_options": OPTIONS, "n_target": 10, "attempt_cap": 2.0, "temperature": 0.8, "top_p": 0.9,
            "n_shots": 1, "batch_size": 8, "max_new_tokens": 12, "backend": "hf", "seed": 0, "verified": False, "threads": 1}
    return generate.Params(**{**base, **over})


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_generate_fills_the_pool_and_stores_every_sample(tiny_model_dir: Path, tmp_path: Path) -> None:
    generate.run({"model": tiny_model_dir}, _params("test-any-text"), tmp_path)
    samples, pool = _rows(tmp_path / "samples.jsonl"), _rows(tmp_path / "pool.jsonl")
    stats = json.loads((tmp_path / "pool.json").read_text())
    assert len(pool) == 10 == stats["n_usable"]
    assert stats["n_attempts"] == len(samples) >= 10
    assert {"sample_id", "text", "parsed_ok", "verified", "reason", "example"} <= set(samples[0])
    usable = [s["example"] for s in samples if s["reason"] is None]
    assert pool == usable[:10]
    assert 0.0 <= stats["parse_rate"] <= 1.0 and 0.0 <= stats["ngram_overlap"] <= 1.0


def test_generate_is_deterministic(tiny_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    generate.run({"model": tiny_model_dir}, _params("test-any-text"), tmp_path / "a")
    generate.run({"model": tiny_model_dir}, _params("test-any-text"), tmp_path / "b")
    assert (tmp_path / "a" / "samples.jsonl").read_bytes() == (tmp_path / "b" / "samples.jsonl").read_bytes()


def test_generate_fails_with_the_counts_when_nothing_parses(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(StepError, match=r"produced 0 usable samples of 10 in 20 attempts"):
        generate.run({"model": tiny_model_dir}, _params("mini-commonsense", task_options=OPTIONS), tmp_path)
    samples = _rows(tmp_path / "samples.jsonl")
    assert len(samples) == 20 and all(s["reason"] for s in samples)


def test_generate_failure_keeps_its_samples_with_a_failure_record(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(StepError) as err:
        generate.run({"model": tiny_model_dir}, _params("mini-commonsense", task_options=OPTIONS), tmp_path)
    record = json.loads((tmp_path / generate.FAILURE_RECORD).read_text())
    assert record["error"] == str(err.value)
    assert (record["n_target"], record["n_usable"], record["n_attempts"], record["parse_rate"]) == (10, 0, 20, 0.0)
    assert all((tmp_path / name).is_file() for name in record["files"])


@pytest.mark.skipif(vllm_available(), reason="vLLM and a GPU are here: the vllm backend runs, not the fallback")
def test_generate_vllm_backend_falls_back_to_hf_with_equal_samples(tiny_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "hf").mkdir()
    (tmp_path / "vllm").mkdir()
    generate.run({"model": tiny_model_dir}, _params("test-any-text"), tmp_path / "hf")
    with pytest.warns(RuntimeWarning, match="sampled with the HF backend"):
        generate.run({"model": tiny_model_dir}, _params("test-any-text", backend="vllm"), tmp_path / "vllm")
    for name in ("samples.jsonl", "pool.jsonl", "pool.json"):
        assert (tmp_path / "hf" / name).read_bytes() == (tmp_path / "vllm" / name).read_bytes()
    log = json.loads((tmp_path / "vllm" / "step_log.json").read_text())
    assert (log["backend"], log["backend_requested"]) == ("hf", "vllm") and "vLLM" in log["backend_warning"]
    assert json.loads((tmp_path / "hf" / "step_log.json").read_text())["backend_warning"] is None


def test_ngram_overlap_counts_shared_word_ngrams() -> None:
    assert generate.ngram_overlap(["a b c d e"], ["x a b c d"], n=4) == pytest.approx(0.5)
    assert generate.ngram_overlap(["a b"], ["a b"], n=4) == 0.0


def test_synthesis_prompts_depend_only_on_seed_and_attempt() -> None:
    task = MiniFactual(**OPTIONS)
    train = task.load("train")
    whole = generate.synthesis_prompts(task, train, 2, 5, 0, 6)
    assert generate.synthesis_prompts(task, train, 2, 5, 3, 3) == whole[3:]
    assert generate.synthesis_prompts(task, train, 2, 6, 0, 6) != whole
