"""Cross-checks of synthmix.analysis.fits against numpy.polyfit, scipy curve_fit and statsmodels OLS."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import curve_fit

from synthmix.analysis import fits
from synthmix.errors import DataError


def test_fit_safe_share_matches_statsmodels_ols():
    n = np.array([410e6, 1.4e9, 6.9e9, 12e9])
    safe = np.array([0.15, 0.18, 0.23, 0.27])
    fit = fits.fit_safe_share(n, safe)
    ols = sm.OLS(safe, sm.add_constant(np.log10(n / 1e9))).fit()
    assert (fit.a, fit.b) == pytest.approx(tuple(ols.params), abs=1e-9)
    assert fit.r2 == pytest.approx(ols.rsquared, abs=1e-9)
    ci = ols.conf_int(0.05)
    assert (fit.a_ci.low, fit.a_ci.high) == pytest.approx(tuple(ci[0]), abs=1e-9)
    assert (fit.b_ci.low, fit.b_ci.high) == pytest.approx(tuple(ci[1]), abs=1e-9)
    assert fit.predict(1e9) == pytest.approx(fit.a)


def test_fit_power_law_recovers_exponent_and_matches_curve_fit():
    x = np.array([1e8, 4e8, 1.4e9, 6.9e9, 1.2e10])
    y = 3e-3 * x**0.21 * np.exp(np.array([0.01, -0.02, 0.015, 0.0, -0.01]))
    fit = fits.fit_power_law(x, y)
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    assert fit.alpha == pytest.approx(slope, abs=1e-9)
    assert fit.a == pytest.approx(np.exp(intercept), rel=1e-9)
    (ref_loga, ref_alpha), _ = curve_fit(lambda lx, la, al: la + al * lx, np.log(x), np.log(y))
    assert fit.alpha == pytest.approx(ref_alpha, abs=1e-7)


def test_fit_power_law_rejects_zero_naming_index():
    with pytest.raises(DataError, match=r"y\[1\]"):
        fits.fit_power_law([1, 2, 3], [1, 0, 2])


def test_fit_polynomial_share_matches_polyfit_and_finds_inflection():
    share = np.array([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    y = 60 - 5 * share + 200 * share**2 - 500 * share**3 + 10 * (share - 0.25) ** 4  # inflection near 0.13
    fit = fits.fit_polynomial_share(share, y, degree=3)
    np.testing.assert_allclose(fit.coefficients, np.polyfit(share, y, 3), atol=1e-9)
    a, b = fit.coefficients[0], fit.coefficients[1]
    assert fit.inflection == pytest.approx(-b / (3 * a), abs=1e-9)
    assert fit.slope_above < fit.slope_below


def test_fit_breakpoint_recovers_hinge_and_agrees_with_curve_fit():
    share = np.repeat([0, 0.1, 0.2, 0.3, 0.4, 0.5], 3)
    noise = np.random.default_rng(0).normal(0, 0.1, share.size)
    y = 24 - 5 * share - 40 * np.maximum(0, share - 0.22) + noise
    fit = fits.fit_breakpoint(share, y, n_resamples=40, seed=1, grid_size=101)
    assert fit.breakpoint == pytest.approx(0.22, abs=0.03)
    hinge = lambda x, c, s1, ds, x0: c + s1 * x + ds * np.maximum(0, x - x0)  # noqa: E731
    popt, _ = curve_fit(hinge, share, y, p0=[fit.intercept, fit.slope_below, fit.slope_above - fit.slope_below, fit.breakpoint])
    assert fit.breakpoint == pytest.approx(popt[3], abs=0.01)  # grid step is 0.005
    assert fit.breakpoint_ci.low <= fit.breakpoint <= fit.breakpoint_ci.high


def test_safe_share_from_curve_interpolates_paper_math_curve():
    # seed Table 1, math: the 10 % relative-degradation crossing lies between 20 % and 30 %
    safe = fits.safe_share_from_curve([0, 0.1, 0.2, 0.3, 0.5], [24.1, 23.7, 22.8, 19.3, 14.2])
    d20, d30 = 1.3 / 24.1, 4.8 / 24.1
    assert safe.value == pytest.approx(0.2 + 0.1 * (0.1 - d20) / (d30 - d20), abs=1e-12)
    assert not safe.censored


def test_safe_share_from_curve_censored_when_never_crossed():
    safe = fits.safe_share_from_curve([0, 0.2, 0.5], [50, 49, 48])
    assert safe.censored and safe.value == 0.5 and safe.label() == "> 50%"


def test_safe_share_from_curve_requires_baseline():
    with pytest.raises(DataError, match="0 share"):
        fits.safe_share_from_curve([0.1, 0.2], [1, 2])


def test_safe_share_predict_ci_matches_statsmodels_mean_ci():
    n = np.array([410e6, 1.4e9, 6.9e9, 12e9])
    safe = np.array([0.15, 0.18, 0.23, 0.27])
    fit = fits.fit_safe_share(n, safe)
    ols = sm.OLS(safe, sm.add_constant(np.log10(n / 1e9))).fit()
    frame = ols.get_prediction(np.array([[1.0, np.log10(3e9 / 1e9)]])).summary_frame(alpha=0.05)
    ci = fit.predict_ci(3e9)
    assert (ci.estimate, ci.low, ci.high) == pytest.approx(
        (frame["mean"].iloc[0], frame["mean_ci_lower"].iloc[0], frame["mean_ci_upper"].iloc[0]), abs=1e-9)


def test_fit_support_refuses_too_few_points_censored_values_and_no_variance():
    from synthmix.analysis.fits import fit_support

    assert fit_support(4, 4) == "4 points for 4 parameters (needs ≥ 5)"
    assert fit_support(2, 2, [0.1, 0.2]) == "2 points for 2 parameters (needs ≥ 3)"
    assert fit_support(3, 2, [0.1, 0.2, 0.5], censored=True).startswith("censored values")
    assert fit_support(3, 2, [0.2, 0.2, 0.2]) == "no variance in the fitted values"
    assert fit_support(5, 4, [0.5, 0.4, 0.3, 0.2, 0.1]) is None


def test_safe_share_bootstrap_resamples_seeds_and_brackets_the_point():
    from synthmix.analysis.fits import safe_share_bootstrap, safe_share_from_curve

    shares = np.array([0.0, 0.1, 0.3, 0.5])
    values = np.array([[0.60, 0.62, 0.58], [0.58, 0.59, 0.57], [0.50, 0.55, 0.49], [0.40, 0.45, 0.41]])
    point, ci = safe_share_bootstrap(shares, values, n_resamples=500, seed=0)
    assert point == safe_share_from_curve(shares, values.mean(axis=1))
    assert ci.low <= point.value <= ci.high and ci.method == "seed bootstrap" and ci.n == 3
    again = safe_share_bootstrap(shares, values, n_resamples=500, seed=0)[1]
    assert (again.low, again.high) == (ci.low, ci.high)
    assert safe_share_bootstrap(shares, values[:, :1])[1] is None
