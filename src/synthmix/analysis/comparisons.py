"""Share p against share 0 for every (model, task, regime, iteration, metric), with the right test for the data.

Pairing (docs/architecture.md): the same model, task, iteration, seed and regime. With ≥ 2 paired seeds the test
is a paired t-test on seed values and d_z is on seed values (the seed is the unit of inference);
with one seed and per-example rows it is a per-example paired test labelled "test-set noise only";
with neither there is no test. The Bonferroni/Holm family is one table: all share-vs-0 comparisons
for one model × iteration × metric (× regime) across tasks; its size m is a column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthmix.analysis.stats import (
    TEST_SET_NOISE_ONLY,
    bonferroni,
    bootstrap_ci,
    cohens_dz,
    holm,
    mcnemar,
    paired_bootstrap,
    paired_t_test,
    seed_label,
    two_level_bootstrap,
)

GROUP = ["model", "task", "regime", "iteration", "metric"]
FAMILY = ["model", "iteration", "metric", "regime"]
NO_TEST = "no test: means only"
MEANS_ONLY = "means only (no seeds)"


def _seed_values(rows: pd.DataFrame) -> pd.Series:
    """One value per seed (mean over duplicates); a table without seeds counts as one seed labelled -1."""
    seeds = rows["seed"] if "seed" in rows and rows["seed"].notna().all() else pd.Series(-1, index=rows.index)
    return rows.groupby(seeds.to_numpy())["value"].mean()


def _example_matrix(examples: pd.DataFrame, key: dict, share: float, seeds: list, column: str) -> np.ndarray | None:
    """(seeds, examples) matrix of per-example values for one arm, aligned by example_id; None if incomplete."""
    rows = examples
    for col in ("model", "task", "regime", "iteration"):
        rows = rows[rows[col] == key[col]]
    rows = rows[np.isclose(rows["share"].astype(float), share)]
    mats = []
    for s in seeds:
        r = rows[rows["seed"] == s].sort_values("example_id")
        if r.empty:
            return None
        mats.append(r.set_index("example_id")[column])
    frame = pd.concat(mats, axis=1, join="inner")
    return frame.to_numpy(float).T if len(frame) else None


def _compare_one(base: pd.Series, arm: pd.Series, examples: pd.DataFrame | None, key: dict, share: float,
                 n_resamples: int, seed: int) -> dict:
    """Test, CI and effect size of one share against 0 on paired seeds (and per-example rows where given)."""
    seeds = sorted(set(base.index) & set(arm.index))
    a, b = base.loc[seeds].to_numpy(float), arm.loc[seeds].to_numpy(float)
    out = dict(share=share, n_seeds=len(seeds), baseline=a.mean(), value=b.mean(), difference=(b - a).mean(),
               ci_low=np.nan, ci_high=np.nan, pvalue=np.nan, dz=np.nan, test=NO_TEST,
               label=MEANS_ONLY if seeds == [-1] else seed_label(len(seeds)))
    out["rel_degradation"] = (a.mean() - b.mean()) / abs(a.mean()) if a.mean() != 0 else np.nan
    use_examples = examples is not None and key["metric"] == "score"
    ex_a = _example_matrix(examples, key, 0.0, seeds, "score") if use_examples else None
    ex_b = _example_matrix(examples, key, share, seeds, "score") if use_examples else None
    if ex_a is not None and ex_b is not None and ex_a.shape != ex_b.shape:
        ex_a = ex_b = None
    if len(seeds) >= 2 and np.ptp(b - a) > 0:
        t = paired_t_test(b, a)
        ci = two_level_bootstrap(ex_a, ex_b, n_resamples, seed=seed) if ex_a is not None else bootstrap_ci(b - a, n_resamples, seed=seed)
        out.update(pvalue=t.pvalue, dz=cohens_dz(b, a), ci_low=ci.low, ci_high=ci.high, test="paired t (seeds)")
    elif len(seeds) == 1 and ex_a is not None and ex_a.shape[1] >= 2:
        xa, xb = ex_a[0], ex_b[0]
        boot = paired_bootstrap(xa, xb, n_resamples, seed=seed)
        binary = np.isin(xa, (0, 1)).all() and np.isin(xb, (0, 1)).all()
        p = mcnemar(xa, xb).pvalue if binary else (paired_t_test(xb, xa).pvalue if np.ptp(xb - xa) > 0 else 1.0)
        out.update(pvalue=p, ci_low=boot.ci.low, ci_high=boot.ci.high, label=TEST_SET_NOISE_ONLY,
                   test="McNemar (examples)" if binary else "paired t (examples)")
    return out


def compare_shares(scores: pd.DataFrame, examples: pd.DataFrame | None = None, alpha: float = 0.05,
                   n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Every share-vs-0 comparison in a tidy scores table, with Bonferroni and Holm over each family."""
    frame = scores[scores["share"].notna()].copy()
    if "regime" not in frame:
        frame["regime"] = "replace"
    records = []
    for key_vals, rows in frame.groupby(GROUP, sort=True):
        key = dict(zip(GROUP, key_vals))
        if not np.isclose(rows["share"], 0).any():
            continue
        base = _seed_values(rows[np.isclose(rows["share"], 0)])
        for share in sorted(s for s in rows["share"].unique() if not np.isclose(s, 0)):
            arm = _seed_values(rows[np.isclose(rows["share"], share)])
            records.append({**key, **_compare_one(base, arm, examples, key, float(share), n_resamples, seed)})
    out = pd.DataFrame.from_records(records)
    if out.empty:
        return out
    out["m"] = 0
    out["p_bonferroni"] = np.nan
    out["p_holm"] = np.nan
    for _, fam in out.groupby(FAMILY):
        tested = fam.index[fam["pvalue"].notna()]
        if len(tested):
            bon, hol = bonferroni(out.loc[tested, "pvalue"], alpha), holm(out.loc[tested, "pvalue"], alpha)
            out.loc[tested, "p_bonferroni"], out.loc[tested, "p_holm"] = bon.pvalues, hol.pvalues
            out.loc[fam.index, "m"] = bon.m
    out["significant"] = out["p_bonferroni"] <= alpha
    return out
