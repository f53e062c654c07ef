"""A failed writer says what to do: kept folder, parse reasons counted, and the suggestion the numbers fit."""

from __future__ import annotations

import json
from pathlib import Path

from synthmix.pool_failures import advice, describe_failed_pool, diagnose_pool


def _kept(folder: Path, texts: list[str], reasons: list[str | None], n_target: int = 32) -> Path:
    folder.mkdir(parents=True)
    usable = sum(r is None for r in reasons)
    (folder / "samples.jsonl").write_text("".join(
        json.dumps({"sample_id": f"{i:06d}", "text": t, "parsed_ok": r is None, "reason": r}) + "\n"
        for i, (t, r) in enumerate(zip(texts, reasons, strict=True))))
    (folder / "failure.json").write_text(json.dumps({
        "n_target": n_target, "n_attempts": len(texts), "n_usable": usable,
        "parse_rate": sum(r != "no answer line" for r in reasons) / len(texts)}))
    return folder


def test_short_texts_point_to_more_shots_or_more_training(tmp_path: Path) -> None:
    folder = _kept(tmp_path / "g", [" 17", " 2", "", " 4"], ["no question"] * 3 + ["empty"])
    lines = describe_failed_pool(folder, n_shots=3, attempt_cap=4)
    assert lines == [
        f"kept samples: {folder}",
        "0 usable of 4 attempts (target 32, parse rate 100.0%); parse reasons: 3 × no question; 1 × empty",
        "suggestion: the writer stops almost at once (median sample 2 characters): it has not learned to write a "
        "whole row; show it more rows (generation.n_shots: 5, now 3), train it longer (training.epochs, "
        "training.lr) or use a larger model",
    ]


def test_long_unparsed_texts_point_to_max_tokens_and_zero_shot(tmp_path: Path) -> None:
    folder = _kept(tmp_path / "g", ["Question: what is the capital of"] * 4, ["no answer line"] * 4)
    d = diagnose_pool(folder)
    assert d.reasons == [("no answer line", 4)] and d.median_chars == 32.0 and d.parse_rate == 0.0
    assert advice(d, n_shots=2, attempt_cap=4) == (
        "the writer writes, but not rows the task parses: read the reasons and the kept samples; if they are cut "
        "off, raise generation.max_new_tokens, or try zero-shot (generation.n_shots: 0) when few-shot prompts are "
        "longer than the context the model was trained on (training.max_length, pretrain.seq_len)")
    assert advice(d, n_shots=0, attempt_cap=4).endswith("raise generation.max_new_tokens")


def test_some_usable_samples_point_to_the_attempt_cap(tmp_path: Path) -> None:
    folder = _kept(tmp_path / "g", ["Q: 1 + 2\nA: 3"] * 20, [None] * 2 + ["bad"] * 18)  # 10 % usable
    assert advice(diagnose_pool(folder), n_shots=3, attempt_cap=4) == (
        "10% of attempts were usable, too few for the cap: raise mixing.attempt_cap to about 13 (now 4)")
