"""Experiment tracking: a finished micro study's conditions land in a local MLflow store, once each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmix.driver import open_db
from synthmix.errors import ConfigError
from synthmix.tracking import log_study, mlflow_uri, tracked_runs


@pytest.fixture(scope="module")
def finished(micro_first_run):
    return micro_first_run[0]


def test_tracking_is_off_by_default(finished) -> None:
    assert finished.tracking is None and log_study(finished) == 0


def test_tracked_runs_carry_the_finetune_curves_and_the_scores(finished) -> None:
    runs = tracked_runs(finished)
    assert [r.name for r in runs] == [
        "mini-120k/mini-factual seed=0 t=0 share=0 remove",
        "mini-120k/mini-factual seed=0 t=1 share=0 remove",
        "mini-120k/mini-factual seed=0 t=1 share=0.5 remove",
    ]
    first = runs[0]
    log = json.loads((Path(finished.store) / "finetune" / first.key / "step_log.json").read_text())
    assert first.curves["train_loss_curve"] == log["loss_curve"]
    assert first.curves["heldout_loss_curve"] == log["heldout_curve"] and log["heldout_curve"][0][0] == 0
    pretrain_id = [p.name for p in (Path(finished.store) / "pretrain").iterdir() if not p.name.startswith(".")]
    pre_logs = [json.loads((Path(finished.store) / "pretrain" / i / "step_log.json").read_text()) for i in pretrain_id]
    assert first.curves["pretrain_loss_curve"] in [p["loss_curve"] for p in pre_logs]
    assert first.params["training.lr"] == 1e-2 and first.params["share"] == 0.0
    db = open_db(finished)
    try:
        scores = db.frame("scores")
    finally:
        db.close()
    mine = scores[(scores.iteration == 0)]
    assert first.scores == {m: pytest.approx(v) for m, v in zip(mine.metric, mine.value, strict=True) if v == v}


def test_mlflow_logs_each_condition_once_to_a_local_folder(finished, tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow")
    study = finished.model_copy(update={"tracking": "mlflow", "tracking_dir": tmp_path / "mlruns"})
    assert log_study(study) == 3
    assert log_study(study) == 0  # already logged: nothing twice
    client = mlflow.MlflowClient(tracking_uri=mlflow_uri(tmp_path / "mlruns"))
    experiment = client.get_experiment_by_name("micro")
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    expected = {r.name: r for r in tracked_runs(finished)}
    assert set(runs) == set(expected)
    for name, run in runs.items():
        want = expected[name]
        history = client.get_metric_history(run.info.run_id, "train_loss_curve")
        assert [[h.step, h.value] for h in sorted(history, key=lambda h: h.step)] == want.curves["train_loss_curve"]
        assert run.data.params["regime"] == "remove" and run.data.params["training.method"] == "full"
        assert {k: v for k, v in run.data.metrics.items() if k not in want.curves} == pytest.approx(want.scores)


def test_missing_tracker_package_is_a_config_error(finished, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "wandb", None)
    study = finished.model_copy(update={"tracking": "wandb", "tracking_dir": tmp_path})
    with pytest.raises(ConfigError, match=r"tracking: 'wandb' is not installed; pip install 'synthmix\[wandb\]'"):
        log_study(study)


def test_wandb_writes_offline_runs_once_each(finished, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    study = finished.model_copy(update={"tracking": "wandb", "tracking_dir": tmp_path / "wandb"})
    assert log_study(study) == 3
    assert log_study(study) == 0
    runs = sorted((tmp_path / "wandb" / "wandb").glob("offline-run-*"))
    assert len(runs) == 3 and all(any(r.glob("run-*.wandb")) for r in runs)
    assert json.loads((tmp_path / "wandb" / "wandb_logged.json").read_text()) == sorted(r.key for r in tracked_runs(finished))
