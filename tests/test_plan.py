"""The planner: deterministic DAGs, shared steps listed once, and the paper's counts."""

from __future__ import annotations

from pathlib import Path


from synthmix.config import parse_study
from synthmix.plan import build_plan

def _study(blocks: list[dict], **extra: object):
    return parse_study({"name": "t", "blocks": blocks, **extra}, Path("t.yaml"))


def _block(**kw: object) -> dict:
    base = {"name": "b", "models": ["mini-120k"], "tasks": ["mini-math"], "shares": [0.0, 0.5], "iterations": [1]}
    return {**base, **kw}


def test_plan_is_deterministic_and_topological() -> None:
    study = _study([_block(seeds=[0, 1], regimes=["replace", "accumulate", "remove"], iterations=[2])])
    a, b = build_plan(study), build_plan(study)
    assert list(a.steps) == list(b.steps)
    seen: set[str] = set()
    for key, step in a.steps.items():
        assert set(step.inputs.values()) <= seen, f"{key} listed before its inputs"
        seen.add(key)


def test_iteration0_model_and_pool_are_shared_by_all_shares() -> None:
    plan = build_plan(_study([_block(shares=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5])]))
    counts = plan.counts()
    assert counts["pretrain"] == 1
    assert counts["generate"] == 1, "one iteration-1 pool serves every share"
    assert counts["finetune"] == 1 + 6, "iteration 0 once, then one per share"
    assert counts["evaluate"] == counts["finetune"]


def test_share_zero_needs_no_generation() -> None:
    plan = build_plan(_study([_block(shares=[0.0])]))
    assert "generate" not in plan.counts()


def test_unfiltered_regimes_share_the_first_pool_and_verified_writes_its_own() -> None:
    plan = build_plan(_study([_block(regimes=["replace", "accumulate", "accumulate-subsample", "verified"])]))
    pools = [s for s in plan.steps.values() if s.kind == "generate"]
    assert sorted(s.params["verified"] for s in pools) == [False, True]


def test_accumulate_mixes_draw_on_every_earlier_pool() -> None:
    plan = build_plan(_study([_block(regimes=["accumulate"], iterations=[3])]))
    mixes = [s for s in plan.steps.values() if s.kind == "mix" and s.params["share"] == 0.5]
    assert sorted(len(m.inputs) for m in mixes) == [1, 2, 3]


def test_remove_control_has_no_pool_and_replace_only_the_latest() -> None:
    plan = build_plan(_study([_block(regimes=["replace", "remove"], iterations=[2])]))
    mixes = {(s.params["regime"], s.params["share"]): s for s in plan.steps.values() if s.kind == "mix"}
    assert mixes[("remove", 0.5)].inputs == {}
    replace = [s for s in plan.steps.values() if s.kind == "mix" and s.params["regime"] == "replace" and s.params["share"] == 0.5]
    assert sorted(list(m.inputs) for m in replace) == [["pool1"], ["pool2"]]


def test_iteration_t_starts_from_iteration0_model_by_default() -> None:
    plan = build_plan(_study([_block(iterations=[2])]))
    ft0 = [k for k, s in plan.steps.items() if s.kind == "finetune" and s.inputs["init"].startswith("pretrain")]
    later = [s for s in plan.steps.values() if s.kind == "finetune" and not s.inputs["init"].startswith("pretrain")]
    assert len(ft0) == 1 and all(s.inputs["init"] == ft0[0] for s in later)
    prev = build_plan(_study([_block(iterations=[2])], training={"init_from": "previous"}))
    inits = {s.inputs["init"] for s in prev.steps.values() if s.kind == "finetune"}
    assert len(inits) == 4, "pretrain, iteration 0, and each share's iteration-1 model for iteration 2"


def test_conditions_include_earlier_iterations() -> None:
    plan = build_plan(_study([_block(iterations=[2], shares=[0.3])]))
    assert sorted({(c.iteration, c.share) for c in plan.conditions}) == [(0, 0.0), (1, 0.3), (2, 0.3)]


def test_largest_first_starts_pretraining_biggest_rung_first_and_keeps_plan_order_within_a_size() -> None:
    from synthmix.driver import largest_first

    plan = build_plan(_study([_block(models=["mini-120k", "mini-280k", "mini-3.7m", "mini-860k"], shares=[0.0], iterations=[0])]))
    order = largest_first(plan, list(plan.steps))
    kinds = [plan.steps[k].kind for k in order]
    assert kinds[:4] == ["pretrain"] * 4 and "pretrain" not in kinds[4:], "pretraining gates everything else of its rung"
    assert [plan.steps[k].params["rung"] for k in order[:4]] == ["mini-3.7m", "mini-860k", "mini-280k", "mini-120k"]
    rung = {k: next(c.model for c in plan.steps[k].conditions) for k in order}
    for model in ("mini-120k", "mini-3.7m"):
        assert [k for k in order if rung[k] == model] == [k for k in plan.steps if rung[k] == model]


def test_models_only_test_step_modules_know_count_as_size_zero() -> None:
    from synthmix.driver import _model_size

    assert (_model_size("mini-a"), _model_size("mini-120k")) == (0, 121_440)


def test_pretraining_follows_the_world_size_of_the_studys_tasks() -> None:
    default = build_plan(_study([_block(tasks=["mini-commonsense", "mini-factual"])]))
    large = build_plan(_study([_block(tasks=["mini-commonsense", "mini-factual"])],
                              tasks={"mini-commonsense": {"n_objects": 1100}, "mini-factual": {"n_people": 1000}}))
    (pre_default,) = [s for s in default.steps.values() if s.kind == "pretrain"]
    (pre_large,) = [s for s in large.steps.values() if s.kind == "pretrain"]
    assert "n_objects" not in pre_default.params and "n_people" not in pre_default.params
    assert pre_large.params["n_objects"] == 1100 and pre_large.params["n_people"] == 1000
    assert pre_large.key != pre_default.key


def test_every_shipped_study_loads_and_plans() -> None:
    from synthmix.config import load_study

    studies = sorted((Path(__file__).parents[1] / "studies").glob("*.yaml"))
    assert len(studies) >= 5
    for path in studies:
        plan = build_plan(load_study(path))
        assert plan.counts()["evaluate"] > 0, path.name


def test_pretraining_row_length_enters_the_params_only_when_it_leaves_the_default() -> None:
    from synthmix.steps.pretrain import Params, batch_size

    default = build_plan(_study([_block()]))
    longer = build_plan(_study([_block()], pretrain={"seq_len": 512}))
    (pre_default,) = [s for s in default.steps.values() if s.kind == "pretrain"]
    (pre_longer,) = [s for s in longer.steps.values() if s.kind == "pretrain"]
    assert "seq_len" not in pre_default.params and pre_longer.params["seq_len"] == 512
    rows = [batch_size(Params(rung="mini-280k", seq_len=n)) for n in (128, 512)]
    assert rows == [16, 4], "a step sees the same tokens at any row length"
