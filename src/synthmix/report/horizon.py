"""The horizon view: each data regime's trajectory over iterations, against the 0 % arm and against the other regimes.

For studies that iterate the loop (≥ 3 iterations) under several regimes — the model-collapse experiments:
``replace`` at share 1.0 is pure recursion (Shumailov et al.), ``accumulate`` keeps every earlier pool (Kazdan
et al.: accumulating holds), ``remove`` trains on the real part alone. Everything is paired by seed: the arms of
one seed share their iteration-0 model, so a regime contrast is a paired seed-level t test (the engine's
``compare_seeds``) with Holm's correction over the contrasts of one metric and task.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthmix.analysis.comparisons import compare_seeds
from synthmix.analysis.stats import adjust_pvalues, t_interval
from synthmix.metrics.registry import metric_info
from synthmix.report.tables import Omitted, ReportTable, StudyFrames, fmt, share_label

HORIZON_METRICS = ("score", "ece", "self_bleu", "distinct_2", "perplexity")
MIN_ITERATIONS = 5  # iterations 0–4 at least: shorter runs are the iteration tables' business
UNIT = ["model", "task", "regime", "share"]


def horizon_scores(frames: StudyFrames, metrics: tuple[str, ...] = HORIZON_METRICS) -> pd.DataFrame:
    """Seed-level rows of (model, task) units measured at ≥ MIN_ITERATIONS iterations, iteration 0 copied into every line.

    Iteration 0 is one external-only model per seed, shared by every regime and share, so each (regime, share)
    line starts from it.
    """
    s = frames.scores.loc[frames.scores["metric"].isin(metrics)]
    if s.empty:
        return s
    n_it = s.groupby(["model", "task"])["iteration"].transform("nunique")
    s = s.loc[n_it >= MIN_ITERATIONS]
    base = s.loc[s["iteration"] == 0].drop_duplicates(["model", "task", "seed", "metric"])
    lines = s.loc[s["iteration"] > 0, UNIT].drop_duplicates()
    starts = base.drop(columns=["regime", "share"]).merge(lines, on=["model", "task"])
    return pd.concat([s.loc[s["iteration"] > 0], starts], ignore_index=True)


def trajectory(rows: pd.DataFrame) -> pd.DataFrame:
    """Seed mean and 95 % t interval per (unit, iteration, metric)."""
    out = []
    for key, g in rows.groupby([*UNIT, "iteration", "metric"], sort=True):
        v = g.groupby("seed")["value"].mean().to_numpy(float)
        ci = t_interval(v) if len(v) >= 2 and np.ptp(v) > 0 else None
        out.append({**dict(zip([*UNIT, "iteration", "metric"], key, strict=True)), "n_seeds": len(v),
                    "mean": float(v.mean()), "low": ci.low if ci else math.nan, "high": ci.high if ci else math.nan})
    return pd.DataFrame(out)


def _seed_values(rows: pd.DataFrame) -> pd.Series:
    """Seed → value of one (unit, iteration, metric)."""
    return rows.groupby("seed")["value"].mean()


def regime_contrasts(rows: pd.DataFrame, iteration: int, correction: str = "holm", alpha: float = 0.05,
                     margin: float = 0.03) -> pd.DataFrame:
    """Every pair of (regime, share) lines at one iteration, per (model, task, metric): the paired seed difference
    (second − first) with its t interval, p, the family-adjusted p over that metric's contrasts, and TOST."""
    at = rows.loc[rows["iteration"] == iteration]
    out = []
    for (model, task, metric), g in at.groupby(["model", "task", "metric"], sort=True):
        lines = {k: _seed_values(v) for k, v in g.groupby(["regime", "share"], sort=True) if k[1] > 0}
        fam = []
        for (a, va), (b, vb) in itertools.combinations(sorted(lines.items()), 2):
            seeds = sorted(set(va.index) & set(vb.index))
            if len(seeds) < 2:
                continue
            base, arm = va.loc[seeds].to_numpy(float), vb.loc[seeds].to_numpy(float)
            stats = compare_seeds(base, arm, margin * abs(float(base.mean())))
            fam.append(dict(model=model, task=task, metric=metric, iteration=iteration,
                            first=f"{a[0]} {share_label(a[1])}", second=f"{b[0]} {share_label(b[1])}",
                            mean_first=float(base.mean()), mean_second=float(arm.mean()),
                            difference=float(arm.mean() - base.mean()), diff_low=stats.get("diff_low", math.nan),
                            diff_high=stats.get("diff_high", math.nan), pvalue=stats.get("pvalue", math.nan),
                            p_equivalence=stats.get("p_equivalence", math.nan), n_seeds=len(seeds)))
        tested = [r for r in fam if np.isfinite(r["pvalue"])]
        if tested:
            adj = adjust_pvalues([r["pvalue"] for r in tested], correction, alpha)
            for r, p, rej in zip(tested, adj.pvalues, adj.reject, strict=True):
                r.update(p_adjusted=float(p), significant=bool(rej), family_m=adj.m)
        out += fam
    df = pd.DataFrame(out)
    if df.empty:
        return df
    for col, fill in (("p_adjusted", math.nan), ("significant", False), ("family_m", 0)):
        df[col] = df[col].fillna(fill) if col in df else fill
    return df


def _direction_word(metric: str, difference: float) -> str:
    """'better' / 'worse' for the second line against the first, from the metric's direction."""
    hib = metric_info(metric).higher_is_better
    if hib is None or difference == 0:
        return "differs"
    return "better" if (difference > 0) == hib else "worse"


def table_horizon(frames: StudyFrames, cells: pd.DataFrame) -> ReportTable | Omitted:
    """Each (task, regime, share) line: iteration 0, the first and last iteration, and the last against its 0 % arm."""
    title = "Horizon: regimes over iterations"
    rows = horizon_scores(frames, ("score",))
    if rows.empty:
        return Omitted("horizon", title, f"needs a model and task measured at ≥ {MIN_ITERATIONS} iterations")
    traj = trajectory(rows)
    last = int(traj["iteration"].max())
    data = []
    for (model, task, regime, share), g in traj.loc[traj["share"] > 0].groupby(UNIT, sort=True):
        g = g.set_index("iteration")
        at = g.index.max()
        c = cells.loc[(cells["model"] == model) & (cells["task"] == task) & (cells["regime"] == regime)
                      & (cells["share"] == share) & (cells["iteration"] == at) & (cells["metric"] == "score")]
        cmp = c.iloc[0] if len(c) else None
        data.append(dict(model=model, task=task, regime=regime, share=share, last_iteration=int(at),
                         t0=g.loc[0, "mean"] if 0 in g.index else math.nan,
                         t1=g.loc[1, "mean"] if 1 in g.index else math.nan, last=g.loc[at, "mean"],
                         last_low=g.loc[at, "low"], last_high=g.loc[at, "high"],
                         vs0_difference=cmp["difference"] if cmp is not None else math.nan,
                         vs0_low=cmp["diff_low"] if cmp is not None else math.nan,
                         vs0_high=cmp["diff_high"] if cmp is not None else math.nan,
                         vs0_p_adjusted=cmp["p_adjusted"] if cmp is not None else math.nan,
                         verdict=cmp["verdict"] if cmp is not None else ""))
    data = pd.DataFrame(data)
    display = pd.DataFrame({
        "model": data["model"], "task": data["task"], "regime": data["regime"], "share": data["share"].map(share_label),
        "t = 0": data["t0"].map(fmt), "t = 1": data["t1"].map(fmt),
        "last t": data["last_iteration"].astype(str),
        "score at last t [95% CI]": [f"{fmt(r.last)} [{fmt(r.last_low)}, {fmt(r.last_high)}]" for r in data.itertuples()],
        "vs 0 % at last t [95% CI]": [f"{r.vs0_difference:+.3f} [{r.vs0_low:+.3f}, {r.vs0_high:+.3f}]"
                                      if np.isfinite(r.vs0_low) else "—" for r in data.itertuples()],
        "adj. p": data["vs0_p_adjusted"].map(lambda p: "—" if not np.isfinite(p) else ("< 0.001" if p < 0.001 else f"{p:.3g}")),
        "verdict": data["verdict"],
    })
    caption = (f"Seed means of the primary score; iteration 0 is the external-only model every line starts from. "
               f"'vs 0 %' is the engine's paired seed-level comparison with the 0 % arm of the same regime at the line's "
               f"last iteration (t interval of the differences, family-adjusted p as in Table 1). Last iteration {last}.")
    return ReportTable("horizon", title, caption, data, display)


def table_regime_contrasts(frames: StudyFrames) -> ReportTable | Omitted:
    """Regime against regime at the last iteration, for every horizon metric: paired seed differences, Holm-adjusted."""
    title = "Horizon: regime against regime at the last iteration"
    rows = horizon_scores(frames)
    if rows.empty or rows["regime"].nunique() < 2 and rows["share"].nunique() < 3:
        return Omitted("regime_contrasts", title, "needs ≥ 2 regimes (or ≥ 2 non-zero shares) measured over the horizon")
    last = int(rows["iteration"].max())
    settings = frames.settings
    data = regime_contrasts(rows, last, "holm", settings.alpha, settings.equivalence_margin)
    if data.empty:
        return Omitted("regime_contrasts", title, "needs ≥ 2 seeds in both lines of a contrast")
    display = pd.DataFrame({
        "model": data["model"], "task": data["task"], "metric": data["metric"],
        "first": data["first"], "second": data["second"],
        "means": [f"{fmt(r.mean_first)} → {fmt(r.mean_second)}" for r in data.itertuples()],
        "second − first [95% CI]": [f"{r.difference:+.3f} [{r.diff_low:+.3f}, {r.diff_high:+.3f}]"
                                    if np.isfinite(r.diff_low) else f"{r.difference:+.3f}" for r in data.itertuples()],
        "Holm p": data["p_adjusted"].map(lambda p: "—" if not np.isfinite(p) else ("< 0.001" if p < 0.001 else f"{p:.3g}")),
        "reads": [(f"second {_direction_word(r.metric, r.difference)}" if r.significant else
                   (f"equivalent within ±{settings.equivalence_margin:.0%}" if r.p_equivalence < settings.alpha else "not shown"))
                  for r in data.itertuples()],
    })
    caption = (f"Iteration {last}. Each row pairs two (regime, share) lines by seed (both descend from that seed's "
               "iteration-0 model): the t interval of the seed differences and a paired t test, Holm-adjusted over the "
               "contrasts of one model, task and metric (m per family in the data). 'not shown' = neither a "
               f"difference nor equivalence within ±{settings.equivalence_margin:.0%} of the first line's mean.")
    return ReportTable("regime_contrasts", title, caption, data, display)


def figure_horizon(frames: StudyFrames, save: Callable[[Any, str], tuple[Path, Path | None]]) -> Any:
    """Panels task × metric, one line per (regime, share) over iterations with its seed interval; Omitted when no horizon."""
    from synthmix.report.figures import MARKERS, OKABE_ITO, Figure, _grid

    title = "Regimes over the horizon"
    rows = horizon_scores(frames)
    if rows.empty:
        return Omitted("horizon", title, f"needs a model and task measured at ≥ {MIN_ITERATIONS} iterations")
    traj = trajectory(rows)
    metrics = [m for m in HORIZON_METRICS if m in set(traj["metric"])]
    panels = [(model, task, m) for (model, task) in sorted(traj.groupby(["model", "task"]).groups) for m in metrics]
    fig, axes = _grid(len(panels), 3.6, 2.8)
    lines = sorted(traj.loc[traj["share"] > 0].groupby(["regime", "share"]).groups)
    styles = {k: (OKABE_ITO[i % len(OKABE_ITO)], MARKERS[i % len(MARKERS)]) for i, k in enumerate(lines)}
    for ax, (model, task, metric) in zip(axes, panels, strict=True):
        p = traj.loc[(traj["model"] == model) & (traj["task"] == task) & (traj["metric"] == metric)]
        for (regime, share), g in p.groupby(["regime", "share"], sort=True):
            if share == 0 and regime != sorted(p["regime"].unique())[0]:
                continue  # the 0 % arm is the same external-only model in every regime: draw it once
            g = g.sort_values("iteration")
            color, marker = styles.get((regime, share), ("#777777", "."))
            label = "0 % (external only)" if share == 0 else f"{regime} {share_label(share)}"
            ax.plot(g["iteration"], g["mean"], marker=marker, color=color, ms=3.5, lw=1.2,
                    ls=":" if share == 0 else "-", label=label)
            ax.fill_between(g["iteration"], g["low"], g["high"], color=color, alpha=0.12, lw=0)
        ax.set_title(f"{task} · {metric}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("iteration", fontsize=7)
    axes[0].legend(fontsize=5.5)
    png, svg = save(fig, "horizon")
    return Figure("horizon", title, "Seed mean per iteration with its 95 % t interval (band); every line starts at its "
                  "seed's iteration-0 model. Self-BLEU and Distinct-2 are of the model's own samples at the writer's "
                  "temperature (what its pool would hold); perplexity is on held-out external text.", png, svg)
