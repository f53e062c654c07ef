"""The claims audit on the seed paper's own transcribed tables, and verdicts that flip when one cell changes."""

import pytest

from synthmix.analysis import claims


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
