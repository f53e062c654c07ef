"""Calibration of top-label confidence: ECE (plain, debiased, equal-mass), overconfidence, Brier, reliability.

Inputs everywhere are ``confidence`` (the model's ``max_y P(y|x)`` per item, in [0, 1]) and ``correct``
(0/1 or booleans per item). Equal-width bin ``m`` of ``M`` holds the items with
``floor(confidence * M) == m``, i.e. ``m/M <= confidence < (m+1)/M``; an exact 1.0 lands in the last bin.
"""

from dataclasses import dataclass

import numpy as np

from synthmix.metrics import (
    MetricInputError,
    check_binary,
    check_probabilities,
    check_same_length,
)

__all__ = [
    "RELIABLE_MIN_ITEMS",
    "ReliabilityTable",
    "adaptive_calibration_error",
    "brier_score",
    "debiased_expected_calibration_error",
    "expected_calibration_error",
    "expected_calibration_error_ci",
    "expected_calibration_error_resampled",
    "overconfidence_gap",
    "reliability_table",
]

RELIABLE_MIN_ITEMS = 300
"""Below this many items a 10-bin ECE is mostly noise (HELM's rule of thumb); reports flag such values."""


@dataclass(frozen=True)
class ReliabilityTable:
    """Every equal-width bin, empty ones included, so rows line up with ``edges``.

    ``accuracy`` and ``confidence`` are NaN where ``count`` is 0 (undefined, not zero).
    """

    edges: np.ndarray  # (M + 1,) bin edges from 0 to 1
    count: np.ndarray  # (M,) items per bin
    accuracy: np.ndarray  # (M,) mean of `correct` per bin
    confidence: np.ndarray  # (M,) mean confidence per bin


def _checked(confidence: object, correct: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert the two inputs every calibration metric takes."""
    conf = check_probabilities("confidence", confidence)
    hits = check_binary("correct", correct)
    check_same_length(confidence=conf, correct=hits)
    return conf, hits


def _check_bins(n_bins: object) -> int:
    """Return ``n_bins`` as a positive int or raise naming it."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise MetricInputError(f"n_bins = {n_bins!r} must be a positive integer")
    return int(n_bins)


def _bin_index(conf: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bin of each confidence; an exact 1.0 falls in the last bin."""
    return np.minimum((conf * n_bins).astype(np.intp), n_bins - 1)


def _bin_sums(conf: np.ndarray, hits: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width bin: item count, sum of confidence, sum of correct."""
    index = _bin_index(conf, n_bins)  # (N,) bin of each item
    count = np.bincount(index, minlength=n_bins)
    conf_sum = np.bincount(index, weights=conf, minlength=n_bins)
    hit_sum = np.bincount(index, weights=hits, minlength=n_bins)
    return count, conf_sum, hit_sum


def expected_calibration_error(confidence: object, correct: object, n_bins: int = 10) -> float:
    """ECE with equal-width bins: sum over bins of |B_m|/N * |acc(B_m) - conf(B_m)|; lower is better.

    >>> expected_calibration_error([0.9, 0.9, 0.6, 0.6], [1, 0, 1, 1])
    0.4
    """
    conf, hits = _checked(confidence, correct)
    count, conf_sum, hit_sum = _bin_sums(conf, hits, _check_bins(n_bins))
    return float(np.abs(hit_sum - conf_sum).sum() / conf.size)


def expected_calibration_error_resampled(confidence: object, correct: object, idx: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """The ECE of every bootstrap resample at once: row r of ``idx`` (R, N) holds the item indices of resample r.

    One ``bincount`` over (resample, bin) pairs replaces R calls of ``expected_calibration_error``.
    """
    conf, hits = _checked(confidence, correct)
    n_bins = _check_bins(n_bins)
    r, n = idx.shape
    gap = (hits - conf)[idx]  # (R, n)
    flat = (np.arange(r)[:, None] * n_bins + _bin_index(conf, n_bins)[idx]).ravel()  # (R·n,)
    per_bin = np.bincount(flat, weights=gap.ravel(), minlength=r * n_bins).reshape(r, n_bins)
    return np.abs(per_bin).sum(axis=1) / n


def expected_calibration_error_ci(confidence: object, correct: object, n_bins: int = 10, n_resamples: int = 1000,
                                  level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the plain ECE: items resampled with replacement ``n_resamples`` times.

    Deterministic given ``seed``; the interval describes test-set noise around the plug-in ECE (which is biased
    upwards, so the interval can lie above the debiased estimate).
    """
    conf, hits = _checked(confidence, correct)
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise MetricInputError(f"n_resamples = {n_resamples!r} must be a positive integer")
    if not 0.0 < level < 1.0:
        raise MetricInputError(f"level = {level!r} must lie strictly between 0 and 1")
    idx = np.random.default_rng(seed).integers(0, conf.size, size=(n_resamples, conf.size))  # (R, N)
    eces = expected_calibration_error_resampled(conf, hits, idx, n_bins)
    tail = (1.0 - level) / 2.0
    return float(np.quantile(eces, tail)), float(np.quantile(eces, 1.0 - tail))


def debiased_expected_calibration_error(
    confidence: object, correct: object, n_bins: int = 10, n_resamples: int = 1000, seed: int = 0
) -> float:
    """ECE with its finite-sample upward bias removed (Kumar, Liang & Ma 2019, "normal debiasing").

    The plug-in ECE overestimates because |noisy accuracy - confidence| is biased upwards. The bias
    is estimated by redrawing each bin's accuracy from N(acc, acc(1-acc)/n) ``n_resamples`` times;
    the estimate is ``2 * ECE - mean(resampled ECE)``. It can be slightly negative for a calibrated
    model; that is the estimator, not an error. Deterministic given ``seed``.
    """
    conf, hits = _checked(confidence, correct)
    count, conf_sum, hit_sum = _bin_sums(conf, hits, _check_bins(n_bins))
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise MetricInputError(f"n_resamples = {n_resamples!r} must be a positive integer")
    filled = count > 0
    n = count[filled].astype(np.float64)  # (B,) non-empty bins only
    accuracy, mean_conf = hit_sum[filled] / n, conf_sum[filled] / n
    weight = n / conf.size
    plugin = float(weight @ np.abs(accuracy - mean_conf))
    spread = np.sqrt(accuracy * (1.0 - accuracy) / n)
    draws = np.random.default_rng(seed).normal(accuracy, spread, size=(n_resamples, n.size))  # (R, B)
    resampled = np.abs(draws - mean_conf) @ weight  # (R,)
    return 2.0 * plugin - float(resampled.mean())


def adaptive_calibration_error(confidence: object, correct: object, n_bins: int = 10) -> float:
    """ECE with equal-mass bins: items sorted by confidence and split into ``n_bins`` near-equal groups."""
    conf, hits = _checked(confidence, correct)
    n_bins = _check_bins(n_bins)
    order = np.argsort(conf, kind="stable")
    index = np.empty(conf.size, dtype=np.intp)
    index[order] = np.arange(conf.size) * min(n_bins, conf.size) // conf.size  # (N,) equal-mass bin of each item
    conf_sum = np.bincount(index, weights=conf)
    hit_sum = np.bincount(index, weights=hits)
    return float(np.abs(hit_sum - conf_sum).sum() / conf.size)


def overconfidence_gap(confidence: object, correct: object) -> float:
    """Mean confidence minus accuracy (the study's OC); positive means overconfident."""
    conf, hits = _checked(confidence, correct)
    return float(conf.mean() - hits.mean())


def brier_score(confidence: object, correct: object) -> float:
    """Top-label Brier score, mean of (confidence - correct)^2; lower is better (the conventional name)."""
    conf, hits = _checked(confidence, correct)
    return float(np.mean((conf - hits) ** 2))


def reliability_table(confidence: object, correct: object, n_bins: int = 10) -> ReliabilityTable:
    """Per equal-width bin count, accuracy and mean confidence, every bin kept (the reliability diagram's data)."""
    conf, hits = _checked(confidence, correct)
    n_bins = _check_bins(n_bins)
    count, conf_sum, hit_sum = _bin_sums(conf, hits, n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(count > 0, hit_sum / count, np.nan)
        mean_conf = np.where(count > 0, conf_sum / count, np.nan)
    return ReliabilityTable(np.linspace(0.0, 1.0, n_bins + 1), count, accuracy, mean_conf)
