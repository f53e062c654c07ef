"""Fits across share and scale on seed-level means: polynomial, two-segment breakpoint, power law, safe share.

All fits take plain arrays (one point per seed-level mean) and return frozen records; CIs come from
OLS standard errors (t distribution) where the model is linear, from a seeded case bootstrap otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from synthmix.analysis.stats import CI, ArrayLike, as_1d, as_pair
from synthmix.errors import DataError

SAFE_DEGRADATION = 0.10  # docs/architecture.md: safe = largest share with < 10 % relative degradation


@dataclass(frozen=True)
class LinearFit:
    """y = a + b·x by ordinary least squares, with t-based CIs on a and b and R²."""

    a: float
    b: float
    r2: float
    a_ci: CI | None
    b_ci: CI | None
    n: int


@dataclass(frozen=True)
class SafeShareFit:
    """Safe share = a + b·log10(N / 1e9) across model sizes N; the range of N it was fitted on."""

    a: float
    b: float
    r2: float
    a_ci: CI | None
    b_ci: CI | None
    n: int
    n_params_min: float
    n_params_max: float
    residual_variance: float = float("nan")  # s² of the OLS residuals (nan when n ≤ 2 or for a printed formula)
    x_mean: float = float("nan")  # mean of log10(N/1e9) over the fitted sizes
    x_sxx: float = float("nan")  # Σ (x − x̄)² over the fitted sizes

    def predict(self, n_params: float) -> float:
        """The fitted safe share at model size `n_params`."""
        return self.a + self.b * math.log10(n_params / 1e9)

    def predict_ci(self, n_params: float, confidence: float = 0.95) -> CI | None:
        """t interval of the fitted mean safe share at `n_params`; None without residual degrees of freedom."""
        x = math.log10(n_params / 1e9)
        se = math.sqrt(self.residual_variance * (1 / self.n + (x - self.x_mean) ** 2 / self.x_sxx))
        return _t_ci(self.predict(n_params), se, self.n - 2, self.n, confidence)


@dataclass(frozen=True)
class PowerLawFit:
    """y = a·x^alpha fitted by OLS in log–log space; R² is in log space."""

    a: float
    alpha: float
    r2: float
    alpha_ci: CI | None
    n: int


@dataclass(frozen=True)
class PolynomialFit:
    """Polynomial in share with its inflection point and mean slopes below and above it."""

    coefficients: tuple[float, ...]  # highest degree first, as numpy.polyfit
    degree: int
    r2: float
    inflection: float | None  # None when the curvature never changes sign inside the share range
    slope_below: float | None
    slope_above: float | None


@dataclass(frozen=True)
class BreakpointFit:
    """Continuous two-segment linear fit y = c + s1·x + (s2 − s1)·max(0, x − x0), with a bootstrap CI on x0."""

    breakpoint: float
    intercept: float
    slope_below: float
    slope_above: float
    sse: float
    breakpoint_ci: CI | None


@dataclass(frozen=True)
class SafeShare:
    """Largest share with relative degradation below the threshold; censored when the curve never crosses it."""

    value: float
    censored: bool
    threshold: float

    def label(self) -> str:
        """Human-readable value: '23.2%' or '> 50%' when censored."""
        return f"> {self.value:.0%}" if self.censored else f"{self.value:.1%}"


def _t_ci(estimate: float, se: float, df: int, n: int, confidence: float) -> CI | None:
    """A t interval, or None when there are no residual degrees of freedom."""
    if df <= 0 or not math.isfinite(se):
        return None
    half = sps.t.ppf(1 - (1 - confidence) / 2, df) * se
    return CI(float(estimate), float(estimate - half), float(estimate + half), n, confidence, "t (OLS)")


def fit_linear(x: ArrayLike, y: ArrayLike, confidence: float = 0.95) -> LinearFit:
    """OLS y = a + b·x with standard-error CIs (statsmodels OLS conventions) and R²."""
    xs, ys = as_pair(x, y, ("x", "y"))
    n = xs.size
    if n < 2 or np.ptp(xs) == 0:
        raise DataError(f"x: a line needs at least 2 distinct x values (got {np.unique(xs).size})")
    xm = xs.mean()
    sxx = np.sum((xs - xm) ** 2)
    b = np.sum((xs - xm) * (ys - ys.mean())) / sxx
    a = ys.mean() - b * xm
    resid = ys - (a + b * xs)
    sst = np.sum((ys - ys.mean()) ** 2)
    r2 = 1 - np.sum(resid**2) / sst if sst > 0 else 1.0
    df = n - 2
    s2 = np.sum(resid**2) / df if df > 0 else float("nan")
    se_b = math.sqrt(s2 / sxx) if df > 0 else float("nan")
    se_a = math.sqrt(s2 * (1 / n + xm**2 / sxx)) if df > 0 else float("nan")
    return LinearFit(float(a), float(b), float(r2), _t_ci(a, se_a, df, n, confidence), _t_ci(b, se_b, df, n, confidence), n)


def r_squared(y: ArrayLike, predicted: ArrayLike) -> float:
    """Coefficient of determination of any predictions (negative when worse than the mean)."""
    ys, ps = as_pair(y, predicted, ("y", "predicted"))
    sst = np.sum((ys - ys.mean()) ** 2)
    return float(1 - np.sum((ys - ps) ** 2) / sst) if sst > 0 else float("nan")


def fit_safe_share(n_params: ArrayLike, safe_share: ArrayLike, confidence: float = 0.95) -> SafeShareFit:
    """Fit safe share = a + b·log10(N/1e9) (the paper's eq. 3 form), with R² and t CIs on a and b."""
    n = np.asarray(n_params, dtype=float)
    if n.ndim != 1 or n.size == 0 or np.any(~(n > 0)):
        raise DataError(f"n_params: must be positive model sizes (got {n_params!r})")
    x = np.log10(n / 1e9)
    lin = fit_linear(x, safe_share, confidence)
    resid = np.asarray(safe_share, dtype=float) - (lin.a + lin.b * x)
    s2 = float(np.sum(resid**2) / (lin.n - 2)) if lin.n > 2 else float("nan")
    return SafeShareFit(lin.a, lin.b, lin.r2, lin.a_ci, lin.b_ci, lin.n, float(n.min()), float(n.max()),
                        s2, float(x.mean()), float(np.sum((x - x.mean()) ** 2)))


def fit_power_law(x: ArrayLike, y: ArrayLike, confidence: float = 0.95) -> PowerLawFit:
    """Fit y = a·x^alpha by OLS on (log x, log y); needs positive x and y."""
    xs, ys = as_pair(x, y, ("x", "y"))
    for name, arr in (("x", xs), ("y", ys)):
        bad = np.flatnonzero(arr <= 0)
        if bad.size:
            raise DataError(f"{name}[{bad[0]}]: a power law needs positive values (got {arr[bad[0]]})")
    lin = fit_linear(np.log(xs), np.log(ys), confidence)
    return PowerLawFit(float(math.exp(lin.a)), lin.b, lin.r2, lin.b_ci, lin.n)


def fit_polynomial_share(share: ArrayLike, y: ArrayLike, degree: int = 3) -> PolynomialFit:
    """Polynomial in share; the inflection point is where the second derivative changes sign inside the range.

    Slopes below/above are the mean slopes (secant of the fitted curve) from the smallest share to the
    inflection and from it to the largest share, in units of y per unit share.
    """
    xs, ys = as_pair(share, y, ("share", "y"))
    if np.unique(xs).size <= degree:
        raise DataError(f"share: a degree-{degree} polynomial needs more than {degree} distinct shares (got {np.unique(xs).size})")
    coef = np.linalg.lstsq(np.vander(xs, degree + 1), ys, rcond=None)[0]
    poly = np.poly1d(coef)
    r2 = r_squared(ys, poly(xs))
    lo, hi = float(xs.min()), float(xs.max())
    inflection = None
    if degree >= 3:
        roots = [float(r.real) for r in np.atleast_1d(poly.deriv(2).roots) if abs(r.imag) < 1e-12 and lo < r.real < hi]
        sign_changes = [r for r in roots if np.sign(poly.deriv(2)(r - 1e-6)) != np.sign(poly.deriv(2)(r + 1e-6))]
        inflection = min(sign_changes) if sign_changes else None
    if inflection is None:
        return PolynomialFit(tuple(map(float, coef)), degree, r2, None, None, None)
    below = (poly(inflection) - poly(lo)) / (inflection - lo)
    above = (poly(hi) - poly(inflection)) / (hi - inflection)
    return PolynomialFit(tuple(map(float, coef)), degree, r2, inflection, float(below), float(above))


def _hinge_profiles(xs: np.ndarray, ys: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS of the continuous two-segment model for every (sample, breakpoint) at once.

    ``xs``/``ys`` are (B, n) samples and ``grid`` (G,) candidate breakpoints; returns coefficients
    (B, G, 3) for [intercept, slope, slope change] and SSE (B, G), by batched normal equations. A tiny
    ridge (1e-12 of the Gram's scale) keeps a resample whose hinge column is all zeros solvable; it moves
    no SSE by more than rounding, so the profiled breakpoint is the exact least-squares one.
    """
    hinge = np.maximum(0.0, xs[:, None, :] - grid[None, :, None])  # B, G, n
    design = np.stack([np.ones_like(hinge), np.broadcast_to(xs[:, None, :], hinge.shape), hinge], axis=-1)  # B, G, n, 3
    gram = np.einsum("bgni,bgnj->bgij", design, design)  # B, G, 3, 3
    moment = np.einsum("bgni,bn->bgi", design, ys)  # B, G, 3
    ridge = 1e-12 * np.trace(gram, axis1=-2, axis2=-1)[..., None, None] * np.eye(3)
    coef = np.linalg.solve(gram + ridge, moment[..., None])[..., 0]
    resid = ys[:, None, :] - np.einsum("bgni,bgi->bgn", design, coef)
    return coef, np.einsum("bgn,bgn->bg", resid, resid)


def _best_breakpoints(xs: np.ndarray, ys: np.ndarray, grid: np.ndarray, chunk: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profile the SSE over the grid for each of B samples: best breakpoint (B,), its coefficients (B, 3) and SSE (B,)."""
    out_x, out_coef, out_sse = [], [], []
    for start in range(0, xs.shape[0], chunk):
        coef, sse = _hinge_profiles(xs[start:start + chunk], ys[start:start + chunk], grid)
        best = np.argmin(sse, axis=1)
        rows = np.arange(best.size)
        out_x.append(grid[best])
        out_coef.append(coef[rows, best])
        out_sse.append(sse[rows, best])
    return np.concatenate(out_x), np.concatenate(out_coef), np.concatenate(out_sse)


def fit_breakpoint(
    share: ArrayLike, y: ArrayLike, n_resamples: int = 1000, seed: int = 0, grid_size: int = 201
) -> BreakpointFit:
    """Two-segment linear fit by profiling the breakpoint over a grid strictly inside the share range.

    The CI on the breakpoint is a seeded case bootstrap (resamples with fewer than 3 distinct shares are
    skipped); it is None when there are fewer than 5 points, too few for a resampled fit to mean anything.
    """
    xs, ys = as_pair(share, y, ("share", "y"))
    ux = np.unique(xs)
    if ux.size < 3:
        raise DataError(f"share: a two-segment fit needs at least 3 distinct shares (got {ux.size})")
    grid = np.linspace(ux[0], ux[-1], grid_size)[1:-1]
    best_x, best_coef, best_sse = _best_breakpoints(xs[None, :], ys[None, :], grid)
    x0, coef, sse = float(best_x[0]), best_coef[0], float(best_sse[0])
    ci = None
    if xs.size >= 5 and n_resamples > 0:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, xs.size, (n_resamples, xs.size))
        keep = np.array([np.unique(row).size >= 3 for row in xs[idx]])
        if keep.any():
            draws = _best_breakpoints(xs[idx[keep]], ys[idx[keep]], grid)[0]
            low, high = np.quantile(draws, [0.025, 0.975])
            ci = CI(x0, float(low), float(high), int(xs.size), 0.95, "case bootstrap", int(draws.size))
    return BreakpointFit(x0, float(coef[0]), float(coef[1]), float(coef[1] + coef[2]), sse, ci)


def relative_degradation(baseline: float, value: float, higher_is_better: bool = True) -> float:
    """(baseline − value)/baseline for a higher-is-better metric (positive = worse); the sign flips otherwise."""
    if baseline == 0:
        raise DataError("baseline: relative degradation is undefined for a baseline of 0")
    drop = (baseline - value) / abs(baseline)
    return float(drop if higher_is_better else -drop)


def safe_share_from_curve(
    share: ArrayLike, y: ArrayLike, threshold: float = SAFE_DEGRADATION, higher_is_better: bool = True
) -> SafeShare:
    """Largest share whose relative degradation stays below `threshold`, interpolated linearly between shares.

    One value per share (seed-level means); share 0 must be present. When the curve never reaches the
    threshold the result is censored at the largest share ("> max share").
    """
    xs, ys = as_pair(share, y, ("share", "y"))
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    if np.unique(xs).size != xs.size:
        raise DataError("share: one value per share is expected (average seeds first)")
    if xs[0] != 0:
        raise DataError(f"share: the 0 share (baseline) is missing (smallest share is {xs[0]})")
    deg = np.array([relative_degradation(ys[0], v, higher_is_better) for v in ys])
    crossed = np.flatnonzero(deg >= threshold)
    if crossed.size == 0:
        return SafeShare(float(xs[-1]), True, threshold)
    k = int(crossed[0])
    x_lo, x_hi, d_lo, d_hi = xs[k - 1], xs[k], deg[k - 1], deg[k]
    value = x_lo + (x_hi - x_lo) * (threshold - d_lo) / (d_hi - d_lo)
    return SafeShare(float(value), False, threshold)


def safe_share_bootstrap(
    share: ArrayLike, values: np.ndarray, threshold: float = SAFE_DEGRADATION, higher_is_better: bool = True,
    n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95,
) -> tuple[SafeShare, CI | None]:
    """Safe share of the seed-mean curve with a percentile CI from resampling seeds (paired across shares).

    ``values`` is (shares, seeds): column s is seed s at every share. A resample whose curve never crosses the
    threshold counts at the largest share, so an upper bound at the largest share means "> max share". With one
    seed there is nothing to resample and the CI is None.
    """
    xs = as_1d(share, "share")
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != xs.size:
        raise DataError(f"values: expected shape (shares={xs.size}, seeds), got {v.shape}")
    if not np.isfinite(v).all():
        raise DataError("values: every share needs a value for every seed (average incomplete seeds out first)")
    point = safe_share_from_curve(xs, v.mean(axis=1), threshold, higher_is_better)
    n_seeds = v.shape[1]
    if n_seeds < 2:
        return point, None
    idx = np.random.default_rng(seed).integers(0, n_seeds, (n_resamples, n_seeds))
    curves = v[:, idx].mean(axis=2).T  # (R, shares)
    draws = np.array([safe_share_from_curve(xs, c, threshold, higher_is_better).value
                      if c[np.argmin(xs)] != 0 else np.nan for c in curves])
    draws = draws[np.isfinite(draws)]
    low, high = np.quantile(draws, [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    return point, CI(point.value, float(low), float(high), n_seeds, confidence, "seed bootstrap", int(draws.size))


def fit_support(n_points: int, n_params: int, y: ArrayLike | None = None, censored: bool = False) -> str | None:
    """Why a fit cannot be reported (too few points, censored values, no variance), or None when it can.

    A fit needs at least one point more than its parameters (else it passes through every point and R² = 1
    says nothing), uncensored values, and variance in y.
    """
    if n_points < n_params + 1:
        return f"{n_points} points for {n_params} parameters (needs ≥ {n_params + 1})"
    if censored:
        return "censored values ('> max share': the curve never crossed) cannot enter a fit"
    if y is not None and np.ptp(np.asarray(y, dtype=float)) == 0:
        return "no variance in the fitted values"
    return None
