"""Reading users' files by content (CSV, JSONL, Parquet), with column mapping and a condition filter."""

import numpy as np
import pandas as pd
import pytest
from report.conftest import build_study

from synthmix.analysis.tables_io import read_predictions, read_tidy_table
from synthmix.driver import open_db
from synthmix.errors import DataError
from synthmix.results import export_tables


@pytest.fixture(scope="module")
def examples_parquet(tmp_path_factory):
    """synthmix's own examples.parquet, exported from the report tests' hand-built database."""
    tmp = tmp_path_factory.mktemp("export")
    db = open_db(build_study(tmp))
    try:
        export_tables(db, tmp / "export", "parquet")
    finally:
        db.close()
    return tmp / "export" / "examples.parquet"


def test_read_predictions_asks_for_a_filter_on_synthmix_examples_parquet(examples_parquet):
    with pytest.raises(DataError, match=r"examples\.parquet: row \d+ \(line \d+\), column 'example_id': 'ex0' repeats "
                                        r"an earlier row .*--where model=NAME"):
        read_predictions(examples_parquet)


def test_read_predictions_reads_one_condition_of_synthmix_examples_parquet(examples_parquet):
    where = {"model": "mini-a", "task": "math", "share": "0.5", "iteration": "1", "seed": "0"}
    frame = read_predictions(examples_parquet, where=where)
    raw = pd.read_parquet(examples_parquet)
    rows = raw[(raw.model == "mini-a") & (raw.task == "math") & (raw.share == 0.5) & (raw.iteration == 1) & (raw.seed == 0)]
    assert len(frame) == len(rows) == 60
    np.testing.assert_array_equal(frame["confidence"].to_numpy(), rows["confidence"].to_numpy())
    np.testing.assert_array_equal(frame["correct"].to_numpy(), rows["correct"].to_numpy())


def test_read_tidy_table_maps_columns_and_filters_rows(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("model,task,share,iteration,metric,acc\nm,math,0,1,score,0.5\nm,code,0,1,score,0.4\n"
                    "m,math,0.5,1,score,0.3\n")
    table = read_tidy_table(path, columns={"value": "acc"}, where={"task": "math"})
    assert table["value"].tolist() == [0.5, 0.3] and table["task"].tolist() == ["math", "math"]


def test_read_tidy_table_names_the_line_of_a_bad_row_after_filtering(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("model,task,share,iteration,metric,value\nm,code,0,1,score,0.4\nm,math,30,1,score,0.3\n")
    with pytest.raises(DataError, match=r"mine\.csv: row 1 \(line 3\), column 'share': 30.0 is outside \[0, 1\]"):
        read_tidy_table(path, where={"task": "math"})


def test_read_tidy_table_tells_jsonl_by_content_whatever_the_name(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text('{"model": "m", "task": "math", "share": 0, "iteration": 1, "metric": "score", "value": 0.5}\n')
    assert read_tidy_table(path)["value"].tolist() == [0.5]


def test_readers_refuse_binary_files_and_unknown_mappings(tmp_path):
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(DataError, match=r"model\.bin: not a CSV, JSON Lines or Parquet file"):
        read_predictions(binary)
    csv = tmp_path / "p.csv"
    csv.write_text("p,ok\n0.5,1\n")
    with pytest.raises(DataError, match=r"column 'prob' \(mapped to 'confidence'\) is not in the file"):
        read_predictions(csv, columns={"confidence": "prob"})
    with pytest.raises(DataError, match=r"no row has correct = 7 \(values found: 1\)"):
        read_predictions(csv, columns={"confidence": "p", "correct": "ok"}, where={"correct": "7"})
    assert read_predictions(csv, columns={"confidence": "p", "correct": "ok"})["correct"].tolist() == [1]
