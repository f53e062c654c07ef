"""What to do when a synthetic writer fails: the kept samples' folder, the parse reasons counted, a fitting fix.

A generate step that cannot fill its pool fails, and the store keeps its attempt (``samples.jsonl``: every
raw sample with the reason it is unusable; ``failure.json``: the counts) under ``generate/.failed/<id>``.
``diagnose_pool`` reads that folder; ``advice`` picks the suggestion the numbers point to:
- some samples usable (≥ 5 % of attempts): the cap is too low; raise ``mixing.attempt_cap``;
- almost nothing parses and the texts are empty or a few characters: the writer has not learned to write
  a whole row; show it more of the format (more shots) or train it longer / use a larger model;
- almost nothing parses and the texts are long: the writer writes, but not the task's format, or is cut
  off; read the reasons, raise ``generation.max_new_tokens``, or try zero-shot when few-shot prompts are
  longer than the context the model was trained on.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

USABLE_FOR_CAP = 0.05  # usable share of attempts from which raising the attempt cap is the fix
SHORT_TEXT_CHARS = 8  # median sample length (characters) below which the writer "stops at once"
TOP_REASONS = 3


@dataclass(frozen=True)
class PoolDiagnosis:
    """The numbers of a failed pool: attempts, usable samples, the most common parse reasons, text lengths."""

    folder: Path
    n_attempts: int
    n_usable: int
    n_target: int
    parse_rate: float
    reasons: list[tuple[str, int]]  # most common first
    median_chars: float

    @property
    def usable_rate(self) -> float:
        """Usable samples per attempt."""
        return self.n_usable / self.n_attempts if self.n_attempts else 0.0


def diagnose_pool(folder: Path) -> PoolDiagnosis:
    """Read a kept failed pool (``failure.json`` and ``samples.jsonl``)."""
    folder = Path(folder)
    failure = json.loads((folder / "failure.json").read_text(encoding="utf-8"))
    samples_path = folder / "samples.jsonl"
    samples = ([json.loads(line) for line in samples_path.read_text(encoding="utf-8").splitlines() if line.strip()]
               if samples_path.is_file() else [])
    reasons = Counter(s["reason"] for s in samples if s.get("reason"))
    lengths = [len(s.get("text") or "") for s in samples]
    return PoolDiagnosis(folder=folder, n_attempts=int(failure.get("n_attempts", len(samples))),
                         n_usable=int(failure.get("n_usable", 0)), n_target=int(failure.get("n_target", 0)),
                         parse_rate=float(failure.get("parse_rate", 0.0)),
                         reasons=reasons.most_common(TOP_REASONS),
                         median_chars=float(statistics.median(lengths)) if lengths else 0.0)


def advice(d: PoolDiagnosis, n_shots: int, attempt_cap: float) -> str:
    """The suggestion the numbers of a failed pool point to (see the module docstring)."""
    if d.usable_rate >= USABLE_FOR_CAP:
        cap = max(attempt_cap + 1, math.ceil(1.25 / d.usable_rate))
        return (f"{d.usable_rate:.0%} of attempts were usable, too few for the cap: raise mixing.attempt_cap "
                f"to about {cap:g} (now {attempt_cap:g})")
    if d.median_chars < SHORT_TEXT_CHARS:
        return (f"the writer stops almost at once (median sample {d.median_chars:.0f} characters): it has not "
                f"learned to write a whole row; show it more rows (generation.n_shots: {n_shots + 2}, now {n_shots}), "
                "train it longer (training.epochs, training.lr) or use a larger model")
    zero_shot = "" if n_shots == 0 else (", or try zero-shot (generation.n_shots: 0) when few-shot prompts are longer "
                                         "than the context the model was trained on (training.max_length, pretrain.seq_len)")
    return ("the writer writes, but not rows the task parses: read the reasons and the kept samples; if they are "
            f"cut off, raise generation.max_new_tokens{zero_shot}")


def describe_failed_pool(folder: Path, n_shots: int, attempt_cap: float) -> list[str]:
    """The lines ``run``, ``status`` and the report print for a failed pool: where, why, what to do."""
    d = diagnose_pool(folder)
    reasons = "; ".join(f"{n} × {reason}" for reason, n in d.reasons) or "none recorded"
    return [f"kept samples: {d.folder}",
            f"{d.n_usable} usable of {d.n_attempts} attempts (target {d.n_target}, parse rate {d.parse_rate:.1%}); "
            f"parse reasons: {reasons}",
            f"suggestion: {advice(d, n_shots, attempt_cap)}"]
