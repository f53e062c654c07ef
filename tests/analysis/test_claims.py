"""The claims audit on the seed paper's own transcribed tables, and verdicts that flip when one cell changes."""

import shutil

import pytest
from typer.testing import CliRunner

from synthmix.analysis import claims
from synthmix.analysis.tables_io import published_dir
from synthmix.cli import app


@pytest.fixture(scope="module")
def tables():
    return claims.load_seed_tables()


def _verdicts(tables):
    return {c.claim_id: c for c in claims.audit_seed(tables)}


def test_audit_seed_finds_the_papers_inconsistencies(tables):
    v = _verdicts(tables)
    assert v["ranking"].holds is False  # code drops 22.2 % > math 19.9 %, yet math is ranked 1
    assert v["agree:EleutherAI/pythia-6.9b:math:0.3:1:score"].holds is False  # Table 4 23.8 vs Table 1 19.3
    assert v["formula-fits-points"].holds is False
    assert "R² = -1.83" in v["formula-fits-points"].recomputed
    assert v["safe-share-curve:EleutherAI/pythia-6.9b:math"].holds is True  # 23.2 % interpolated from Table 1
    assert v["ece-75"].holds and v["acc-1.2"].holds and v["acc-10.5"].holds
    assert v["range-at-30"].holds is False and "code" in v["range-at-30"].recomputed


def test_audit_seed_printed_relative_drops_all_hold(tables):
    drops = [c for c in claims.audit_seed(tables) if c.claim_id.startswith(("rel-drop", "abs-drop"))]
    assert len(drops) == 13 and all(c.holds for c in drops)


def test_ranking_verdict_flips_when_code_cell_changes(tables):
    t3 = tables["table3"].copy()
    row = (t3.task == "code") & (t3.share == 0.3) & (t3.metric == "score")
    t3.loc[row, "value"] = 15.3  # code now drops 19.0 % < math 19.9 %
    assert claims.check_ranking(tables["table3"])[0].holds is False
    assert claims.check_ranking(t3)[0].holds is True


def test_cross_table_verdict_flips_when_table4_matches_table1(tables):
    t4 = tables["table4"].copy()
    t4.loc[(t4.iteration == 1) & (t4.metric == "accuracy"), "value"] = 19.3
    checks = claims.check_cross_table_agreement([tables["table1"], t4])
    assert checks and all(c.holds for c in checks)
    before = claims.check_cross_table_agreement([tables["table1"], tables["table4"]])
    assert any(c.holds is False for c in before)


def test_formula_verdict_flips_when_printed_r2_matches(tables):
    safe = tables["section4_2_safe_shares"].copy()
    safe.loc[safe.metric == "formula_r2", "value"] = -1.83
    assert claims.check_safe_share_formula(safe)[0].holds is True


def test_audit_seed_text_claims_verdicts(tables):
    v = _verdicts(tables)
    assert v["larger-8-15"].holds is False and v["larger-8-15"].recomputed == "pythia-6.9b 19.9%, pythia-12b 15.7%"
    assert v["four-fold-tasks"].holds is False and v["four-fold-tasks"].recomputed.startswith("4.9×")
    assert v["two-fold-410m-12b"].holds is True and v["abs-3.1-4.8"].holds is True
    assert v["hierarchy-1.3"].holds is False
    assert v["hierarchy-1.3"].detail == ("inverted even within rounding: math (19.9%) before code (22.2%); "
                                         "reading (4.5%) before commonsense (7.0%)")
    assert v["iter1-insignificant"].holds is False  # Table 1 stars 19.3 % where the text says 23.8 %, insignificant
    assert v["ece-lead-2-3"].holds is False and v["ece-lead-1-2"].holds is True  # Table 4: ECE 1.75× at 1, drop at 2
    assert v["ece-precision-recall"].holds is None and v["rate-stabilises"].holds is None
    assert v["safe-share-unprinted:EleutherAI/pythia-410m"].recomputed.startswith("7.9% if linear")
    assert v["range-at-20"].holds is False and v["range-at-20"].recomputed == "1.3% (reading) – 6.9% (code)"
    assert v["scale-robustness"].holds is True and "pythia-6.9b 4.8 pp" in v["scale-robustness"].detail
    assert v["run-counts"].holds is False and v["run-counts"].recomputed.startswith("90 / 27 / 36 = 153 (177 with")


def test_audit_seed_counts_and_unique_ids(tables):
    checks = claims.audit_seed(tables)
    assert len({c.claim_id for c in checks}) == len(checks) == 61
    assert [sum(c.holds is v for c in checks) for v in (True, False, None)] == [37, 17, 7]


def test_iteration1_verdict_flips_when_table1_matches_text(tables):
    t1 = tables["table1"].copy()
    row = (t1.task == "math") & (t1.share == 0.3) & (t1.metric == "score")
    t1.loc[row, ["value", "marker"]] = [23.8, ""]
    assert _verdicts({**tables, "table1": t1})["iter1-insignificant"].holds is True


def test_cli_audit_default_lists_seed_claims_and_exits_1():
    result = CliRunner().invoke(app, ["audit"], env={"COLUMNS": "250"})
    assert result.exit_code == 1  # some claims do not hold
    assert "61 claims: 37 hold, 17 do not, 7 can't tell" in result.output


def test_cli_audit_single_table_generic_checks_hold(tmp_path):
    table = tmp_path / "table2.csv"
    shutil.copy(published_dir() / "table2.csv", table)
    result = CliRunner().invoke(app, ["audit", str(table)])
    assert result.exit_code == 0 and "8 claims: 8 hold, 0 do not, 0 can't tell" in result.output


def test_cli_audit_folder_copy_runs_seed_claims(tmp_path):
    for f in published_dir().glob("*.csv"):
        shutil.copy(f, tmp_path / f.name)
    result = CliRunner().invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code == 1 and "61 claims: 37 hold, 17 do not, 7 can't tell" in result.output


def test_cli_audit_bad_table_exits_2_naming_row_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("model,task,share,iteration,metric,value\nm,math,30,1,score,0.5\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(bad)])
    assert result.exit_code == 2
    assert "row 1 (line 2), column 'share'" in " ".join(result.output.split())
    missing = CliRunner().invoke(app, ["audit", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output
