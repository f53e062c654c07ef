"""The published model-collapse results, each tested on a horizon study (≥ 5 iterations, several regimes).

Shumailov et al. (Nature 2024): training each generation on its parent's output alone degrades the model and
narrows its output distribution. Kazdan et al. (ICML 2025, "Collapse or Thrive?"): keeping the real data and
accumulating every generation's synthetic data holds performance where replacing it does not. The remove control
asks whether synthetic data hurts beyond the real data it displaces. Verdicts follow the same rules as
``paper_claims``: "holds" needs the tests to support it, "contradicted" a test supporting the opposite.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthmix.analysis.comparisons import compare_cells
from synthmix.analysis.stats import t_interval
from synthmix.report.horizon import horizon_scores, regime_contrasts
from synthmix.report.paper_claims import ClaimResult
from synthmix.report.tables import StudyFrames, fmt, share_label

CLAIM_METRICS = ("score", "self_bleu", "perplexity")


def _cell(cells: pd.DataFrame, task: str, regime: str, share: float, iteration: int, metric: str) -> pd.Series | None:
    """The engine's row of one (task, regime, share, iteration, metric), or None."""
    c = cells.loc[(cells["task"] == task) & (cells["regime"] == regime) & np.isclose(cells["share"], share)
                  & (cells["iteration"] == iteration) & (cells["metric"] == metric)]
    return c.iloc[0] if len(c) else None


def _vs0_text(row: pd.Series | None) -> str:
    """'0.412 vs 0.530 at 0 % (−0.118 [−0.16, −0.07], adj. p 0.002: worse)'."""
    if row is None or not np.isfinite(row["baseline"]):
        return "not measured"
    ci = f" [{row['diff_low']:+.3f}, {row['diff_high']:+.3f}]" if np.isfinite(row["diff_low"]) else ""
    p = f", adj. p {row['p_adjusted']:.3g}" if np.isfinite(row["p_adjusted"]) else ""
    return f"{fmt(row['mean'])} vs {fmt(row['baseline'])} at 0 % ({row['difference']:+.3f}{ci}{p}: {row['verdict'] or 'no test'})"


def seed_slopes(rows: pd.DataFrame, regime: str, share: float, metric: str = "score") -> tuple[float, float, float, int]:
    """Mean over seeds of the per-seed least-squares slope of ``metric`` over iterations 0…T, with its t interval."""
    g = rows.loc[(rows["regime"] == regime) & np.isclose(rows["share"], share) & (rows["metric"] == metric)]
    slopes = []
    for _, s in g.groupby("seed"):
        s = s.groupby("iteration")["value"].mean()
        if len(s) >= 3:
            slopes.append(float(np.polyfit(s.index.to_numpy(float), s.to_numpy(float), 1)[0]))
    if len(slopes) < 2:
        return (float(np.mean(slopes)) if slopes else math.nan), math.nan, math.nan, len(slopes)
    ci = t_interval(slopes)
    return float(np.mean(slopes)), ci.low, ci.high, len(slopes)


def _slope_text(slope: tuple[float, float, float, int]) -> str:
    m, lo, hi, n = slope
    if not np.isfinite(m):
        return "no trend (fewer than 3 iterations)"
    ci = f" [{lo:+.4f}, {hi:+.4f}]" if np.isfinite(lo) else ""
    return f"trend {m:+.4f} per iteration{ci} over {n} seeds"


def _contrast(contrasts: pd.DataFrame, task: str, metric: str, first: str, second: str) -> pd.Series | None:
    c = contrasts.loc[(contrasts["task"] == task) & (contrasts["metric"] == metric)
                      & (((contrasts["first"] == first) & (contrasts["second"] == second))
                         | ((contrasts["first"] == second) & (contrasts["second"] == first)))]
    return c.iloc[0] if len(c) else None


def _contrast_text(c: pd.Series | None, a: str, b: str) -> tuple[str, float, bool]:
    """Text of b − a, the signed difference, and whether it is significant after Holm."""
    if c is None:
        return f"{b} − {a}: not measured", math.nan, False
    sign = 1.0 if c["second"] == b else -1.0
    d, lo, hi = sign * c["difference"], sign * c["diff_low"], sign * c["diff_high"]
    lo, hi = min(lo, hi), max(lo, hi)
    ci = f" [{lo:+.3f}, {hi:+.3f}]" if np.isfinite(lo) else ""
    p = f", Holm p {c['p_adjusted']:.3g}" if np.isfinite(c["p_adjusted"]) else ""
    return f"{b} − {a} = {d:+.3f}{ci}{p}", d, bool(c["significant"])


def collapse_claims(frames: StudyFrames) -> list[ClaimResult]:
    """Per task: recursion degrades, accumulating holds, synthetic data hurts beyond the real data it displaces,
    and recursion narrows the model's samples and raises its perplexity on real text."""
    rows = horizon_scores(frames)
    if rows.empty:
        return []
    s = frames.scores
    cells = compare_cells(s.loc[s["metric"].isin(CLAIM_METRICS)], None, frames.settings)
    last = int(rows["iteration"].max())
    settings = frames.settings
    contrasts = regime_contrasts(rows, last, "holm", settings.alpha, settings.equivalence_margin)
    top = float(rows.loc[rows["regime"] == "replace", "share"].max())
    mid = sorted(s for s in rows["share"].unique() if 0 < s < top)
    mid_share = mid[-1] if mid else top
    out = []
    for task in sorted(rows["task"].unique()):
        out += _task_claims(task, rows, cells, contrasts, last, top, mid_share)
    return out


def _task_claims(task: str, rows: pd.DataFrame, cells: pd.DataFrame, contrasts: pd.DataFrame, last: int, top: float,
                 mid: float) -> list[ClaimResult]:
    """The four collapse claims on one task."""
    r = rows.loc[rows["task"] == task]
    rec = _cell(cells, task, "replace", top, last, "score")
    rec_slope = seed_slopes(r, "replace", top)
    v = rec["verdict"] if rec is not None else ""
    collapse = ClaimResult(
        f"{task}: recursion degrades", f"each generation trained on its parent's output alone ({share_label(top)} "
        "synthetic, replace) loses performance (Shumailov et al. 2024)",
        f"iteration {last}: {_vs0_text(rec)}; {_slope_text(rec_slope)}.",
        "holds" if v == "worse" else "contradicted" if v == "better" else "not settled",
        f"the engine's paired seed test of replace {share_label(top)} against the 0 % arm at iteration {last} "
        "(family-adjusted): worse → holds, better → contradicted")
    acc, rep = f"accumulate {share_label(mid)}", f"replace {share_label(top)}"
    acc_cell = _cell(cells, task, "accumulate", mid, last, "score")
    text, d, sig = _contrast_text(_contrast(contrasts, task, "score", rep, acc), rep, acc)
    acc_worse = acc_cell is not None and acc_cell["verdict"] == "worse"
    holds = sig and d > 0 and not acc_worse
    accumulate = ClaimResult(
        f"{task}: accumulating holds", "keeping the real data and accumulating every generation's synthetic data "
        "holds performance where replacing it collapses (Kazdan et al. 2025)",
        f"iteration {last}: {acc} {_vs0_text(acc_cell)}; {text}; {_slope_text(seed_slopes(r, 'accumulate', mid))}.",
        "holds" if holds else "contradicted" if (sig and d < 0) else "not settled",
        f"holds: accumulate {share_label(mid)} significantly above replace {share_label(top)} at iteration {last} "
        "(paired seeds, Holm) and not worse than the 0 % arm; contradicted: significantly below")
    rem, rpl = f"remove {share_label(mid)}", f"replace {share_label(mid)}"
    text, d, sig = _contrast_text(_contrast(contrasts, task, "score", rem, rpl), rem, rpl)
    control = ClaimResult(
        f"{task}: synthetic data hurts beyond the real data it displaces",
        "the remove control (the real part alone) separates harm from synthetic data from having less real data",
        f"iteration {last}: {text}.",
        "holds" if sig and d < 0 else "contradicted" if sig and d > 0 else "not settled",
        f"replace {share_label(mid)} against remove {share_label(mid)} at iteration {last} (paired seeds, Holm): "
        "below → holds (synthetic data hurts), above → contradicted (it helps)")
    sb = _cell(cells, task, "replace", top, last, "self_bleu")
    ppl = _cell(cells, task, "replace", top, last, "perplexity")
    sb_v, ppl_v = (sb["verdict"] if sb is not None else ""), (ppl["verdict"] if ppl is not None else "")
    narrows = ClaimResult(
        f"{task}: recursion narrows the output", "recursion loses the tails: outputs grow less diverse and real text "
        "less likely (Shumailov et al. 2024)",
        f"iteration {last}, replace {share_label(top)}: Self-BLEU {_vs0_text(sb)}; perplexity on held-out real text "
        f"{_vs0_text(ppl)}.",
        "holds" if sb_v == "worse" and ppl_v == "worse" else "contradicted" if "better" in (sb_v, ppl_v) else "not settled",
        "holds: Self-BLEU and real-text perplexity both significantly higher than the 0 % arm (engine, family-adjusted); "
        "contradicted: either significantly lower")
    return [collapse, accumulate, control, narrows]
