"""Optional experiment tracking: each finished condition's parameters, loss curves and scores, logged once.

``tracking: mlflow`` writes an MLflow file store in the study's ``tracking_dir`` (default
``<study_dir>/tracking``; ``mlflow ui --backend-store-uri <that folder>`` shows it); ``tracking: wandb`` writes W&B offline runs there (``wandb sync`` uploads them
later). Nothing needs a network. One tracker run per condition, named by the condition's label, holding:
the condition and the study's training and generation settings as parameters; the fine-tune's training
loss and held-out loss as step-indexed metrics ``train_loss_curve`` and ``heldout_loss_curve`` (and, for a mini
rung, its pretraining's as ``pretrain_loss_curve`` and ``pretrain_heldout_curve``); every score of the
condition as a final metric. Logging reads the results database and the artifacts only (after a run), so
it never enters an artifact id, and a condition already logged (same fine-tune artifact) is skipped.
The trackers are optional extras (``synthmix[tracking]`` for MLflow, ``synthmix[wandb]``); a missing one is a clear error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.config import Study
from synthmix.errors import ConfigError
from synthmix.plan import CONDITION_COLUMNS, Condition

KEY_TAG = "synthmix.finetune_artifact"


@dataclass(frozen=True)
class TrackedRun:
    """What one condition logs: its name, parameters, curves (metric → [[step, value]]) and final scores."""

    name: str
    key: str  # the condition's fine-tune artifact id: a condition is logged again only when it changes
    params: dict[str, Any]
    curves: dict[str, list[list[float]]] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)


def tracked_runs(study: Study) -> list[TrackedRun]:
    """Every condition with a finished fine-tune, as the runs a tracker logs (from the database and artifacts)."""
    from synthmix.driver import open_db

    db = open_db(study)
    try:
        runs = db.frame("runs")
        scores = db.frame("scores")
    finally:
        db.close()
    if runs.empty:
        return []
    done = runs[(runs["role"] == "finetune") & (runs["status"] == "done")]
    pretrained = runs[(runs["role"] == "pretrain") & (runs["status"] == "done")]
    settings = {"training": study.training.model_dump(mode="json"), "generation": study.generation.model_dump(mode="json")}
    out = []
    for _, row in done.sort_values(list(CONDITION_COLUMNS)).iterrows():
        cond = Condition(**{c: row[c] for c in CONDITION_COLUMNS})
        mine = scores
        for c in CONDITION_COLUMNS:
            mine = mine[mine[c] == row[c]]
        log = _step_log(study, "finetune", str(row["artifact_id"]))
        curves = {"train_loss_curve": log.get("loss_curve", []), "heldout_loss_curve": log.get("heldout_curve", [])}
        rung = pretrained[pretrained["model"] == row["model"]]
        if not rung.empty:
            pre = _step_log(study, "pretrain", str(rung["artifact_id"].iloc[0]))
            curves |= {"pretrain_loss_curve": pre.get("loss_curve", []), "pretrain_heldout_curve": pre.get("heldout_curve", [])}
        out.append(TrackedRun(name=cond.label(), key=str(row["artifact_id"]),
                              params={**cond.as_dict(), **_flatten(settings)},
                              curves={k: v for k, v in curves.items() if v},
                              scores={str(m): float(v) for m, v in zip(mine["metric"], mine["value"], strict=True) if v == v}))
    return out


def _step_log(study: Study, kind: str, artifact_id: str) -> dict[str, Any]:
    """An artifact's ``step_log.json`` (empty when it has none)."""
    path = Path(study.store) / kind / artifact_id / "step_log.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"training": {"lr": 1e-3}}`` → ``{"training.lr": 1e-3}`` (trackers take flat parameters)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def log_study(study: Study) -> int:
    """Log every finished condition not logged yet to the study's tracker; returns how many were logged."""
    if study.tracking is None:
        return 0
    assert study.tracking_dir is not None
    runs = tracked_runs(study)
    folder = Path(study.tracking_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if study.tracking == "mlflow":
        return _log_mlflow(study.name, runs, folder)
    return _log_wandb(study.name, runs, folder)


EXTRAS = {"mlflow": "tracking", "wandb": "wandb"}


def _import(name: str) -> Any:
    """The tracker's package, or a ConfigError saying how to install it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigError(f"tracking: {name!r} is not installed; pip install 'synthmix[{EXTRAS[name]}]', "
                          "or remove the tracking key") from None


def mlflow_uri(folder: Path) -> str:
    """The MLflow tracking URI of the local file store in ``folder``.

    MLflow 3 keeps the file store in maintenance mode behind ``MLFLOW_ALLOW_FILE_STORE``; it is the one
    backend the light ``mlflow-skinny`` client writes without a database or server, so synthmix opts in.
    """
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return Path(folder).resolve().as_uri()


def _log_mlflow(experiment: str, runs: list[TrackedRun], folder: Path) -> int:
    """One MLflow run per condition in the file store in ``folder``; conditions already there are skipped."""
    mlflow = _import("mlflow")
    client = mlflow.MlflowClient(tracking_uri=mlflow_uri(folder))
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    logged = {r.data.tags.get(KEY_TAG) for r in client.search_runs([experiment_id], max_results=50_000)}
    n = 0
    for run in runs:
        if run.key in logged:
            continue
        created = client.create_run(experiment_id, run_name=run.name, tags={KEY_TAG: run.key})
        rid = created.info.run_id
        for key, value in run.params.items():
            client.log_param(rid, key, value)
        for metric, points in run.curves.items():
            for step, value in points:
                client.log_metric(rid, metric, float(value), step=int(step))
        for metric, value in run.scores.items():
            client.log_metric(rid, metric, value)
        client.set_terminated(rid)
        n += 1
    return n


def _log_wandb(project: str, runs: list[TrackedRun], folder: Path) -> int:
    """One offline W&B run per condition under ``folder`` (``wandb sync`` uploads them); logged keys are remembered."""
    wandb = _import("wandb")
    ledger = folder / "wandb_logged.json"
    logged = set(json.loads(ledger.read_text())) if ledger.is_file() else set()
    n = 0
    for run in runs:
        if run.key in logged:
            continue
        handle = wandb.init(project=project, name=run.name, dir=str(folder), mode="offline", config=run.params,
                            reinit="create_new")
        for metric, points in run.curves.items():
            for step, value in points:
                handle.log({metric: float(value), "train_step": int(step)})
        handle.summary.update(run.scores)
        handle.finish()
        logged.add(run.key)
        n += 1
    ledger.write_text(json.dumps(sorted(logged)))
    return n
