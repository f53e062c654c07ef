"""The one comparison engine: every number about a cell or a share-vs-0 comparison comes from here.

Unit of inference (docs/statistics.md): the training seed. A cell (model, task, regime, iteration, share, metric)
is summarised by the mean of its seed means with a Student-t interval over those seed means, and a
comparison with the 0 % arm of the same model, task, regime and iteration by the paired t-test on the
seed-level differences with the t interval of the same differences. The interval and the test are one
procedure (the interval excludes 0 exactly when the unadjusted p < alpha), and the t interval keeps its
coverage with 2–5 seeds where a percentile bootstrap over 2–5 seed means does not (simulated: 0.53 with
2 seeds, 0.75 with 3, 0.82 with 5; tests/analysis/test_coverage.py measures both).

With one seed and per-example rows the test is exact on the paired examples: McNemar's exact test for
0/1 scores, a sign-flip permutation test otherwise; the interval is the t interval of the per-example
differences, and both are labelled "test-set noise only". With neither there is no test (means only).

Each family (one model × iteration × regime × metric across tasks and shares; its size m is a column) is
corrected by Bonferroni (default), Holm or Benjamini–Hochberg. Effect sizes: d_z (mean paired difference
over its SD, with the noncentral-t interval) and the pooled d beside it. Equivalence: the TOST on the same
differences with a margin relative to the 0 % arm (default ±3 %). A non-significant comparison carries its
minimum detectable effect at the family-adjusted level, so "no change" is never claimed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from synthmix.analysis.fits import safe_share_bootstrap
from synthmix.analysis.stats import (
    TEST_SET_NOISE_ONLY,
    adjust_pvalues,
    cohens_dz_ci,
    mcnemar,
    minimum_detectable_effect_t,
    paired_permutation_test,
    paired_t_test,
    pooled_d,
    t_interval,
    tost_paired,
)
from synthmix.config import AnalysisSettings
from synthmix.errors import DataError
from synthmix.metrics.registry import metric_info

CELL = ["model", "task", "regime", "iteration", "share", "metric"]
CURVE = ["model", "task", "regime", "iteration", "metric"]
FAMILY = ["model", "iteration", "regime", "metric"]
NO_TEST = "no test: means only"
MEANS_ONLY = "means only (no seeds)"
SEED_TEST = "paired t (seeds)"
COMPARISON_COLUMNS = ("baseline", "difference", "diff_low", "diff_high", "relative_change", "degradation", "test",
                      "label", "n_pairs", "pvalue", "d_z", "d_z_low", "d_z_high", "d_pooled", "p_equivalence",
                      "equivalent", "mde", "mde_relative")

RESULT_COLUMNS = (*CELL, "n_seeds", "mean", "low", "high", "interval", *COMPARISON_COLUMNS, "sd_difference",
                  "correction", "equivalence_margin", "family_m", "p_adjusted", "significant", "verdict")


def _seed_means(rows: pd.DataFrame) -> pd.Series:
    """One value per seed (mean over duplicates); a table without seeds counts as one value under seed -1."""
    has_seed = "seed" in rows and rows["seed"].notna().all()
    seeds = rows["seed"].astype(int).to_numpy() if has_seed else np.full(len(rows), -1)
    return rows.groupby(seeds)["value"].mean()


ExampleLookup = Callable[[dict, float, int], "pd.Series | None"]
EXAMPLE_KEY = ["model", "task", "regime", "iteration", "share", "seed"]


def _example_lookup(examples: pd.DataFrame | None) -> ExampleLookup:
    """A function (curve key, share, seed) → that arm's per-example scores by example id, or None; indexed once."""
    if examples is None or examples.empty:
        return lambda key, share, seed: None
    ex = examples.assign(share=examples["share"].astype(float).round(9))
    groups = ex.groupby(EXAMPLE_KEY, sort=False)
    present = set(groups.groups)

    def lookup(key: dict, share: float, seed: int) -> pd.Series | None:
        """Per-example primary scores of one arm and seed (only the primary metric has per-example rows)."""
        k = (key["model"], key["task"], key["regime"], key["iteration"], round(share, 9), seed)
        if key["metric"] != "score" or seed < 0 or k not in present:
            return None
        return groups.get_group(k).groupby("example_id")["score"].mean()

    return lookup


def _cell_interval(values: pd.Series, examples: pd.Series | None, confidence: float) -> tuple[float, float, str]:
    """t interval over seed means (≥ 2 seeds), else over test examples (test-set noise only), else none."""
    if len(values) >= 2:
        ci = t_interval(values.to_numpy(float), confidence)
        return ci.low, ci.high, f"t over {len(values)} seeds"
    if examples is not None and len(examples) >= 2 and np.ptp(examples.to_numpy(float)) > 0:
        ci = t_interval(examples.to_numpy(float), confidence)
        return ci.low, ci.high, f"t over {len(examples)} examples ({TEST_SET_NOISE_ONLY})"
    return math.nan, math.nan, "no interval (one value)"


def _empty_comparison() -> dict:
    """The comparison columns of a row that has none (the 0 % arm itself, or no baseline)."""
    out = {k: math.nan for k in COMPARISON_COLUMNS}
    out.update(test="", label="", n_pairs=0, equivalent=False)
    return out


def _paired_stats(d_arm: np.ndarray, d_base: np.ndarray, margin: float, alpha: float) -> dict:
    """t interval, paired t-test, d_z with its CI, pooled d and the TOST on paired values (arm − base)."""
    d = d_arm - d_base
    if d.size < 2 or np.ptp(d) == 0:
        return dict(test="paired differences identical: no test")
    ci = t_interval(d, 1 - alpha)
    out = dict(diff_low=ci.low, diff_high=ci.high, pvalue=paired_t_test(d_arm, d_base).pvalue)
    dz = cohens_dz_ci(d_arm, d_base, 1 - alpha)
    out.update(d_z=dz.estimate, d_z_low=dz.low, d_z_high=dz.high, sd_difference=float(d.std(ddof=1)))
    try:
        out["d_pooled"] = pooled_d(d_arm, d_base)
    except DataError:  # both arms constant: pooled d is undefined while d_z still is
        out["d_pooled"] = math.nan
    if margin > 0:
        out["p_equivalence"] = tost_paired(d_arm, d_base, -margin, margin).pvalue
    return out


def _compare(base: pd.Series, arm: pd.Series, lookup: ExampleLookup, key: dict, share: float, base_share: float,
             settings: AnalysisSettings, seed: int) -> dict:
    """The paired comparison of one share's seed means (or, with one seed, its examples) against the 0 % arm."""
    out = _empty_comparison()
    y0, yp = float(base.mean()), float(arm.mean())
    info = metric_info(key["metric"])
    out.update(baseline=y0, difference=yp - y0)
    out["relative_change"] = (yp - y0) / y0 if y0 != 0 else math.nan
    if info.higher_is_better is not None and y0 != 0:
        out["degradation"] = -out["relative_change"] if info.higher_is_better else out["relative_change"]
    margin = settings.equivalence_margin * abs(y0)
    seeds = sorted(set(base.index) & set(arm.index))
    if seeds == [-1]:
        out.update(test=NO_TEST, label=MEANS_ONLY)
        return out
    if len(seeds) >= 2:
        a, b = base.loc[seeds].to_numpy(float), arm.loc[seeds].to_numpy(float)
        stats = _paired_stats(b, a, margin, settings.alpha)
        out.update(test=SEED_TEST, label=f"seed-level ({len(seeds)} seeds)", n_pairs=len(seeds))
        out.update(stats)
        return out
    ex_a = lookup(key, base_share, int(seeds[0])) if seeds else None
    ex_b = lookup(key, share, int(seeds[0])) if seeds else None
    if ex_a is None or ex_b is None:
        out.update(test=NO_TEST, label=TEST_SET_NOISE_ONLY if seeds else MEANS_ONLY)
        return out
    common = ex_a.index.intersection(ex_b.index)
    out.update(compare_examples(ex_a.loc[common].to_numpy(float), ex_b.loc[common].to_numpy(float), margin,
                                settings, seed))
    return out


def compare_seeds(base: np.ndarray, arm: np.ndarray, margin: float, settings: AnalysisSettings | None = None) -> dict:
    """Paired seed-level comparison (arm − base): the t interval, paired t-test, d_z, pooled d and TOST within ±margin."""
    settings = settings or AnalysisSettings()
    stats = _paired_stats(np.asarray(arm, float), np.asarray(base, float), margin, settings.alpha)
    if "pvalue" in stats:
        stats.update(test=SEED_TEST, label=f"seed-level ({len(base)} seeds)", n_pairs=len(base))
    return stats


def compare_examples(base: np.ndarray, arm: np.ndarray, margin: float, settings: AnalysisSettings | None = None,
                     seed: int = 0) -> dict:
    """One seed's paired per-example comparison (arm − base): exact McNemar for 0/1 scores, else a paired permutation
    test; the t interval of the per-example differences, d_z, pooled d and the TOST within ±margin.

    Labelled "test-set noise only": it measures which examples the two models got right, not training variance.
    ``synthmix monitor`` calls it for the accuracy change between two prediction files.
    """
    settings = settings or AnalysisSettings()
    stats = _paired_stats(arm, base, margin, settings.alpha)
    binary = bool(np.isin(base, (0, 1)).all() and np.isin(arm, (0, 1)).all())
    stats["pvalue"] = mcnemar(base, arm).pvalue if binary else paired_permutation_test(arm, base, settings.n_resamples, seed).pvalue
    stats.update(test="exact McNemar (examples)" if binary else "paired permutation (examples)",
                 label=TEST_SET_NOISE_ONLY, n_pairs=int(base.size))
    return stats


def _adjust_families(out: pd.DataFrame, settings: AnalysisSettings) -> pd.DataFrame:
    """Family-adjusted p-values, family size m, significance, and the MDE at the adjusted level."""
    out["correction"] = settings.correction
    out["equivalence_margin"] = settings.equivalence_margin
    out["family_m"] = 0
    out["p_adjusted"] = math.nan
    out["significant"] = False
    for _, fam in out.groupby(FAMILY, sort=False):
        tested = fam.index[fam["pvalue"].notna()]
        if not len(tested):
            continue
        adj = adjust_pvalues(out.loc[tested, "pvalue"].to_numpy(float), settings.correction, settings.alpha)
        out.loc[tested, "p_adjusted"] = adj.pvalues
        out.loc[tested, "significant"] = adj.reject
        out.loc[fam.index, "family_m"] = adj.m
    level = settings.alpha / out["family_m"].clip(lower=1)
    out["mde"] = [minimum_detectable_effect_t(int(n), float(sd), float(lv), settings.power)
                  if n >= 2 and np.isfinite(sd) and sd > 0 else math.nan
                  for n, sd, lv in zip(out["n_pairs"], out["sd_difference"], level, strict=True)]
    out["mde_relative"] = out["mde"] / out["baseline"].abs().where(out["baseline"] != 0)  # a 0 baseline has no relative scale
    out["equivalent"] = out["p_equivalence"].fillna(1.0) < settings.alpha
    return out


def _verdict(row: pd.Series, margin: float) -> str:
    """What a comparison supports: a significant change, equivalence within the margin, or too little power."""
    if not row["test"] or row["test"] == NO_TEST or not np.isfinite(row["pvalue"]):
        return ""
    if row["significant"]:
        return "worse" if row["degradation"] > 0 else "better" if row["degradation"] < 0 else "changed"
    if row["equivalent"]:
        return f"equivalent within ±{margin:.0%}"
    return f"inconclusive (MDE {row['mde_relative']:.1%})" if np.isfinite(row["mde_relative"]) else "inconclusive"


def compare_cells(scores: pd.DataFrame, examples: pd.DataFrame | None = None,
                  settings: AnalysisSettings | None = None, seed: int = 0) -> pd.DataFrame:
    """One row per (model, task, regime, iteration, share, metric): cell mean and interval, and against the 0 % arm
    the difference with its interval, test, adjusted p, effect sizes, relative change, degradation, TOST and MDE.

    ``scores`` is tidy (condition columns, ``metric``, ``value``; ``seed`` and ``regime`` optional);
    ``examples`` (per-example ``score`` rows) adds the exact one-seed tests. Bookkeeping metrics are skipped.
    ``seed`` seeds the Monte Carlo permutation test (more than 16 examples, non-0/1 scores).
    """
    settings = settings or AnalysisSettings()
    frame = scores.loc[scores["share"].notna()].copy()
    if "regime" not in frame:
        frame["regime"] = "replace"
    frame = frame.loc[[metric_info(m).tested for m in frame["metric"]]]
    records = []
    lookup = _example_lookup(examples)
    for key_vals, rows in frame.groupby(CURVE, sort=True):
        key = dict(zip(CURVE, key_vals, strict=True))
        by_share = {float(s): _seed_means(g) for s, g in rows.groupby("share")}
        base_share = next((s for s in by_share if np.isclose(s, 0)), None)
        for share, values in sorted(by_share.items()):
            single = lookup(key, share, int(values.index[0])) if len(values) == 1 else None
            low, high, interval = _cell_interval(values, single, 1 - settings.alpha)
            rec = {**key, "share": share, "n_seeds": int((values.index >= 0).sum()), "mean": float(values.mean()),
                   "low": low, "high": high, "interval": interval}
            if base_share is None or share == base_share:
                rec.update(_empty_comparison())
            else:
                rec.update(_compare(by_share[base_share], values, lookup, key, share, base_share, settings, seed))
            records.append(rec)
    out = pd.DataFrame.from_records(records)
    if out.empty:  # the same columns as a filled result, so callers can merge and select without special cases
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    for col in ("sd_difference", "pvalue", "p_equivalence"):
        if col not in out:
            out[col] = math.nan
    out = _adjust_families(out.reset_index(drop=True), settings)
    out["verdict"] = [_verdict(r, settings.equivalence_margin) for _, r in out.iterrows()]
    return out[[*CELL, *[c for c in out.columns if c not in CELL]]]


def compare_shares(scores: pd.DataFrame, examples: pd.DataFrame | None = None,
                   settings: AnalysisSettings | None = None, n_resamples: int | None = None,
                   seed: int = 0) -> pd.DataFrame:
    """The share > 0 rows of ``compare_cells``: every share-vs-0 comparison with its family correction.

    ``n_resamples`` overrides the settings' resample count (the permutation test's Monte Carlo draws).
    """
    settings = settings or AnalysisSettings()
    if n_resamples is not None:
        settings = settings.model_copy(update={"n_resamples": max(n_resamples, 100)})
    cells = compare_cells(scores, examples, settings, seed)
    if cells.empty:
        return cells
    return cells.loc[cells["test"] != ""].reset_index(drop=True)



def curve_safe_shares(scores: pd.DataFrame, cells: pd.DataFrame, settings: AnalysisSettings | None = None,
                      metric: str = "score", seed: int = 0) -> pd.DataFrame:
    """Per (model, task, regime, iteration): the safe share with its seed-bootstrap CI, and the largest share up to
    which every share is TOST-equivalent to the 0 % arm (0 when the first share is not)."""
    settings = settings or AnalysisSettings()
    rows = scores.loc[(scores["metric"] == metric) & scores["share"].notna()]
    info = metric_info(metric)
    out = []
    for key, curve in rows.groupby(CURVE[:4], sort=True):
        wide = curve.pivot_table(index="share", columns="seed", values="value", aggfunc="mean").dropna(axis=1)
        if wide.shape[0] < 2 or not np.isclose(wide.index[0], 0) or wide.shape[1] == 0 or wide.iloc[0].mean() == 0:
            continue
        safe, ci = safe_share_bootstrap(wide.index.to_numpy(float), wide.to_numpy(float),
                                        higher_is_better=info.higher_is_better is not False,
                                        n_resamples=settings.n_resamples, seed=seed)
        arms = cells.loc[np.logical_and.reduce([cells[c] == v for c, v in zip(CURVE[:4], key, strict=True)])
                         & (cells["metric"] == metric) & (cells["share"] > 0)].sort_values("share")
        not_equivalent = arms.loc[~arms["equivalent"].astype(bool), "share"]
        upto = arms["share"].max() if not_equivalent.empty else arms.loc[arms["share"] < not_equivalent.min(), "share"].max()
        out.append({**dict(zip(CURVE[:4], key, strict=True)), "safe_share": safe.value, "safe_censored": safe.censored,
                    "safe_low": ci.low if ci else math.nan, "safe_high": ci.high if ci else math.nan,
                    "equivalent_up_to": float(upto) if np.isfinite(upto) else 0.0})
    return pd.DataFrame(out)


def power_by_family(cells: pd.DataFrame) -> pd.DataFrame:
    """Per family (model × iteration × regime × metric): its size m, seeds, and the minimum detectable effects."""
    tested = cells.loc[cells["pvalue"].notna()]
    rows = []
    for key, fam in tested.groupby(FAMILY, sort=True):
        mde = fam["mde_relative"].astype(float)
        rows.append({**dict(zip(FAMILY, key, strict=True)), "correction": fam["correction"].iloc[0],
                     "family_m": int(fam["family_m"].iloc[0]), "n_pairs": int(fam["n_pairs"].min()),
                     "label": fam["label"].iloc[0], "mde_relative_median": float(mde.median()),
                     "mde_relative_min": float(mde.min()), "mde_relative_max": float(mde.max()),
                     "n_significant": int(fam["significant"].sum()), "n_equivalent": int(fam["equivalent"].sum()),
                     "n_inconclusive": int((~fam["significant"].astype(bool) & ~fam["equivalent"].astype(bool)).sum())})
    return pd.DataFrame(rows)
