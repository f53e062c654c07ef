"""The report's figures: matplotlib (Agg) drawings of frames computed in tables.py and synthmix.analysis.

Each ``plot_*(data, ax=None) -> Axes`` draws one panel and computes nothing beyond choosing what to
draw; ``build_figures`` lays panels out, saves PNG and SVG, and answers an ``Omitted`` with the reason
for every figure the study cannot support. Colours are the Okabe–Ito palette (colour-blind safe).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthmix.report.tables import Omitted, StudyFrames, correction_name, fit_rows, model_sizes, reference_share, safe_shares, share_label

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DPI = 110
Saver = Callable[[Any, str], tuple[Path, Path | None]]  # (figure, key) -> (png, svg)


@dataclass
class Figure:
    """A saved figure: its key, title, caption and the PNG and SVG files."""

    key: str
    title: str
    caption: str
    png: Path
    svg: Path | None


def _axes(ax: Any = None, size: tuple[float, float] = (5.0, 3.4)) -> Any:
    """The given axes, or a new figure's axes."""
    if ax is not None:
        return ax
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.figure(figsize=size, dpi=DPI).add_subplot()


def _style(i: int) -> dict[str, Any]:
    """Colour and marker of the i-th series."""
    return {"color": OKABE_ITO[i % len(OKABE_ITO)], "marker": MARKERS[i % len(MARKERS)]}


def plot_share_curve(data: pd.DataFrame, ax: Any = None, fits: pd.DataFrame | None = None) -> Any:
    """Score vs share for one task: one line per model (and regime), 95 % CI band, breakpoint fit dashed."""
    ax = _axes(ax)
    for i, ((model, regime, it), g) in enumerate(data.groupby(["model", "regime", "iteration"])):
        g = g.loc[np.isfinite(g["mean"].astype(float))].sort_values("share")
        if g["share"].nunique() < 2:
            continue
        st = _style(i)
        x = 100 * g["share"].to_numpy(float)
        ax.plot(x, g["mean"], label=f"{model} t={it} {regime}", linewidth=1.6, markersize=4, **st)
        if np.isfinite(g["low"].astype(float)).any():
            ax.fill_between(x, g["low"].astype(float), g["high"].astype(float), color=st["color"], alpha=0.18, linewidth=0)
        sig = g.loc[g["significant"].astype(bool)]
        ax.plot(100 * sig["share"], sig["mean"], linestyle="none", marker="*", markersize=10, color=st["color"])
        if fits is not None and not fits.empty:
            bp = fits.loc[(fits["fit"] == "breakpoint") & (fits["omitted"] == "") & (fits["model"] == model) & (fits["regime"] == regime)
                          & (fits["iteration"] == it)]
            if len(bp):
                x0 = float(bp["estimate"].iloc[0])
                ax.axvline(100 * x0, color=st["color"], linestyle=":", linewidth=1)
    ax.set_xlabel("synthetic share (% of training mix)")
    ax.set_ylabel("score (primary metric, 0–1)")
    ax.grid(alpha=0.3)
    return ax


def plot_degradation_vs_size(data: pd.DataFrame, ax: Any = None, power_law: tuple[float, float] | None = None) -> Any:
    """Relative drop at the reference share vs parameters (log axis), with the fitted power law y = a·N^α."""
    ax = _axes(ax)
    for i, (task, g) in enumerate(data.groupby("task")):
        g = g.sort_values("n_params")
        ax.plot(g["n_params"], -100 * g["relative_change"], label=str(task), linewidth=1.4, **_style(i))
    if power_law is not None:
        a, alpha = power_law
        n = np.geomspace(data["n_params"].min(), data["n_params"].max(), 50)
        ax.plot(n, 100 * a * n**alpha, color="0.3", linestyle="--", label=f"power law (α = {alpha:.2f})")
    ax.set_xscale("log")
    ax.set_xlabel("model size (parameters, log scale)")
    ax.set_ylabel("relative drop vs 0 % (%)")
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_safe_share_vs_size(data: pd.DataFrame, ax: Any = None, line: tuple[float, float] | None = None) -> Any:
    """Safe share vs parameters (log axis) per task, censored points hollow, with the fitted a + b·log10(N/1e9) line."""
    ax = _axes(ax)
    for i, (task, g) in enumerate(data.groupby("task")):
        st = _style(i)
        g = g.sort_values("n_params")
        ax.plot(g["n_params"], 100 * g["safe_share"], label=str(task), linewidth=1.4, **st)
        if "safe_low" in g and np.isfinite(g["safe_low"].astype(float)).any():
            ax.vlines(g["n_params"], 100 * g["safe_low"].astype(float), 100 * g["safe_high"].astype(float),
                      color=st["color"], linewidth=1)
        cens = g.loc[g["safe_censored"].astype(bool)]
        ax.plot(cens["n_params"], 100 * cens["safe_share"], linestyle="none", marker="o", markersize=9,
                markerfacecolor="white", color=st["color"])
    if line is not None:
        a, b = line
        n = np.geomspace(data["n_params"].min(), data["n_params"].max(), 50)
        ax.plot(n, 100 * (a + b * np.log10(n / 1e9)), color="0.3", linestyle="--", label="fit a + b·log10(N/1e9)")
    ax.set_xscale("log")
    ax.set_xlabel("model size (parameters, log scale)")
    ax.set_ylabel("safe synthetic share (%)")
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_calibration_over_iterations(data: pd.DataFrame, ax: Any = None) -> Any:
    """The seed's Figure 1: accuracy (left axis) and ECE (right axis) over iterations, one line pair per share."""
    ax = _axes(ax)
    twin = ax.twinx()
    for i, (share, g) in enumerate(data.groupby("share")):
        g = g.sort_values("iteration")
        st = _style(i)
        ax.plot(g["iteration"], g["score"], linestyle="-", label=f"score, {share_label(share)}", **st)
        if "ece" in g:
            twin.plot(g["iteration"], g["ece"], linestyle="--", label=f"ECE, {share_label(share)}", **st)
    ax.set_xlabel("iteration (0 = external data only)")
    ax.set_ylabel("score (solid, 0–1)")
    twin.set_ylabel("ECE (dashed, 0–1)")
    ax.set_xticks(sorted(data["iteration"].unique()))
    ax.grid(alpha=0.3)
    lines = ax.get_lines() + twin.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=7, loc="best")
    return ax


def plot_reliability(data: Any, ax: Any = None, label: str = "") -> Any:
    """A reliability diagram of a ``ReliabilityTable``: accuracy per confidence bin against the diagonal, counts shaded."""
    ax = _axes(ax, (3.4, 3.4))
    centres = (data.edges[:-1] + data.edges[1:]) / 2
    width = float(data.edges[1] - data.edges[0])
    ax.plot([0, 1], [0, 1], color="0.5", linestyle=":", linewidth=1)
    ok = data.count > 0
    ax.bar(centres[ok], data.accuracy[ok], width=width * 0.9, color=OKABE_ITO[0], alpha=0.75, label="accuracy")
    ax.plot(data.confidence[ok], data.accuracy[ok], "o", color=OKABE_ITO[3], markersize=3, label="mean confidence")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (bin)")
    ax.set_ylabel("accuracy in bin")
    ax.set_title(label, fontsize=8)
    return ax


def plot_diversity_over_iterations(data: pd.DataFrame, ax: Any = None) -> Any:
    """Diversity (1 − Self-BLEU) over iterations, one line per task and share."""
    ax = _axes(ax)
    for i, ((task, share), g) in enumerate(data.groupby(["task", "share"])):
        g = g.sort_values("iteration")
        ax.plot(g["iteration"], 1 - g["self_bleu"], label=f"{task} {share_label(share)}", **_style(i))
    ax.set_xlabel("iteration")
    ax.set_ylabel("diversity, 1 − Self-BLEU (0–1)")
    ax.set_xticks(sorted(data["iteration"].unique()))
    ax.grid(alpha=0.3)
    return ax


def plot_degradation_heatmap(data: pd.DataFrame, ax: Any = None) -> Any:
    """Task × share heatmap of relative change vs 0 % (diverging, centred on 0), values written in each cell."""
    ax = _axes(ax)
    pivot = data.pivot_table(index="task", columns="share", values="relative_change", aggfunc="mean")
    vals = 100 * pivot.to_numpy(float)
    lim = max(1.0, float(np.nanmax(np.abs(vals)))) if np.isfinite(vals).any() else 1.0
    im = ax.imshow(vals, cmap="PuOr", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(pivot.shape[1]), [share_label(s) for s in pivot.columns])
    ax.set_yticks(range(pivot.shape[0]), list(pivot.index))
    for (r, c), v in np.ndenumerate(vals):
        ax.text(c, r, "—" if not np.isfinite(v) else f"{v:+.0f}", ha="center", va="center", fontsize=8)
    ax.set_xlabel("synthetic share")
    ax.figure.colorbar(im, ax=ax, label="relative change vs 0 % (%)")
    return ax


def plot_loss_curves(data: pd.DataFrame, ax: Any = None) -> Any:
    """Fine-tuning loss over optimizer steps, one colour per fine-tune (label): training solid, held-out dashed."""
    ax = _axes(ax)
    for i, (label, g) in enumerate(data.groupby("label", sort=False)):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        train, held = g.loc[g["curve"] == "train"], g.loc[g["curve"] == "heldout"]
        ax.plot(train["step"], train["loss"], label=str(label), linewidth=1.1, color=colour)
        if not held.empty:
            ax.plot(held["step"], held["loss"], linestyle="--", marker=".", linewidth=1.1, color=colour)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (nats/token; dashed = held-out)")
    ax.grid(alpha=0.3)
    return ax


# ---------------------------------------------------------------- data for the figures (selection, no statistics)


def loss_curve_frame(frames: StudyFrames) -> pd.DataFrame:
    """Long frame (label, curve, step, loss) of every fine-tune's ``step_log`` training and held-out loss curves."""
    rows = []
    a = frames.artifacts
    for _, r in a.loc[a["kind"] == "finetune"].iterrows() if not a.empty else []:
        log = json.loads(r["manifest"] or "{}").get("step_log") or {}
        for curve, key in (("train", "loss_curve"), ("heldout", "heldout_curve")):
            for k, point in enumerate(log.get(key) or []):
                step, loss = (point if isinstance(point, (list, tuple)) else (k, point))[:2]
                rows.append({"label": r["label"] or r["artifact_id"][:12], "curve": curve, "step": float(step),
                             "loss": float(loss)})
    return pd.DataFrame(rows, columns=["label", "curve", "step", "loss"])


def size_frame(cells: pd.DataFrame, frames: StudyFrames) -> pd.DataFrame:
    """Per (task, model) at the reference share: n_params, relative change and safe share (from tables.py)."""
    from synthmix.report.tables import table_tolerance

    t = table_tolerance(cells, model_sizes(frames), safe_shares(frames, cells))
    if isinstance(t, Omitted):
        return pd.DataFrame()
    data = t.data.dropna(subset=["n_params"])
    first = data["iteration"].min()  # one line per task: the earliest retrained iteration, as the seed's Table 2
    return data.loc[(data["iteration"] == first) & (data["regime"] == data["regime"].iloc[0])]


# ---------------------------------------------------------------- layout and saving


def save_figure(fig: Any, key: str, out: Path, svg: bool, dpi: int = DPI) -> tuple[Path, Path | None]:
    """Save a figure as PNG at ``dpi`` (and SVG unless switched off) and close it."""
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    png, svg_path = out / f"{key}.png", (out / f"{key}.svg" if svg else None)
    fig.tight_layout()
    fig.savefig(png, dpi=dpi)
    if svg_path is not None:
        fig.savefig(svg_path)
    plt.close(fig)
    return png, svg_path


def _grid(n: int, w: float = 4.2, h: float = 3.2) -> tuple[Any, list[Any]]:
    """A figure with n panels, up to 3 per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, h * rows), dpi=DPI, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def build_figures(frames: StudyFrames, cells: pd.DataFrame, out: Path, svg: bool = True,
                  dpi: int = DPI) -> tuple[list[Figure], list[Omitted]]:
    """Draw every figure the study supports into ``out`` (PNG at ``dpi``, and SVG when asked); the rest come back as
    Omitted with reasons."""
    save = functools.partial(save_figure, out=out, svg=svg, dpi=dpi)
    figs: list[Figure] = []
    omitted: list[Omitted] = []
    for builder in (_fig_share_curves, _fig_size, _fig_safe_share, _fig_iterations, _fig_reliability,
                    _fig_diversity, _fig_heatmap, _fig_loss):
        result = builder(frames, cells, save)
        (figs if isinstance(result, Figure) else omitted).append(result)
    return figs, omitted


def _fig_share_curves(frames: StudyFrames, cells: pd.DataFrame, save: Saver) -> Figure | Omitted:
    title = "Performance vs synthetic share"
    done = cells.loc[np.isfinite(cells["mean"].astype(float))] if not cells.empty else cells
    if done.empty or done["share"].nunique() < 2:
        return Omitted("share_curves", title, "needs scores at two or more shares")
    fits, _ = fit_rows(cells, {})
    tasks = sorted(done["task"].unique())
    fig, axes = _grid(len(tasks))
    for ax, task in zip(axes, tasks, strict=True):
        plot_share_curve(done.loc[done["task"] == task], ax, fits.loc[fits.get("task", pd.Series(dtype=str)) == task]
                         if not fits.empty else None)
        ax.set_title(str(task), fontsize=10)
    axes[0].legend(fontsize=7)
    png, svg = save(fig, "share_curves")
    method = correction_name(cells)
    return Figure("share_curves", title, f"Seed mean with its 95 % t interval (band); ★ = differs from the 0 % arm "
                  f"after {method} within its family (Table 1); dotted vertical line = fitted two-segment breakpoint "
                  "(only where the fits table reports one).", png, svg)


def _fig_size(frames: StudyFrames, cells: pd.DataFrame, save: Saver) -> Figure | Omitted:
    title = "Relative degradation vs model size"
    data = size_frame(cells, frames) if not cells.empty else pd.DataFrame()
    data = data.loc[data["relative_change"] < 0] if not data.empty else data
    if data.empty or data["n_params"].nunique() < 2:
        return Omitted("degradation_vs_size", title, "needs a drop at the reference share for ≥ 2 model sizes with known n_params")
    fits, _ = fit_rows(cells, model_sizes(frames))
    pl = fits.loc[(fits["fit"] == "power law") & (fits["omitted"] == "")] if not fits.empty else fits
    law = None
    if len(pl) == 1 and len(data["task"].unique()) == 1:
        law = (float(pl["a"].iloc[0]), float(pl["estimate"].iloc[0]))
    ax = plot_degradation_vs_size(data, power_law=law)
    ax.legend(fontsize=7)
    png, svg = save(ax.figure, "degradation_vs_size")
    ref = reference_share(list(cells["share"].unique()))
    it, regime = int(data["iteration"].iloc[0]), data["regime"].iloc[0]
    return Figure("degradation_vs_size", title, f"Relative drop at {share_label(ref)} synthetic data, iteration {it}, "
                  f"{regime}; dashed = power law (drawn when one task is shown).", png, svg)


def _fig_safe_share(frames: StudyFrames, cells: pd.DataFrame, save: Saver) -> Figure | Omitted:
    title = "Safe share vs model size"
    data = size_frame(cells, frames) if not cells.empty else pd.DataFrame()
    data = data.dropna(subset=["safe_share"]) if not data.empty else data
    if data.empty or data["n_params"].nunique() < 2:
        return Omitted("safe_share_vs_size", title, "needs safe shares for ≥ 2 model sizes with known n_params")
    line = None
    fits, _ = fit_rows(cells, model_sizes(frames), safe_shares(frames, cells))
    fitted = fits.loc[(fits["fit"] == "safe share vs size") & (fits["omitted"] == "")] if not fits.empty else fits
    if data["task"].nunique() == 1 and len(fitted) == 1:
        line = (float(fitted["a"].iloc[0]), float(fitted["estimate"].iloc[0]))
    ax = plot_safe_share_vs_size(data, line=line)
    ax.legend(fontsize=7)
    png, svg = save(ax.figure, "safe_share_vs_size")
    return Figure("safe_share_vs_size", title, "Largest share with < 10 % relative degradation, bars = 95 % CI from "
                  "resampling seeds; hollow = censored (never crossed within the measured shares); the line is drawn "
                  "only where the fits table reports it.", png, svg)


def _iteration_units(frames: StudyFrames, metrics: list[str]) -> pd.DataFrame:
    """Seed means per (model, task, regime, share, iteration) for units measured at ≥ 2 iterations."""
    s = frames.scores.loc[frames.scores["metric"].isin(metrics)]
    if s.empty:
        return pd.DataFrame()
    w = s.groupby(["model", "task", "regime", "share", "iteration", "metric"])["value"].mean().unstack("metric").reset_index()
    n_it = w.groupby(["model", "task", "regime"])["iteration"].transform("nunique")
    return w.loc[n_it >= 2]


def _with_baseline(w: pd.DataFrame) -> pd.DataFrame:
    """Copy each unit's iteration-0 rows into every non-zero share's line, so every line starts at the baseline."""
    base = w.loc[w["iteration"] == 0]
    extra = [base.assign(share=s) for s in w.loc[w["share"] > 0, "share"].unique()]
    return pd.concat([w, *extra], ignore_index=True)


def _fig_iterations(frames: StudyFrames, cells: pd.DataFrame, save: Saver) -> Figure | Omitted:
    title = "Calibration and accuracy over iterations (the seed's Figure 1)"
    w = _iteration_units(frames, ["score", "ece"])
    if w.empty or "score" not in w:
        return Omitted("iterations", title, "needs scores at two or more iterations")
    units = sorted(w.groupby(["model", "task", "regime"]).groups)
    fig, axes = _grid(len(units), 4.6, 3.4)
    for ax, (model, task, regime) in zip(axes, units, strict=True):
        g = _with_baseline(w.loc[(w["model"] == model) & (w["task"] == task) & (w["regime"] == regime)])
        plot_calibration_over_iterations(g, ax)
        ax.set_title(f"{model} · {task} · {regime}", fontsize=9)
    png, svg = save(fig, "iterations")
    return Figure("iterations", title, "Solid = score (left axis), dashed = ECE (right axis); iteration 0 is the "
                  "external-only baseline shared by every share.", png, svg)


def _fig_reliability(frames: StudyFrames, cells: pd.DataFrame, save: Saver) -> Figure | Omitted:
    title = "Reliability diagrams"
    ex = frames.examples.dropna(subset=["confidence"]) if not frames.examples.empty else frames.examples
    if ex.empty:
        return Omitted("reliability", title, "no per-example confidences in the database")
    from synthmix.metrics.calibration import reliability_table

    last = ex["iteration"].max()
    chosen = ex.loc[ex["iteration"] == last]
    keys = sorted(chosen.groupby(["task", "share"]).groups)[:9]
    fig, axes = _grid(len(keys), 3.2, 3.2)
    for ax, (task, share) in zip(axes, keys, strict=True):
        g = chosen.loc[(chosen["task"] == task) & (chosen["share"] == share)]
        plot_reliability(reliability_table(g["confidence"].to_numpy(float), g["correct"].to_numpy(int)), ax,
                         f"{task} · {share_label(share)} · t={last}\nn={len(g)}, seeds and models pooled")
    png, svg = save(fig, "reliability")
    return Figure("reliability", title, f"10 equal-width bins at iteration {last}; dotted diagonal = perfect "
                  "calibration. Empty bins are left blank.", png, svg)


def _fig_diversity(frames: StudyFrames, cells: pd.DataFrame, save: Saver) -> Figure | Omitted:
    title = "Diversity over iterations"
    w = _iteration_units(frames, ["self_bleu"])
    if w.empty or "self_bleu" not in w:
        return Omitted("diversity", title, "needs Self-BLEU at two or more iterations")
    ax = plot_diversity_over_iterations(_with_baseline(w.dropna(subset=["self_bleu"])))
    ax.legend(fontsize=7)
    png, svg = save(ax.figure, "diversity")
    return Figure("diversity", title, "1 − Self-BLEU of the model's outputs (higher = more diverse).", png, svg)


def _fig_heatmap(frames: StudyFrames, cells: pd.DataFrame, save: Saver) -> Figure | Omitted:
    title = "Relative degradation: task × share"
    data = cells.loc[cells["share"] > 0] if not cells.empty else cells
    if data.empty or not np.isfinite(data["relative_change"].astype(float)).any():
        return Omitted("heatmap", title, "needs scores at 0 % and at a non-zero share")
    it = int(data.loc[np.isfinite(data["relative_change"].astype(float)), "iteration"].min())
    ax = plot_degradation_heatmap(data.loc[data["iteration"] == it])
    ax.set_title(f"iteration {it}, mean over models and regimes", fontsize=9)
    png, svg = save(ax.figure, "heatmap")
    return Figure("heatmap", title, "Relative change (y_p − y_0)/y_0 in %, purple = drop; — = not measured.", png, svg)


def _fig_loss(frames: StudyFrames, cells: pd.DataFrame, save: Saver) -> Figure | Omitted:
    title = "Fine-tuning loss curves"
    data = loss_curve_frame(frames)
    if data.empty:
        return Omitted("loss_curves", title, "no fine-tune manifest carries a step_log.loss_curve")
    held = data.loc[data["curve"] == "heldout"]
    ax = plot_loss_curves(data)
    if data["label"].nunique() <= 8:
        ax.legend(fontsize=6)
    png, svg = save(ax.figure, "loss_curves")
    note = (f" Dashed: loss on held-out examples of the task's tuning split ({held['label'].nunique()} fine-tunes)."
            if not held.empty else " No held-out curve: the tasks have no split apart from the scored one.")
    return Figure("loss_curves", title, f"{data['label'].nunique()} fine-tunes; solid: training loss.{note}", png, svg)
