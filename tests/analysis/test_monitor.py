"""monitor on prediction files written here: ECE against netcal, levels, exit codes, malformed input."""

import json

import numpy as np
import pytest

from synthmix.analysis import monitor
from synthmix.errors import DataError


def _predictions(n, overconfidence, seed):
    rng = np.random.default_rng(seed)
    p_true = rng.uniform(0.3, 0.9, n)
    correct = (rng.random(n) < p_true).astype(int)
    conf = np.clip(p_true + overconfidence, 0, 1)
    return conf, correct


def _write_csv(path, conf, correct):
    path.write_text("example_id,confidence,correct\n" + "".join(f"q{i},{float(c)!r},{int(k)}\n" for i, (c, k) in enumerate(zip(conf, correct))))
    return path


def _write_jsonl(path, conf, correct):
    path.write_text("".join(json.dumps({"example_id": f"q{i}", "confidence": float(c), "correct": int(k)}) + "\n"
                            for i, (c, k) in enumerate(zip(conf, correct))))
    return path


@pytest.mark.parametrize("shift,level,code", [(0.0, "ok", 0), (0.2, "critical", 4)])
def test_monitor_files_levels_and_exit_codes(tmp_path, shift, level, code):
    conf, correct = _predictions(1000, 0.05, 2)
    base = _write_csv(tmp_path / "base.csv", conf, correct)
    cur = _write_jsonl(tmp_path / "cur.jsonl", np.clip(conf + shift, 0, 1), correct)
    res = monitor.monitor_files(base, [cur], n_resamples=200)
    assert res.level == level and res.exit_code == code
    check = res.currents[0]
    assert check.ece_ratio.low <= check.ece_ratio.estimate <= check.ece_ratio.high


def test_level_for_thresholds():
    assert [monitor.level_for(r) for r in (1.0, 1.5, 1.99, 2.0)] == ["ok", "warn", "warn", "critical"]


def test_monitor_small_sample_is_flagged(tmp_path):
    conf, correct = _predictions(164, 0.05, 3)
    base = _write_csv(tmp_path / "b.csv", conf, correct)
    res = monitor.monitor_files(base, [base], n_resamples=50)
    assert res.level == "ok" and any("164 examples" in n for n in res.notes)


def test_monitor_missing_column_names_file_row_and_column(tmp_path):
    base = tmp_path / "base.csv"
    base.write_text("example_id,confidence\nq0,0.5\n")
    with pytest.raises(DataError, match=r"base\.csv: row 1 \(line 2\), column 'correct': missing"):
        monitor.monitor_files(base, [base])


def test_monitor_confidence_out_of_range_names_row(tmp_path):
    conf, correct = _predictions(5, 0.0, 4)
    conf[3] = 1.7
    cur = _write_jsonl(tmp_path / "cur.jsonl", conf, correct)
    with pytest.raises(DataError, match=r"cur\.jsonl: row 4 \(line 4\), column 'confidence': 1\.7 is outside \[0, 1\]"):
        monitor.monitor_files(cur, [cur])


def test_monitor_empty_file(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match=r"empty\.jsonl: empty file"):
        monitor.monitor_files(empty, [empty])


def test_monitor_mismatched_lengths(tmp_path):
    conf, correct = _predictions(10, 0.0, 5)
    base = _write_csv(tmp_path / "base.csv", conf, correct)
    cur = _write_csv(tmp_path / "cur.csv", conf[:8], correct[:8])
    with pytest.raises(DataError, match=r"cur\.csv: 8 rows but the baseline .*base\.csv has 10"):
        monitor.monitor_files(base, [cur])


def test_monitor_short_csv_row_names_row(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("confidence,correct\n0.5,1\n0.7\n")
    with pytest.raises(DataError, match=r"bad\.csv: row 2 \(line 3\) has 1 fields but the header has 2"):
        monitor.monitor_files(bad, [bad])


def test_monitor_correct_not_binary(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("confidence,correct\n0.5,1\n0.7,2\n")
    with pytest.raises(DataError, match=r"row 2 \(line 3\), column 'correct'"):
        monitor.monitor_files(bad, [bad])


def test_monitor_accuracy_change_is_the_engine_exact_mcnemar(tmp_path):
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    conf, correct = _predictions(400, 0.0, seed=1)
    worse = correct.copy()
    worse[np.flatnonzero(correct)[:30]] = 0
    result = monitor.monitor_files(_write_csv(tmp_path / "b.csv", conf, correct), [_write_csv(tmp_path / "c.csv", conf, worse)],
                                   n_resamples=100)
    check = result.currents[0]
    table = [[np.sum((correct == 1) & (worse == 1)), np.sum((correct == 1) & (worse == 0))],
             [np.sum((correct == 0) & (worse == 1)), np.sum((correct == 0) & (worse == 0))]]
    assert check.accuracy_pvalue == pytest.approx(sm_mcnemar(table, exact=True).pvalue, abs=1e-15)
    assert check.accuracy_change.estimate == pytest.approx(-30 / 400)
    assert check.accuracy_change.low < -30 / 400 < check.accuracy_change.high < 0
