"""`synthmix monitor`: ECE early warning on prediction files, for CI pipelines (levels ok / warn / critical).

Every current file is compared with the baseline on the same validation set (same rows, same order):
ECE (10 equal-width bins, bin k holds confidences in [k/10, (k+1)/10), 1.0 in the last), the
overconfidence gap OC = mean confidence − accuracy, and the ratio ECE_current / ECE_baseline with a
paired bootstrap CI (the same example indices in both files). The level follows docs/architecture.md's rule:
warn at ratio ≥ 1.5, critical at ≥ 2 (both parameters; never fitted on the data being scored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthmix.analysis.comparisons import compare_examples
from synthmix.analysis.stats import CI, ECE_MIN_EXAMPLES, resample_indices
from synthmix.analysis.tables_io import read_predictions
from synthmix.errors import DataError
from synthmix.metrics.calibration import (
    expected_calibration_error,
    expected_calibration_error_resampled,
)

LEVELS = ("ok", "warn", "critical")
EXIT_CODES = {"ok": 0, "warn": 3, "critical": 4}


@dataclass(frozen=True)
class Calibration:
    """Accuracy, ECE and OC of one prediction file, each with a bootstrap CI."""

    path: str
    n: int
    accuracy: CI
    ece: CI
    oc_gap: CI


@dataclass(frozen=True)
class CurrentCheck:
    """One current file against the baseline: its calibration, the ECE ratio and OC change with CIs, the accuracy
    change with the comparison engine's exact McNemar test (test-set noise only), and the level."""

    calibration: Calibration
    ece_ratio: CI
    oc_change: CI
    level: str
    accuracy_change: CI
    accuracy_pvalue: float


@dataclass(frozen=True)
class MonitorResult:
    """The baseline, each current file's check, the worst level and notes on reliability."""

    baseline: Calibration
    currents: tuple[CurrentCheck, ...]
    level: str
    warn_ratio: float
    critical_ratio: float
    notes: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        """0 ok, 3 warn, 4 critical (docs/architecture.md's exit codes for `monitor`)."""
        return EXIT_CODES[self.level]


def _ci(estimate: float, draws: np.ndarray, n: int, confidence: float = 0.95) -> CI:
    """Percentile CI from bootstrap draws (non-finite draws, e.g. a ratio over a zero ECE, are ignored)."""
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return CI(estimate, float("nan"), float("nan"), n, confidence, "percentile", draws.size)
    lo, hi = np.quantile(finite, [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    return CI(float(estimate), float(lo), float(hi), n, confidence, "percentile", draws.size)


def _calibration(path: str, frame: pd.DataFrame, idx: np.ndarray, n_bins: int) -> tuple[Calibration, np.ndarray, np.ndarray]:
    """A file's calibration with CIs, plus its bootstrap ECE and OC draws for paired comparisons."""
    conf, corr = frame["confidence"].to_numpy(float), frame["correct"].to_numpy(float)
    n = conf.size
    ece_b = expected_calibration_error_resampled(conf, corr, idx, n_bins)
    acc_b = corr[idx].mean(axis=1)
    oc_b = conf[idx].mean(axis=1) - acc_b
    ece = expected_calibration_error(conf, corr, n_bins)
    cal = Calibration(path, n, _ci(corr.mean(), acc_b, n), _ci(ece, ece_b, n), _ci(conf.mean() - corr.mean(), oc_b, n))
    return cal, ece_b, oc_b


def level_for(ratio: float, warn_ratio: float = 1.5, critical_ratio: float = 2.0) -> str:
    """docs/architecture.md's rule on an ECE ratio: critical ≥ critical_ratio, warn ≥ warn_ratio, else ok."""
    if ratio >= critical_ratio:
        return "critical"
    return "warn" if ratio >= warn_ratio else "ok"


def _check_same_examples(base: pd.DataFrame, cur: pd.DataFrame, base_path: str, cur_path: str) -> None:
    """Current and baseline must score the same validation set: equal lengths and, when given, equal example ids."""
    if len(base) != len(cur):
        raise DataError(
            f"{cur_path}: {len(cur)} rows but the baseline {base_path} has {len(base)}; monitor compares predictions "
            "on the same validation set, one row per example in the same order"
        )
    if "example_id" in base and "example_id" in cur:
        diff = np.flatnonzero(base["example_id"].to_numpy() != cur["example_id"].to_numpy())
        if diff.size:
            i = int(diff[0])
            raise DataError(
                f"{cur_path}: row {i + 1}, column 'example_id': {cur['example_id'].iloc[i]!r} but the baseline has "
                f"{base['example_id'].iloc[i]!r}; write both files in the same example order"
            )


def monitor_files(
    baseline: str | Path,
    currents: Sequence[str | Path],
    warn_ratio: float = 1.5,
    critical_ratio: float = 2.0,
    n_bins: int = 10,
    n_resamples: int = 1000,
    seed: int = 0,
    columns: dict[str, str] | None = None,
    where: dict[str, str] | None = None,
) -> MonitorResult:
    """Compare each current prediction file with the baseline; the result's level is the worst over currents.

    ``columns`` (synthmix name → the files' name) and ``where`` (column = value) apply to every file read.
    """
    if not currents:
        raise DataError("currents: pass at least one CURRENT prediction file after the BASELINE")
    if not 0 < warn_ratio <= critical_ratio:
        raise DataError(f"thresholds: need 0 < warn ≤ critical (got {warn_ratio}, {critical_ratio})")
    base = read_predictions(baseline, columns, where)
    frames = [(str(c), read_predictions(c, columns, where)) for c in currents]
    for path, frame in frames:
        _check_same_examples(base, frame, str(baseline), path)
    n = len(base)
    idx = resample_indices(n, n_resamples, np.random.default_rng(seed))
    base_cal, base_ece_b, base_oc_b = _calibration(str(baseline), base, idx, n_bins)
    checks = []
    for path, frame in frames:
        cal, ece_b, oc_b = _calibration(path, frame, idx, n_bins)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = cal.ece.estimate / base_cal.ece.estimate if base_cal.ece.estimate > 0 else float("inf")
            ratio_ci = _ci(ratio, ece_b / base_ece_b, n)
        oc_ci = _ci(cal.oc_gap.estimate - base_cal.oc_gap.estimate, oc_b - base_oc_b, n)
        acc = compare_examples(base["correct"].to_numpy(float), frame["correct"].to_numpy(float), 0.0, seed=seed)
        diff = cal.accuracy.estimate - base_cal.accuracy.estimate
        acc_ci = CI(diff, acc.get("diff_low", diff), acc.get("diff_high", diff), n, 0.95, "t over examples")
        checks.append(CurrentCheck(cal, ratio_ci, oc_ci, level_for(ratio, warn_ratio, critical_ratio), acc_ci,
                                   float(acc["pvalue"])))
    notes = []
    if n < ECE_MIN_EXAMPLES:
        notes.append(f"{n} examples is too few for {n_bins}-bin ECE to be reliable (HELM's rule of thumb: ~{ECE_MIN_EXAMPLES}+)")
    if base_cal.ece.estimate == 0:
        notes.append("the baseline ECE is 0, so any calibration error in a current file counts as critical")
    level = max((c.level for c in checks), key=LEVELS.index)
    return MonitorResult(base_cal, tuple(checks), level, warn_ratio, critical_ratio, tuple(notes))
