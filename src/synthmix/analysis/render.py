"""Rich renderings of analysis results for the CLI (compute lives elsewhere; these only read and format)."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Group
from rich.table import Table
from rich.text import Text

from synthmix.analysis.analyze import AnalysisResult
from synthmix.analysis.budget import Budget
from synthmix.analysis.claims import ClaimCheck
from synthmix.analysis.monitor import MonitorResult

LEVEL_STYLE = {"ok": "green", "warn": "yellow", "critical": "bold red"}


def _num(value: object, fmt: str = "{:.3g}") -> str:
    """Format a number, or '—' when it is missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return fmt.format(value)


def comparisons_table(comparisons: pd.DataFrame) -> Table:
    """Share-vs-0 comparisons, with the correction, the family size m and the inference label on every row."""
    corrections = ", ".join(sorted(set(comparisons["correction"]))) if len(comparisons) else "bonferroni"
    table = Table(title=f"share vs 0 % ({corrections} within model × iteration × regime × metric; m per row)")
    for col in ("model", "task", "it", "metric", "share", "0 %", "share value", "rel. change", "degradation",
                "95% CI of diff", "p", "p (adj.)", "m", "d_z [95% CI]", "pooled d", "verdict", "test", "label"):
        table.add_column(col)
    for _, r in comparisons.iterrows():
        sig = "*" if r.significant else ""
        dz = f"{_num(r.d_z)} [{_num(r.d_z_low)}, {_num(r.d_z_high)}]" if not math.isnan(r.d_z) else "—"
        table.add_row(str(r.model), str(r.task), str(r.iteration), str(r.metric), f"{r.share:.0%}", _num(r.baseline),
                      _num(r["mean"]), _num(r.relative_change, "{:+.1%}"), _num(r.degradation, "{:+.1%}"),
                      f"[{_num(r.diff_low)}, {_num(r.diff_high)}]" if not math.isnan(r.diff_low) else "—",
                      _num(r.pvalue), _num(r.p_adjusted) + sig, str(r.family_m), dz, _num(r.d_pooled),
                      str(r.verdict or "—"), str(r.test), str(r.label))
    return table


def curve_fits_table(fits: pd.DataFrame) -> Table:
    """Per-curve fits: safe share, cubic inflection and slopes, two-segment breakpoint with its CI."""
    table = Table(title="fits in share (seed-level means)")
    for col in ("model", "task", "it", "shares", "safe share [95% CI]", "inflection", "slope below", "slope above",
                "breakpoint [95% CI]", "omitted"):
        table.add_column(col)
    for _, r in fits.iterrows():
        ci = f" [{_num(r.breakpoint_low, '{:.0%}')}, {_num(r.breakpoint_high, '{:.0%}')}]" if not math.isnan(r.breakpoint_low) else ""
        table.add_row(str(r.model), str(r.task), str(r.iteration), str(r.n_shares),
                      str(r.safe_share or "—") + (f" [{r.safe_low:.1%}, {r.safe_high:.1%}]" if not math.isnan(r.safe_low) else ""),
                      _num(r.inflection, "{:.0%}"), _num(r.slope_below), _num(r.slope_above), _num(r.breakpoint, "{:.0%}") + ci,
                      str(r.omitted or ""))
    return table


def claims_table(claims: tuple[ClaimCheck, ...] | list[ClaimCheck]) -> Table:
    """Audited claims: what was printed, what the numbers give, and the verdict."""
    table = Table(title="claims audit")
    for col in ("verdict", "source", "claim", "reported", "recomputed", "detail"):
        table.add_column(col, overflow="fold")
    for c in claims:
        verdict = Text("holds", "green") if c.holds else Text("fails", "bold red") if c.holds is False else Text("n/a")
        table.add_row(verdict, c.source, c.statement, c.reported, c.recomputed, c.detail)
    return table


def render_analysis(result: AnalysisResult) -> Group:
    """Everything `analyze` prints, in order: comparisons, fits, size fits, claims, unsupported statistics."""
    parts: list = [Text(f"analyze {result.path}", style="bold")]
    if not result.comparisons.empty:
        parts.append(comparisons_table(result.comparisons))
    if not result.curve_fits.empty:
        parts.append(curve_fits_table(result.curve_fits))
    for sf in result.size_fits:
        if sf.safe_share is not None:
            f = sf.safe_share
            ci = f" (a in [{f.a_ci.low:.3g}, {f.a_ci.high:.3g}], b in [{f.b_ci.low:.3g}, {f.b_ci.high:.3g}])" if f.a_ci else ""
            parts.append(Text(f"{sf.task}: safe share = {f.a:.3g} + {f.b:.3g}·log10(N/1e9), R² = {f.r2:.3f}, n = {f.n}{ci}"))
        if sf.baseline_power_law is not None:
            p = sf.baseline_power_law
            parts.append(Text(f"{sf.task}: 0 % score = {p.a:.3g}·N^{p.alpha:.3f} (log-log R² = {p.r2:.3f}, n = {p.n})"))
    if result.claims:
        parts.append(claims_table(result.claims))
    parts.extend(Text(f"cannot support: {n}", style="yellow") for n in result.notes)
    return Group(*parts)


def render_monitor(result: MonitorResult) -> Group:
    """Baseline and each current file: accuracy, ECE, OC, ECE ratio with CI, and the level."""
    table = Table(title=f"ECE early warning (warn ≥ {result.warn_ratio:g}×, critical ≥ {result.critical_ratio:g}× baseline ECE)")
    for col in ("file", "n", "accuracy", "accuracy change [95% CI], McNemar p", "ECE [95% CI]", "OC",
                "ECE ratio [95% CI]", "OC change", "level"):
        table.add_column(col, overflow="fold")
    b = result.baseline
    table.add_row(b.path + " (baseline)", str(b.n), f"{b.accuracy.estimate:.3f}", "",
                  f"{b.ece.estimate:.3f} [{b.ece.low:.3f}, {b.ece.high:.3f}]", f"{b.oc_gap.estimate:+.3f}", "1", "", "")
    for c in result.currents:
        k = c.calibration
        a = c.accuracy_change
        table.add_row(k.path, str(k.n), f"{k.accuracy.estimate:.3f}",
                      f"{a.estimate:+.3f} [{a.low:+.3f}, {a.high:+.3f}], p = {_num(c.accuracy_pvalue)}",
                      f"{k.ece.estimate:.3f} [{k.ece.low:.3f}, {k.ece.high:.3f}]",
                      f"{k.oc_gap.estimate:+.3f}", f"{c.ece_ratio.estimate:.2f} [{_num(c.ece_ratio.low, '{:.2f}')}, "
                      f"{_num(c.ece_ratio.high, '{:.2f}')}]", f"{c.oc_change.estimate:+.3f}", Text(c.level, LEVEL_STYLE[c.level]))
    notes = [Text(f"note: {n}", style="yellow") for n in result.notes]
    notes.append(Text("accuracy change: exact McNemar on the paired examples (test-set noise only)"))
    return Group(table, *notes, Text(f"level: {result.level}", style=LEVEL_STYLE[result.level]))


def render_budget(budget: Budget) -> Group:
    """The safe share with its CI, the fitted size range, and the source's citation and caveats."""
    ci = f" (95% CI {budget.ci.low:.1%} – {budget.ci.high:.1%})" if budget.ci else " (no CI: a printed formula)"
    lines = [Text(f"safe synthetic share for {budget.task} at {budget.n_params:.3g} parameters: {budget.share:.1%}{ci}", style="bold"),
             Text(f"from {budget.source}; fitted on sizes {budget.n_params_min:.3g} – {budget.n_params_max:.3g}")]
    if budget.extrapolated:
        lines.append(Text("EXTRAPOLATED beyond the fitted sizes (--extrapolate)", style="bold yellow"))
    if budget.citation:
        lines.append(Text(f"source: {budget.citation}"))
    lines.extend(Text(f"caveat: {c}", style="yellow") for c in budget.caveats)
    return Group(*lines)


AUDIT_VERDICT = {True: Text("yes", "green"), False: Text("no", "bold red"), None: Text("can't tell", "yellow")}


def render_audit(claims: list[ClaimCheck]) -> Group:
    """Every audited claim (id, source, statement, printed, recomputed, holds, why) and the count of each verdict."""
    table = Table(title="claims audit: each claim recomputed from the tables' own numbers")
    for col in ("id", "source", "claim", "reported", "recomputed", "holds", "why"):
        table.add_column(col, overflow="fold")
    for c in claims:
        table.add_row(c.claim_id, c.source, c.statement, c.reported, c.recomputed, AUDIT_VERDICT[c.holds], c.detail)
    counts = {v: sum(c.holds is v for c in claims) for v in (True, False, None)}
    summary = (f"{len(claims)} claims: {counts[True]} hold, {counts[False]} do not, {counts[None]} can't tell"
               if claims else "no checkable claims: the tables print no derived numbers (*_reported rows) to recompute")
    return Group(table, Text(summary, style="bold"))
