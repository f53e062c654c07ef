"""The driver: plans a study, runs what is not done through an executor, and alone writes the database.

It resolves every step's artifact id (code version, params, inputs, task version, data hashes, model
revision), skips what the store already holds, starts ready steps in dependency order, ingests each
finished artifact, records failures (their dependents are skipped, independent steps go on) and
re-ingests on start anything the database does not list. Killing it loses no finished step.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.config import Study
from synthmix.executors.base import Executor, Outcome, StepSpec
from synthmix.plan import Plan, Step, build_plan, is_mini
from synthmix.progress import RunObserver, SilentObserver
from synthmix.results import ResultsDB
from synthmix.steps import load_step_module
from synthmix.store import FAILURE_RECORD, Store, StudyLock, artifact_id, file_sha256

DB_NAME = "results.sqlite"


@dataclass
class RunSummary:
    """What one ``synthmix run`` did."""

    total: int
    already_done: int
    executed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no step failed or was skipped."""
        return not self.failed and not self.skipped


class Identity:
    """Computes the extras of artifact ids: task version, hashes of the data files, model revision."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self._tasks: dict[str, dict[str, Any]] = {}
        self._files: dict[tuple[str, int, int], str] = {}

    def extras(self, step: Step) -> dict[str, Any]:
        """The identity extras of a step."""
        out: dict[str, Any] = {}
        if "task" in step.params:
            out.update(self._task(step.params["task"], step.params.get("task_options", {})))
        model = step.params.get("model")
        if model and not is_mini(model):
            out["model_revision"] = self._model_revision(model, step.params.get("revision", "main"))
        module = self.study.step_modules.get(step.kind)
        if module:
            out["step_module"] = module
        return out

    def _task(self, name: str, options: dict[str, Any]) -> dict[str, Any]:
        from synthmix.tasks import get_task

        key = json.dumps([name, options], sort_keys=True)
        if key not in self._tasks:
            task = get_task(name, **options)
            self._tasks[key] = {"task_version": task.version,
                                "data_hashes": {str(p): self._hash(Path(p)) for p in task.data_files()}}
        return self._tasks[key]

    def _hash(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._files:
            self._files[key] = file_sha256(path)
        return self._files[key]

    def _model_revision(self, model: str, revision: str) -> str:
        """A local model folder is identified by its files' hashes; a hub id by its revision."""
        path = Path(model)
        if not path.is_dir():
            return revision
        digest = {p.relative_to(path).as_posix(): self._hash(p) for p in sorted(path.rglob("*")) if p.is_file()}
        return json.dumps(digest, sort_keys=True)


def resolve_ids(plan: Plan, study: Study) -> dict[str, str]:
    """Artifact id of every step, in dependency order (an id covers its inputs' ids)."""
    identity = Identity(study)
    versions: dict[str, str] = {}
    ids: dict[str, str] = {}
    for key, step in plan.steps.items():
        if step.kind not in versions:
            versions[step.kind] = load_step_module(step.kind, study.step_modules.get(step.kind)).CODE_VERSION
        input_ids = {name: ids[dep] for name, dep in step.inputs.items()}
        ids[key] = artifact_id(step.kind, versions[step.kind], step.params, input_ids, identity.extras(step))
    return ids


def make_spec(step: Step, plan: Plan, ids: dict[str, str], study: Study) -> StepSpec:
    """The plain-data description of a step that travels to a worker."""
    return StepSpec(
        kind=step.kind,
        artifact_id=ids[step.key],
        params=step.params,
        inputs={name: f"{plan.steps[dep].kind}/{ids[dep]}" for name, dep in step.inputs.items()},
        store_root=str(study.store),
        label=step.label,
        module=study.step_modules.get(step.kind),
        extras={"task_modules": list(study.task_modules)} if study.task_modules else {},
        timeout_s=study.timeouts.get(step.kind),
        resources=step_resources(step, study),
    )


def step_resources(step: Step, study: Study) -> dict[str, float]:
    """CPUs, GPUs, memory and time a step asks a cluster for (the study's ``resources``, else guessed from the model)."""
    from synthmix.executors.resources import model_resources, requested_resources

    model = step.conditions[0].model
    return requested_resources(step.kind, model, model_resources(study, model), method=study.training.method,
                               threads=study.threads).as_dict()


def open_db(study: Study) -> ResultsDB:
    """The study's results database."""
    assert study.study_dir is not None
    return ResultsDB(study.study_dir / DB_NAME)


def ingest_missing(db: ResultsDB, store: Store, plan: Plan, ids: dict[str, str]) -> int:
    """Ingest every committed artifact the database lacks for its current roles; returns how many."""
    from synthmix.results import roles_digest

    have = db.ingested_set()
    n = 0
    for key, step in plan.steps.items():
        aid = ids[key]
        if (aid, roles_digest(step)) not in have and store.is_done(step.kind, aid):
            db.ingest(step, aid, store.path(step.kind, aid), store.manifest(step.kind, aid))
            n += 1
    return n


def run_study(study: Study, executor: Executor, retry_failed: bool = False,
              observer: RunObserver | None = None) -> RunSummary:
    """Run every step of the study that the store does not hold yet; resumable and idempotent."""
    assert study.store is not None and study.study_dir is not None
    t0 = time.perf_counter()
    plan = build_plan(study)
    store = Store(study.store)
    with StudyLock(study.study_dir):
        store.remove_dead_temps()
        ids = resolve_ids(plan, study)
        db = open_db(study)
        try:
            done = {k for k, s in plan.steps.items() if store.is_done(s.kind, ids[k])}
            _reclaim_collected(plan, ids, store, done)
            db.record_plan(plan.steps.values(), ids, {ids[k] for k in done})
            ingest_missing(db, store, plan, ids)
            summary = RunSummary(total=len(plan.steps), already_done=len(done))
            _schedule(plan, ids, study, store, db, executor, done, retry_failed, summary, observer or SilentObserver())
        finally:
            executor.shutdown()
            db.close()
    summary.wall_s = time.perf_counter() - t0
    return summary


def _reclaim_collected(plan: Plan, ids: dict[str, str], store: Store, done: set[str]) -> None:
    """A model whose weights gc deleted is recomputed when a step that is not done yet needs it."""
    dependents = plan.dependents()
    for key in list(done):
        step = plan.steps[key]
        if store.is_collected(step.kind, ids[key]) and any(d not in done for d in dependents[key]):
            store.discard(step.kind, ids[key])
            done.discard(key)


def _model_size(model: str) -> int:
    """Parameters of a model the study names; 0 for names that only test step modules know (``mini-a``)."""
    from synthmix.errors import ConfigError
    from synthmix.models.pythia import parameter_count

    try:
        return parameter_count(model)
    except ConfigError:
        return 0


def largest_first(plan: Plan, keys: list[str]) -> list[str]:
    """``keys`` with pretraining first, and within it and the rest the steps of bigger models first; plan order otherwise.

    Among ready steps the longest then start first, and the pretraining that gates a rung's every
    other step never waits behind a bigger rung's fine-tunes. In plan order a two-job mini ladder
    started mini-3.7m's 13-minute pretraining only after mini-280k's and finished with it running alone.
    """
    sizes = {m: _model_size(m) for m in {c.model for k in keys for c in plan.steps[k].conditions}}

    def rank(key: str) -> tuple[bool, int]:
        step = plan.steps[key]
        return step.kind != "pretrain", -max((sizes[c.model] for c in step.conditions), default=0)

    return sorted(keys, key=rank)


def _schedule(plan: Plan, ids: dict[str, str], study: Study, store: Store, db: ResultsDB, executor: Executor,
              done: set[str], retry_failed: bool, summary: RunSummary, observer: RunObserver) -> None:
    """Start ready steps, collect outcomes, ingest, and propagate failures to dependents."""
    notify = observer.step
    previous = db.failed()
    failed: set[str] = set()
    for key, step in plan.steps.items():
        if key in done:
            continue
        if ids[key] in previous and not retry_failed:
            failed.add(key)
            summary.failed.append((step.label, "failed in an earlier run (use --retry-failed)"))
        elif ids[key] in previous:
            db.clear_failure(ids[key])
    skipped: set[str] = set()
    pending = largest_first(plan, [k for k in plan.steps if k not in done and k not in failed])
    observer.planned(len(pending))
    running: dict[Any, str] = {}
    capacity = getattr(executor, "jobs", 1 << 30)
    while pending or running:
        still = []
        for key in pending:
            step = plan.steps[key]
            deps = step.inputs.values()
            if any(d in failed or d in skipped for d in deps):
                skipped.add(key)
                db.set_status(ids[key], "skipped")
                notify("skipped", step, None)
            elif len(running) < capacity and all(d in done for d in deps):
                spec = make_spec(step, plan, ids, study)
                db.set_status(ids[key], "running", started=time.time())
                running[executor.submit(spec)] = key
                notify("started", step, None)
            else:
                still.append(key)
        pending = still
        if not running:
            break
        for handle, outcome in executor.wait(list(running), timeout=1.0):
            key = running.pop(handle)
            step = plan.steps[key]
            if outcome.ok:
                aid = ids[key]
                db.ingest(step, aid, store.path(step.kind, aid), store.manifest(step.kind, aid))
                done.add(key)
                summary.executed += 1
                notify("done", step, outcome)
            else:
                failed.add(key)
                _write_log(study, step, ids[key], outcome)
                db.record_failure(ids[key], step, outcome.error)
                db.set_status(ids[key], "failed")
                kept = store.failed_path(step.kind, ids[key])
                if (kept / FAILURE_RECORD).is_file():
                    db.ingest_failed(step, ids[key], kept)
                summary.failed.append((step.label, outcome.error.strip().splitlines()[-1] if outcome.error else ""))
                notify("failed", step, outcome)
    summary.skipped = len(skipped)


def _write_log(study: Study, step: Step, aid: str, outcome: Outcome) -> Path:
    """Write a failed step's traceback to the study's logs folder."""
    assert study.study_dir is not None
    path = study.study_dir / "logs" / f"{step.kind}-{aid[:16]}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{step.label}\nartifact {aid}\nworker {outcome.worker}\n\n{outcome.error}")
    return path


@dataclass
class StatusReport:
    """Done / pending / failed counts per step kind, per condition, and the kept folders of failed steps."""

    by_kind: dict[str, dict[str, int]]
    conditions: list[dict[str, Any]]
    kept_failures: list[tuple[str, Path]] = field(default_factory=list)  # (step label, kept attempt folder)


def study_status(study: Study) -> StatusReport:
    """Where a study stands, from the store and the database (runs nothing)."""
    assert study.store is not None
    plan = build_plan(study)
    ids = resolve_ids(plan, study)
    store = Store(study.store)
    db = open_db(study)
    try:
        failures = db.failed()
    finally:
        db.close()
    state = {}
    for key, step in plan.steps.items():
        aid = ids[key]
        state[key] = "done" if store.is_done(step.kind, aid) else "failed" if aid in failures else "pending"
    by_kind: dict[str, dict[str, int]] = {}
    for key, step in plan.steps.items():
        row = by_kind.setdefault(step.kind, {"done": 0, "pending": 0, "failed": 0})
        row[state[key]] += 1
    per_cond: dict[Any, dict[str, int]] = {}
    for key, step in plan.steps.items():
        for cond in step.conditions:
            row = per_cond.setdefault(cond, {"done": 0, "pending": 0, "failed": 0})
            row[state[key]] += 1
    conditions = [{**c.as_dict(), **counts} for c, counts in sorted(per_cond.items())]
    kept = [(step.label, store.failed_path(step.kind, ids[key])) for key, step in plan.steps.items()
            if state[key] == "failed" and (store.failed_path(step.kind, ids[key]) / FAILURE_RECORD).is_file()]
    return StatusReport(by_kind=by_kind, conditions=conditions, kept_failures=kept)


def gc_study(study: Study) -> tuple[int, int]:
    """Delete model weights that no pending step of the study needs; returns (artifacts, bytes freed)."""
    assert study.store is not None
    plan = build_plan(study)
    ids = resolve_ids(plan, study)
    store = Store(study.store)
    dependents = plan.dependents()
    n = freed = 0
    for key, step in plan.steps.items():
        if step.kind not in ("pretrain", "finetune") or not store.is_done(step.kind, ids[key]):
            continue
        if all(store.is_done(plan.steps[d].kind, ids[d]) for d in dependents[key]):
            bytes_ = store.strip_weights(step.kind, ids[key])
            if bytes_:
                n += 1
                freed += bytes_
    return n, freed
