"""Headline findings of one study, as plain sentences generated from its numbers and CIs (never canned text).

Each function reads the cell summary or a report table and returns sentences; ``headline_findings``
puts them in reading order. A sentence states the numbers it rests on, so a changed number changes it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthmix.analysis.stats import TEST_SET_NOISE_ONLY
from synthmix.report.tables import FAMILY, ReportTable, correction_name, fmt, fmt_pct, reference_share, share_label


def _ci_text(row: pd.Series) -> str:
    """' [low, high]' when the cell has an interval."""
    return f" [{fmt(row['low'])}, {fmt(row['high'])}]" if np.isfinite(row["low"]) else ""


def _p_text(p: float) -> str:
    """'= 0.0064' or '< 0.001'."""
    return "< 0.001" if p < 0.001 else f"= {p:.3g}"


def _equivalence_text(rows: pd.DataFrame, margin: float) -> str:
    """'; equivalent to 0 % within ±3 % (TOST): 10%' when any share was shown equivalent, else ''."""
    eq = rows.loc[rows["equivalent"].astype(bool)]
    if eq.empty:
        return ""
    return f"; equivalent to the 0 % arm within ±{margin:.0%} (TOST): {', '.join(share_label(x) for x in eq['share'])}"


def _power_text(rows: pd.DataFrame) -> str:
    """'; 30% and 50% inconclusive: with 2 seeds a relative change smaller than 48–120 % would go undetected (80 % power)'."""
    open_ = rows.loc[~rows["significant"].astype(bool) & ~rows["equivalent"].astype(bool)]
    mde = open_["mde_relative"].astype(float)
    if open_.empty:
        return ""
    shares = ", ".join(share_label(x) for x in open_["share"])
    if not np.isfinite(mde).any():
        return f"; {shares} inconclusive (no power estimate: the paired differences do not vary)"
    lo, hi = np.nanmin(mde), np.nanmax(mde)
    span = f"{lo:.0%}" if np.isclose(lo, hi) else f"{lo:.0%}–{hi:.0%}"
    first = open_.iloc[0]
    how = (f"one seed and {int(first['n_pairs'])} paired examples ({TEST_SET_NOISE_ONLY})"
           if first["label"] == TEST_SET_NOISE_ONLY else f"{int(first['n_pairs'])} seeds")
    return f"; {shares} inconclusive: with {how} a relative change smaller than {span} would go undetected at 80 % power"


def share_findings(cells: pd.DataFrame) -> list[str]:
    """Per model × iteration × regime × task: the smallest share with a significant change, else what the tests can
    and cannot say (shares shown equivalent by TOST, and the minimum detectable effect of the rest) — never 'no change'."""
    out = []
    done = cells.loc[np.isfinite(cells["mean"].astype(float)) & (cells["iteration"] > 0)]
    for (model, it, regime), fam in done.groupby(FAMILY):
        m = int(fam["family_m"].max())
        method = correction_name(fam)
        for task, g in fam.groupby("task"):
            g = g.sort_values("share")
            base = g.loc[g["share"] == 0]
            tested = g.loc[(g["share"] > 0) & np.isfinite(g["pvalue"].astype(float))]
            if base.empty or tested.empty:
                continue
            b = base.iloc[0]
            where = f"{model}, iteration {it}, {regime}"
            sig = tested.loc[tested["significant"].astype(bool)]
            if sig.empty:
                out.append(
                    f"{task} ({where}): no synthetic share differed significantly from the 0 % arm "
                    f"({fmt(b['mean'])}{_ci_text(b)}; {method}, m = {m})"
                    f"{_equivalence_text(tested, float(tested['equivalence_margin'].iloc[0]))}{_power_text(tested)}.")
                continue
            first = sig.iloc[0]
            verb = "fell" if first["difference"] < 0 else "rose"
            out.append(
                f"{task} ({where}): the score {verb} from {fmt(b['mean'])}{_ci_text(b)} at 0 % to "
                f"{fmt(first['mean'])}{_ci_text(first)} at {share_label(first['share'])} synthetic data "
                f"({fmt_pct(first['relative_change'])}), the smallest share that differs significantly "
                f"(adjusted p {_p_text(first['p_adjusted'])}, {method}, m = {m}"
                f"{'; ' + TEST_SET_NOISE_ONLY if first['label'] == TEST_SET_NOISE_ONLY else ''}).")
    return out


def sensitivity_finding(table3: ReportTable | None) -> list[str]:
    """Which task dropped most and least at the reference share, said as point estimates (the order is not tested)."""
    if table3 is None:
        return []
    out = []
    for (model, it, regime), g in table3.data.groupby(FAMILY):
        if g["task"].nunique() < 2:
            continue
        g = g.sort_values("rank")
        top, bottom = g.iloc[0], g.iloc[-1]
        out.append(
            f"Largest point-estimate drop ({model}, iteration {it}, {regime}) at {share_label(top['share'])}: {top['task']} "
            f"({fmt_pct(top['relative_change'])}); smallest: {bottom['task']} ({fmt_pct(bottom['relative_change'])}). "
            "The order is not tested.")
    return out


def size_finding(table2: ReportTable | None) -> list[str]:
    """The relative change at the reference share of the smallest and largest model, as point estimates (untested)."""
    if table2 is None:
        return []
    out = []
    for (task, regime, it), g in table2.data.groupby(["task", "regime", "iteration"]):
        g = g.loc[np.isfinite(g["relative_change"].astype(float))].sort_values("n_params")
        if len(g) < 2:
            continue
        small, large = g.iloc[0], g.iloc[-1]
        out.append(
            f"Scale ({task}, iteration {it}, {regime}): at {share_label(small['share'])} the largest model "
            f"{large['model']} changed by {fmt_pct(large['relative_change'])} against "
            f"{fmt_pct(small['relative_change'])} for the smallest, {small['model']} (point estimates; whether larger "
            "models tolerate more is not tested here).")
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
