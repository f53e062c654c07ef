"""Headline findings of one study, as plain sentences generated from its numbers and CIs (never canned text).

Each function reads the cell summary or a report table and returns sentences; ``headline_findings``
puts them in reading order. A sentence states the numbers it rests on, so a changed number changes it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthmix.analysis.stats import TEST_SET_NOISE_ONLY
from synthmix.report.tables import FAMILY, ReportTable, fmt, fmt_pct, reference_share, share_label


def _ci_text(row: pd.Series) -> str:
    """' [low, high]' when the cell has an interval."""
    return f" [{fmt(row['low'])}, {fmt(row['high'])}]" if np.isfinite(row["low"]) else ""


def _p_text(p: float) -> str:
    """'= 0.0064' or '< 0.001'."""
    return "< 0.001" if p < 0.001 else f"= {p:.3g}"


def share_findings(cells: pd.DataFrame) -> list[str]:
    """Per model × iteration × regime × task: the smallest share with a significant change, or that none changed."""
    out = []
    done = cells.loc[np.isfinite(cells["mean"].astype(float)) & (cells["iteration"] > 0)]
    for (model, it, regime), fam in done.groupby(FAMILY):
        m = int(fam["family_m"].max())
        for task, g in fam.groupby("task"):
            g = g.sort_values("share")
            base = g.loc[g["share"] == 0]
            tested = g.loc[g["share"] > 0]
            if base.empty or tested.empty:
                continue
            b = base.iloc[0]
            where = f"{model}, iteration {it}, {regime}"
            sig = tested.loc[tested["significant"].astype(bool)]
            if sig.empty:
                worst = tested.loc[tested["rel_change"].astype(float).idxmin()]
                out.append(
                    f"{task} ({where}): no synthetic share changed the score significantly "
                    f"(Bonferroni, m = {m}); the 0 % arm scored {fmt(b['mean'])}{_ci_text(b)} and the lowest "
                    f"synthetic arm changed by {fmt_pct(worst['rel_change'])} at {share_label(worst['share'])} ({fmt(worst['mean'])}{_ci_text(worst)}).")
                continue
            first = sig.iloc[0]
            verb = "fell" if first["change"] < 0 else "rose"
            out.append(
                f"{task} ({where}): the score {verb} from {fmt(b['mean'])}{_ci_text(b)} at 0 % to "
                f"{fmt(first['mean'])}{_ci_text(first)} at {share_label(first['share'])} synthetic data "
                f"({fmt_pct(first['rel_change'])}), the smallest share that differs significantly "
                f"(adjusted p {_p_text(first['p_adjusted'])}, Bonferroni, m = {m}).")
    return out


def sensitivity_finding(table3: ReportTable | None) -> list[str]:
    """Which task is most and least sensitive at the reference share (only where at least two tasks compare)."""
    if table3 is None:
        return []
    out = []
    for (model, it, regime), g in table3.data.groupby(FAMILY):
        if g["task"].nunique() < 2:
            continue
        g = g.sort_values("rank")
        top, bottom = g.iloc[0], g.iloc[-1]
        out.append(
            f"Most sensitive task ({model}, iteration {it}, {regime}) at {share_label(top['share'])}: {top['task']} "
            f"({fmt_pct(top['rel_change'])}); least sensitive: {bottom['task']} ({fmt_pct(bottom['rel_change'])}).")
    return out


def size_finding(table2: ReportTable | None) -> list[str]:
    """Whether larger models tolerated more synthetic data (relative change at the reference share by size)."""
    if table2 is None:
        return []
    out = []
    for (task, regime, it), g in table2.data.groupby(["task", "regime", "iteration"]):
        g = g.loc[np.isfinite(g["rel_change"].astype(float))].sort_values("n_params")
        if len(g) < 2:
            continue
        small, large = g.iloc[0], g.iloc[-1]
        better = large["rel_change"] > small["rel_change"]
        out.append(
            f"Scale ({task}, iteration {it}, {regime}): at {share_label(small['share'])} the largest model "
            f"{large['model']} changed by {fmt_pct(large['rel_change'])} against {fmt_pct(small['rel_change'])} for the "
            f"smallest, {small['model']}: larger models {'tolerated synthetic data better' if better else 'did not tolerate synthetic data better'} here.")
    return out


def inference_finding(cells: pd.DataFrame) -> list[str]:
    """What the intervals can support: seed-level inference or test-set noise only."""
    seeds = int(cells["n_seeds"].max()) if not cells.empty else 0
    if seeds >= 2:
        return [f"Inference is at seed level: up to {seeds} training seeds per condition."]
    return [f"One training seed per condition: every interval and test reflects {TEST_SET_NOISE_ONLY}, not "
            "training variance."]


def headline_findings(cells: pd.DataFrame, tables: dict[str, ReportTable]) -> list[str]:
    """All headline sentences, in reading order."""
    if cells.empty or not np.isfinite(cells["mean"].astype(float)).any():
        return ["No condition has been scored yet; the tables below show what is planned, failed or pending."]
    ref = reference_share(list(cells["share"].unique()))
    out = share_findings(cells)
    if ref is not None:
        out += sensitivity_finding(tables.get("table3"))
        out += size_finding(tables.get("table2"))
    return out + inference_finding(cells)
