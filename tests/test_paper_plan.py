"""studies/paper.yaml plans exactly the counts docs/architecture.md derives from the seed's section 3.5."""

from __future__ import annotations

import time
from pathlib import Path

from synthmix.config import load_study
from synthmix.plan import build_plan

PAPER = Path(__file__).resolve().parents[1] / "studies" / "paper.yaml"


def test_paper_counts_match_design() -> None:
    t0 = time.perf_counter()
    plan = build_plan(load_study(PAPER))
    elapsed = time.perf_counter() - t0
    counts = plan.counts()
    assert counts["finetune"] == 177 and counts["generate"] == 60 and counts["evaluate"] == 177
    iteration0 = [s for s in plan.steps.values() if s.kind == "finetune" and "init" not in s.inputs]
    assert len(iteration0) == 24
    assert "pretrain" not in counts, "hub models are not pretrained"
    assert elapsed < 1.0
