"""The statistics a reviewer asks for: seeded vectorised bootstrap CIs, paired tests, multiplicity, effect sizes.

Conventions (docs/architecture.md, Statistics): the training seed is the unit of inference; with one seed a
result is "test-set noise only". Every function validates its arrays first (1-D, finite, equal
lengths, non-empty) and names the argument, index and value in the DataError it raises.
Resampling uses ``numpy.random.default_rng(seed).integers(0, n, (n_resamples, n))``, the same draw as
``scipy.stats.bootstrap``, so the two agree to floating-point precision on the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

from synthmix.errors import DataError
from synthmix.metrics.registry import metric_info

TEST_SET_NOISE_ONLY = "test-set noise only"
ECE_MIN_EXAMPLES = metric_info("ece").min_reliable_n  # HELM's rule of thumb for 10-bin ECE, kept in the metric registry
_CHUNK_ELEMENTS = 200_000  # resample rows are drawn in chunks of about this many indices (cache-sized: 2x faster than 2M)

ArrayLike = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class CI:
    """A point estimate with its confidence interval; complete and fixed-shape whatever the method."""

    estimate: float
    low: float
    high: float
    n: int
    confidence: float = 0.95
    method: str = "percentile"
    n_resamples: int = 0


@dataclass(frozen=True)
class TestResult:
    """A test statistic with its two-sided p-value and the sample it came from."""

    statistic: float
    pvalue: float
    n: int
    df: float | None = None
    mean_difference: float | None = None


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on paired 0/1 outcomes; `b` = a right and b wrong, `c` = a wrong and b right."""

    statistic: float
    pvalue: float
    b: int
    c: int
    exact: bool


@dataclass(frozen=True)
class Adjusted:
    """Multiplicity-adjusted p-values over one declared family, with its size m."""

    pvalues: tuple[float, ...]
    reject: tuple[bool, ...]
    m: int
    alpha: float
    method: str


def as_1d(values: ArrayLike, name: str) -> np.ndarray:
    """Return `values` as a finite, non-empty 1-D float array, or raise a DataError naming the argument and index."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise DataError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(f"{name}: empty; at least one value is needed")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DataError(f"{name}[{bad[0]}]: must be finite (got {arr[bad[0]]})")
    return arr


def as_pair(a: ArrayLike, b: ArrayLike, names: tuple[str, str] = ("a", "b")) -> tuple[np.ndarray, np.ndarray]:
    """Validate two paired samples: each 1-D and finite, and of equal length."""
    x, y = as_1d(a, names[0]), as_1d(b, names[1])
    if x.size != y.size:
        raise DataError(f"{names[0]} and {names[1]} must be paired (equal lengths); got {x.size} and {y.size}")
    return x, y


def _as_binary(values: ArrayLike, name: str) -> np.ndarray:
    """Validate a 0/1 outcome array."""
    arr = as_1d(values, name)
    bad = np.flatnonzero((arr != 0) & (arr != 1))
    if bad.size:
        raise DataError(f"{name}[{bad[0]}]: must be 0 or 1 (got {arr[bad[0]]})")
    return arr


def resample_indices(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Draw an (n_resamples, n) matrix of bootstrap indices, in row chunks so memory stays bounded."""
    rows = max(1, _CHUNK_ELEMENTS // max(n, 1))
    if rows >= n_resamples:
        return rng.integers(0, n, (n_resamples, n))
    return np.concatenate([rng.integers(0, n, (min(rows, n_resamples - k), n)) for k in range(0, n_resamples, rows)])


def bootstrap_distribution(values: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Bootstrap distribution of the mean of `values`, computed chunk by chunk (vectorised, seeded)."""
    rng = np.random.default_rng(seed)
    n = values.size
    rows = min(n_resamples, max(1, _CHUNK_ELEMENTS // n))
    out = np.empty(n_resamples)
    gathered = np.empty((rows, n))  # reused buffer: the gather is the hot loop
    for k in range(0, n_resamples, rows):
        m = min(rows, n_resamples - k)
        np.take(values, rng.integers(0, n, (m, n)), out=gathered[:m])
        out[k : k + m] = gathered[:m].sum(axis=1) / n
    return out


def _bca_levels(values: np.ndarray, theta_b: np.ndarray, alpha: float) -> tuple[float, float]:
    """BCa-adjusted quantile levels (Efron & Tibshirani 14.3, 15.4), computed as scipy.stats.bootstrap does."""
    theta = values.mean()
    pct = (np.count_nonzero(theta_b < theta) + np.count_nonzero(theta_b <= theta)) / (2 * theta_b.size)
    z0 = special.ndtri(pct)
    n = values.size
    jack = (values.sum() - values) / (n - 1)  # leave-one-out means
    u = (n - 1) * (jack.mean() - jack)
    den = np.sum(u**2) / n**2
    a_hat = (np.sum(u**3) / n**3) / den**1.5 / 6 if den > 0 else 0.0
    z_lo = float(special.ndtri(alpha))
    levels = []
    for z in (z_lo, -z_lo):
        levels.append(float(special.ndtr(z0 + (z0 + z) / (1 - a_hat * (z0 + z)))))
    return levels[0], levels[1]


def bootstrap_ci(
    values: ArrayLike,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    method: Literal["percentile", "bca"] = "percentile",
) -> CI:
    """Bootstrap CI of the mean: vectorised, seeded, percentile or BCa (scipy.stats.bootstrap's conventions)."""
    x = as_1d(values, "values")
    if not 0 < confidence < 1:
        raise DataError(f"confidence: must be in (0, 1) (got {confidence})")
    if n_resamples < 2:
        raise DataError(f"n_resamples: must be at least 2 (got {n_resamples})")
    if method not in ("percentile", "bca"):
        raise DataError(f"method: must be 'percentile' or 'bca' (got {method!r})")
    theta_b = bootstrap_distribution(x, n_resamples, seed)
    alpha = (1 - confidence) / 2
    if method == "bca":
        if x.size < 2 or np.ptp(x) == 0:
            raise DataError(f"values: BCa needs at least 2 distinct values (got n={x.size}); use method='percentile'")
        lo_q, hi_q = _bca_levels(x, theta_b, alpha)
    else:
        lo_q, hi_q = alpha, 1 - alpha
    low, high = np.quantile(theta_b, [lo_q, hi_q])
    return CI(float(x.mean()), float(low), float(high), int(x.size), confidence, method, n_resamples)


def two_level_bootstrap(
    a: np.ndarray, b: np.ndarray, n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> CI:
    """CI of the mean difference b − a over (seeds × examples) arrays: resample seeds, then shared example indices.

    `a` and `b` have shape (S, n): S training seeds (paired by seed) and the same n test examples in
    every seed and arm, so one example resample is applied to every drawn seed in both arms.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.ndim != 2 or x.shape != y.shape:
        raise DataError(f"a and b: expected equal (seeds, examples) shapes, got {x.shape} and {y.shape}")
    if x.size == 0 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError("a and b: must be non-empty and finite")
    d = y - x  # (S, n)
    s, n = d.shape
    rng = np.random.default_rng(seed)
    out = np.empty(n_resamples)
    rows = max(1, _CHUNK_ELEMENTS // n)
    for k in range(0, n_resamples, rows):
        m = min(rows, n_resamples - k)
        seed_idx = rng.integers(0, s, (m, s))  # (m, S)
        ex_idx = rng.integers(0, n, (m, n))  # (m, n)
        weights = np.stack([np.bincount(r, minlength=s) for r in seed_idx]) / s  # (m, S)
        per_example = weights @ d  # (m, n): seed-weighted differences per example
        out[k : k + m] = np.take_along_axis(per_example, ex_idx, axis=1).mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(out, [alpha, 1 - alpha])
    return CI(float(d.mean()), float(low), float(high), int(s), confidence, "two-level percentile", n_resamples)


def paired_t_test(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Paired t-test of a against b (d = a − b), two-sided; equal to scipy.stats.ttest_rel(a, b)."""
    x, y = as_pair(a, b)
    if x.size < 2:
        raise DataError(f"a, b: a paired t-test needs at least 2 pairs (got {x.size})")
    d = x - y
    sd = d.std(ddof=1)
    n = d.size
    if sd == 0:
        raise DataError("a, b: every paired difference is identical, the t statistic is undefined")
    t = d.mean() / (sd / math.sqrt(n))
    p = 2 * sps.t.sf(abs(t), n - 1)
    return TestResult(float(t), float(p), int(n), float(n - 1), float(d.mean()))


def cohens_dz(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d_z: the mean paired difference a − b over its standard deviation (t = d_z·√n)."""
    x, y = as_pair(a, b)
    if x.size < 2:
        raise DataError(f"a, b: d_z needs at least 2 pairs (got {x.size})")
    d = x - y
    sd = d.std(ddof=1)
    if sd == 0:
        raise DataError("a, b: every paired difference is identical, d_z is undefined")
    return float(d.mean() / sd)


def mcnemar(a: ArrayLike, b: ArrayLike, exact: bool = True, correction: bool = True) -> McNemarResult:
    """McNemar's test on paired 0/1 outcomes: exact binomial, or chi-square with continuity correction."""
    x, y = _as_binary(a, "a"), _as_binary(b, "b")
    if x.size != y.size:
        raise DataError(f"a and b must be paired (equal lengths); got {x.size} and {y.size}")
    n01 = int(np.sum((x == 1) & (y == 0)))
    n10 = int(np.sum((x == 0) & (y == 1)))
    if exact:
        stat = float(min(n01, n10))
        p = float(sps.binomtest(int(stat), n01 + n10, 0.5).pvalue) if n01 + n10 else 1.0
    else:
        if n01 + n10 == 0:
            return McNemarResult(0.0, 1.0, n01, n10, exact)
        num = (abs(n01 - n10) - (1 if correction else 0)) ** 2
        stat = num / (n01 + n10)
        p = float(sps.chi2.sf(stat, 1))
    return McNemarResult(stat, min(1.0, p), n01, n10, exact)


def _adjust_input(pvalues: ArrayLike, alpha: float) -> np.ndarray:
    """Validate a family of p-values."""
    p = as_1d(pvalues, "pvalues")
    bad = np.flatnonzero((p < 0) | (p > 1))
    if bad.size:
        raise DataError(f"pvalues[{bad[0]}]: must be in [0, 1] (got {p[bad[0]]})")
    if not 0 < alpha < 1:
        raise DataError(f"alpha: must be in (0, 1) (got {alpha})")
    return p


def bonferroni(pvalues: ArrayLike, alpha: float = 0.05) -> Adjusted:
    """Bonferroni over one family: p·m capped at 1, reject where ≤ alpha; m is reported with the table."""
    p = _adjust_input(pvalues, alpha)
    adj = np.minimum(p * p.size, 1.0)
    return Adjusted(tuple(map(float, adj)), tuple(bool(v) for v in adj <= alpha), int(p.size), alpha, "bonferroni")


def holm(pvalues: ArrayLike, alpha: float = 0.05) -> Adjusted:
    """Holm's step-down adjustment over one family (uniformly more powerful than Bonferroni)."""
    p = _adjust_input(pvalues, alpha)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adj = np.empty(m)
    adj[order] = np.minimum(stepped, 1.0)
    return Adjusted(tuple(map(float, adj)), tuple(bool(v) for v in adj <= alpha), int(m), alpha, "holm")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> CI:
    """Wilson score interval for a proportion (well-behaved at 0, 1 and small n); n = 0 gives [0, 1]."""
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise DataError(f"successes, n: need 0 ≤ successes ≤ n (got {successes}, {n})")
    if n == 0:
        return CI(float("nan"), 0.0, 1.0, 0, confidence, "wilson")
    z = float(special.ndtri(1 - (1 - confidence) / 2))
    phat = successes / n
    denom = 1 + z**2 / n
    centre = (phat + z**2 / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / denom
    return CI(phat, max(0.0, centre - half), min(1.0, centre + half), n, confidence, "wilson")


def reliability_warnings(metric: str, n: int, n_bins: int = 10) -> list[str]:
    """Say when a metric's sample is below the registry's minimum reliable n (e.g. 10-bin ECE on HumanEval's 164 problems)."""
    notes = []
    minimum = metric_info(metric).min_reliable_n
    if n < minimum and minimum > 30:
        notes.append(f"{metric} with {n_bins} bins on n={n} examples is unreliable (needs ~{minimum}+: "
                     f"{metric_info(metric).meaning})")
    if n < 30:
        notes.append(f"{metric}: n={n} is too small for normal-approximation intervals")
    return notes


def t_interval(values: ArrayLike, confidence: float = 0.95) -> CI:
    """Student-t interval of the mean (exact for normal data at any n ≥ 2; scipy.stats.t.interval's convention)."""
    x = as_1d(values, "values")
    if x.size < 2:
        raise DataError(f"values: a t interval needs at least 2 values (got {x.size})")
    se = x.std(ddof=1) / math.sqrt(x.size)
    half = float(sps.t.ppf(1 - (1 - confidence) / 2, x.size - 1)) * se
    return CI(float(x.mean()), float(x.mean() - half), float(x.mean() + half), int(x.size), confidence, "t")


def benjamini_hochberg(pvalues: ArrayLike, alpha: float = 0.05) -> Adjusted:
    """Benjamini–Hochberg step-up adjustment (controls the false discovery rate over one family)."""
    p = _adjust_input(pvalues, alpha)
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(stepped, 1.0)
    return Adjusted(tuple(map(float, adj)), tuple(bool(v) for v in adj <= alpha), int(m), alpha, "bh")


CORRECTIONS = {"bonferroni": bonferroni, "holm": holm, "bh": benjamini_hochberg}


def adjust_pvalues(pvalues: ArrayLike, method: str = "bonferroni", alpha: float = 0.05) -> Adjusted:
    """Adjust one family's p-values by the named correction: bonferroni, holm or bh (Benjamini–Hochberg FDR)."""
    if method not in CORRECTIONS:
        raise DataError(f"correction: unknown {method!r}; use one of {', '.join(CORRECTIONS)}")
    return CORRECTIONS[method](pvalues, alpha)


def tost_paired(a: ArrayLike, b: ArrayLike, low: float, high: float) -> TestResult:
    """Two one-sided paired t-tests that the mean of a − b lies in (low, high); equal to statsmodels' ttost_paired."""
    x, y = as_pair(a, b)
    if x.size < 2:
        raise DataError(f"a, b: an equivalence test needs at least 2 pairs (got {x.size})")
    if not low < high:
        raise DataError(f"low, high: the equivalence interval must have low < high (got {low}, {high})")
    d = x - y
    se = d.std(ddof=1) / math.sqrt(d.size)
    if se == 0:
        inside = low < d.mean() < high
        return TestResult(math.inf if inside else -math.inf, 0.0 if inside else 1.0, int(d.size), float(d.size - 1), float(d.mean()))
    t_low, t_high = (d.mean() - low) / se, (d.mean() - high) / se
    p = max(sps.t.sf(t_low, d.size - 1), sps.t.cdf(t_high, d.size - 1))
    return TestResult(float(min(t_low, -t_high)), float(p), int(d.size), float(d.size - 1), float(d.mean()))


def cohens_dz_ci(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> CI:
    """d_z of a − b with the exact interval from inverting the noncentral t distribution of t = d_z·√n."""
    x, y = as_pair(a, b)
    dz = cohens_dz(x, y)
    n = x.size
    t_obs, df = dz * math.sqrt(n), n - 1
    tail = (1 - confidence) / 2

    def gap(nc: float, target: float) -> float:
        """P(T ≥ t_obs | nc) − target; scipy's nan far in a tail is replaced by that tail's limit (0 or 1)."""
        sf = float(sps.nct.sf(t_obs, df, nc))
        return (sf if math.isfinite(sf) else float(nc > t_obs)) - target

    def solve(target: float) -> float:
        """The noncentrality whose t distribution puts `target` probability at or above the observed t."""
        lo, hi = t_obs - 10 - abs(t_obs), t_obs + 10 + abs(t_obs)
        for _ in range(40):
            if gap(lo, target) < 0 and gap(hi, target) > 0:
                return float(optimize.brentq(gap, lo, hi, args=(target,)))
            lo, hi = lo - 10 - abs(lo), hi + 10 + abs(hi)
        return -math.inf if gap(lo, target) >= 0 else math.inf

    return CI(dz, solve(tail) / math.sqrt(n), solve(1 - tail) / math.sqrt(n), int(n), confidence, "noncentral t")


def pooled_d(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d of a − b over the pooled standard deviation of the two arms (ignores the pairing; beside d_z)."""
    x, y = as_pair(a, b)
    if x.size < 2:
        raise DataError(f"a, b: pooled d needs at least 2 values per arm (got {x.size})")
    sd = math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2)
    if sd == 0:
        raise DataError("a, b: both arms are constant, pooled d is undefined")
    return float((x.mean() - y.mean()) / sd)


def paired_permutation_test(a: ArrayLike, b: ArrayLike, n_resamples: int = 10_000, seed: int = 0) -> TestResult:
    """Sign-flip permutation test of mean(a − b) = 0: exact over all 2^n flips when n ≤ 16, else seeded Monte Carlo.

    The Monte Carlo p-value counts the observed statistic among the draws, (1 + #{|T*| ≥ |T|}) / (1 + R),
    so it is never 0; exact p-values equal scipy.stats.permutation_test(permutation_type='samples').
    """
    x, y = as_pair(a, b)
    d = x - y
    n = d.size
    observed = abs(d.mean())
    if n <= 16:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)  # (2^n, n) every sign pattern
        stats_ = np.abs(signs @ d) / n
        p = float(np.mean(stats_ >= observed * (1 - 1e-12)))
    else:
        rng = np.random.default_rng(seed)
        count = 0
        rows = max(1, _CHUNK_ELEMENTS // n)
        for k in range(0, n_resamples, rows):
            m = min(rows, n_resamples - k)
            signs = rng.choice((-1.0, 1.0), size=(m, n))
            count += int(np.sum(np.abs(signs @ d) / n >= observed * (1 - 1e-12)))
        p = (1 + count) / (1 + n_resamples)
    return TestResult(float(d.mean()), float(min(1.0, p)), int(n), None, float(d.mean()))


def minimum_detectable_effect_t(n: int, sd: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true mean paired difference a two-sided paired t-test on n pairs detects with `power`.

    Solved on the noncentral t (statsmodels TTestPower's definition) and returned in the metric's units (d·sd);
    pass the family-adjusted alpha (e.g. alpha/m for Bonferroni).
    """
    if n < 2:
        raise DataError(f"n: a paired t-test needs at least 2 pairs (got {n})")
    if not (sd > 0 and math.isfinite(sd)):
        raise DataError(f"sd: must be positive and finite (got {sd})")
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise DataError(f"power and alpha must be in (0, 1) (got {power}, {alpha})")
    df = n - 1
    crit = float(sps.t.ppf(1 - alpha / 2, df))

    def shortfall(d: float) -> float:
        """Power at standardised effect d minus the target."""
        nc = d * math.sqrt(n)
        lower = float(np.nan_to_num(sps.nct.cdf(-crit, df, nc)))  # scipy returns nan far in the tail, where it is ~0
        return float(sps.nct.sf(crit, df, nc)) + lower - power

    hi = 1.0
    while shortfall(hi) < 0:
        hi *= 2
    return float(optimize.brentq(shortfall, 0.0, hi, xtol=1e-12)) * sd
