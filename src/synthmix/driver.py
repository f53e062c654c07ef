"""The driver: plans a study, runs what is not done through an executor, and alone writes the database.

It resolves every step's artifact id (code version, params, inputs, task version, data hashes, model
revision), skips what the store already holds, starts ready steps in dependency order, ingests each
finished artifact, records failures (their dependents are skipped, independent steps go on) and
re-ingests on start anything the database does not list. Killing it loses no finished step.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.config import Study
from synthmix.errors import DiskFullError
from synthmix.executors.base import Executor, Outcome, StepSpec
from synthmix.plan import Plan, Step, build_plan
from synthmix.progress import RunObserver, SilentObserver
from synthmix.results import ResultsDB
from synthmix.identity import Identities, StepIdentity, rerun_reasons
from synthmix.store import FAILURE_RECORD, Store, StudyLock, disk_full, folder_bytes, is_disk_full

DB_NAME = "results.sqlite"
IDENTITY_RECORD = "identities.json"


@dataclass
class RunSummary:
    """What one ``synthmix run`` did."""

    total: int
    already_done: int
    executed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (kind/id, what was wrong): set aside, recomputed
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no step failed or was skipped."""
        return not self.failed and not self.skipped


def resolve_identities(plan: Plan, study: Study) -> dict[str, StepIdentity]:
    """The identity of every step, in dependency order (see ``synthmix.identity``)."""
    return Identities(study).resolve(plan)


def resolve_ids(plan: Plan, study: Study) -> dict[str, str]:
    """Artifact id of every step, in dependency order (an id covers its inputs' ids)."""
    return {key: ident.artifact_id for key, ident in resolve_identities(plan, study).items()}


def _record_path(study: Study) -> Path:
    assert study.study_dir is not None
    return study.study_dir / IDENTITY_RECORD


def read_identity_record(study: Study) -> dict[str, Any]:
    """Plan key → the identity of the step when it last finished (for ``plan`` to say why a step reruns)."""
    try:
        return json.loads(_record_path(study).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def write_identity_record(study: Study, identities: dict[str, StepIdentity], done: set[str]) -> None:
    """Remember the identities of the finished steps (atomically), keeping older entries of other steps."""
    record = read_identity_record(study)
    record.update({key: identities[key].as_dict() for key in done})
    path = _record_path(study)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, sort_keys=True, default=str))
    os.replace(tmp, path)


def make_spec(step: Step, plan: Plan, ids: dict[str, str], study: Study, identity: StepIdentity | None = None) -> StepSpec:
    """The plain-data description of a step that travels to a worker."""
    return StepSpec(
        kind=step.kind,
        artifact_id=ids[step.key],
        params=step.params,
        inputs={name: f"{plan.steps[dep].kind}/{ids[dep]}" for name, dep in step.inputs.items()},
        store_root=str(study.store),
        label=step.label,
        module=study.step_modules.get(step.kind),
        timeout_s=study.timeouts.get(step.kind),
        resources=step_resources(step, study),
        extras=({"task_modules": list(study.task_modules)} if study.task_modules else {})
        | ({"identity": identity.as_dict(), "code_version": identity.code_version} if identity else {}),
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


def _unlisted(db: ResultsDB, plan: Plan, ids: dict[str, str]) -> set[str]:
    """Steps whose artifacts the database has not ingested for their current roles (the driver reads them next)."""
    from synthmix.results import roles_digest

    have = db.ingested_set()
    return {key for key, step in plan.steps.items() if (ids[key], roles_digest(step)) not in have}


def run_study(study: Study, executor: Executor, retry_failed: bool = False,
              observer: RunObserver | None = None) -> RunSummary:
    """Run every step of the study that the store does not hold yet; resumable and idempotent.

    A full disk stops the run with ``DiskFullError`` (exit 1): finished steps stay committed, the step that
    hit it is not recorded as failed, so the next run resumes.
    """
    assert study.store is not None and study.study_dir is not None
    t0 = time.perf_counter()
    plan = build_plan(study)
    store = Store(study.store)
    with StudyLock(study.study_dir):
        db = None
        try:
            store.remove_dead_temps()
            identities = resolve_identities(plan, study)
            ids = {key: ident.artifact_id for key, ident in identities.items()}
            db = open_db(study)
            done = {k for k, s in plan.steps.items() if store.is_done(s.kind, ids[k])}
            summary = RunSummary(total=len(plan.steps), already_done=0)
            _set_aside_damaged(plan, ids, store, done, summary, full=False)
            _reclaim_collected(plan, ids, store, done)
            summary.already_done = len(done)
            _set_aside_damaged(plan, ids, store, done & _unlisted(db, plan, ids), summary, full=True)
            db.record_plan(plan.steps.values(), ids, {ids[k] for k in done})
            ingest_missing(db, store, plan, ids)
            write_identity_record(study, identities, done)
            _schedule(plan, identities, study, store, db, executor, done, retry_failed, summary,
                      observer or SilentObserver())
            write_identity_record(study, identities, done)
        except (OSError, sqlite3.Error) as e:
            if not is_disk_full(e):
                raise
            raise disk_full(study.study_dir, _db_bytes(study)) from None
        finally:
            executor.shutdown()
            if db is not None:
                db.close()
    summary.wall_s = time.perf_counter() - t0
    return summary


def _db_bytes(study: Study) -> int:
    """Size of the results database: about what a write transaction may need for its journal."""
    assert study.study_dir is not None
    path = study.study_dir / DB_NAME
    return path.stat().st_size if path.is_file() else 0


def _set_aside_damaged(plan: Plan, ids: dict[str, str], store: Store, keys: set[str], summary: RunSummary,
                       full: bool) -> set[str]:
    """Check committed artifacts against their manifests; move damaged ones aside, drop them from ``keys``."""
    bad = set()
    for key in sorted(keys):
        step = plan.steps[key]
        problems = store.damage(step.kind, ids[key], full=full)
        if problems:
            store.quarantine(step.kind, ids[key])
            summary.damaged.append((f"{step.kind}/{ids[key]}", "; ".join(problems)))
            bad.add(key)
    keys -= bad
    return bad


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


def _schedule(plan: Plan, identities: dict[str, StepIdentity], study: Study, store: Store, db: ResultsDB,
              executor: Executor, done: set[str], retry_failed: bool, summary: RunSummary, observer: RunObserver) -> None:
    """Start ready steps (their inputs verified first), collect outcomes, ingest, and propagate failures to dependents."""
    notify = observer.step
    ids = {key: ident.artifact_id for key, ident in identities.items()}
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
    verified: set[str] = set()
    disk: str | None = None
    pending = largest_first(plan, [k for k in plan.steps if k not in done and k not in failed])
    observer.planned(len(pending))
    running: dict[Any, str] = {}
    capacity = getattr(executor, "jobs", 1 << 30)
    while pending or running:
        still: list[str] = []
        requeued = False
        for key in pending:
            step = plan.steps[key]
            deps = step.inputs.values()
            if any(d in failed or d in skipped for d in deps):
                skipped.add(key)
                db.set_status(ids[key], "skipped")
                notify("skipped", step, None)
            elif disk is None and len(running) < capacity and all(d in done for d in deps):
                damaged = _set_aside_damaged(plan, ids, store, set(deps) - verified, summary, full=True)
                verified |= set(deps) - damaged
                if damaged:
                    done -= damaged
                    still.extend([*sorted(damaged - set(still)), key])
                    requeued = True
                    continue
                spec = make_spec(step, plan, ids, study, identities[key])
                db.set_status(ids[key], "running", started=time.time())
                running[executor.submit(spec)] = key
                notify("started", step, None)
            else:
                still.append(key)
        pending = still
        if requeued:
            continue
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
            elif outcome.disk_full:
                disk = outcome.disk_full
                db.set_status(ids[key], "pending")
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
    if disk is not None:
        raise DiskFullError(disk)


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
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (kind/id, wrong sizes or missing files): pending


def study_status(study: Study) -> StatusReport:
    """Where a study stands, from the store and the database (runs nothing); a damaged artifact counts as pending."""
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
    damaged = []
    for key, step in plan.steps.items():
        aid = ids[key]
        state[key] = "done" if store.is_done(step.kind, aid) else "failed" if aid in failures else "pending"
        problems = store.damage(step.kind, aid, full=False) if state[key] == "done" else []
        if problems:  # a run recomputes it
            state[key] = "pending"
            damaged.append((f"{step.kind}/{aid}", "; ".join(problems)))
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
    return StatusReport(by_kind=by_kind, conditions=conditions, kept_failures=kept, damaged=damaged)


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


@dataclass(frozen=True)
class PlannedStep:
    """One row of ``synthmix plan``: the step, the id the store uses, whether it is done, and why it would run."""

    key: str
    label: str
    kind: str
    artifact_id: str
    inputs: dict[str, str]  # input name -> kind/id
    done: bool
    reasons: tuple[str, ...]  # empty when done


def plan_study(study: Study) -> list[PlannedStep]:
    """Every step with its artifact id, done / to run, and why it runs (runs nothing, writes nothing)."""
    assert study.store is not None
    plan = build_plan(study)
    identities = resolve_identities(plan, study)
    store = Store(study.store)
    record = read_identity_record(study)
    rows = []
    for key, step in plan.steps.items():
        ident = identities[key]
        done = store.is_done(step.kind, ident.artifact_id)
        labels = {name: plan.steps[dep].kind for name, dep in step.inputs.items()}
        reasons = () if done else tuple(rerun_reasons(record.get(key), ident, labels))
        inputs = {name: f"{plan.steps[dep].kind}/{identities[dep].artifact_id}" for name, dep in step.inputs.items()}
        rows.append(PlannedStep(key, step.label, step.kind, ident.artifact_id, inputs, done, reasons))
    return rows


@dataclass(frozen=True)
class VerifyReport:
    """What ``synthmix verify`` checked: artifacts and bytes hashed, seconds, and the damaged ones (set aside)."""

    checked: int
    bytes: int
    wall_s: float
    damaged: list[tuple[str, str, Path]]  # (kind/id, what was wrong, where it was moved)

    @property
    def mb_per_s(self) -> float:
        """Hashing throughput."""
        return self.bytes / 1e6 / self.wall_s if self.wall_s > 0 else 0.0


def verify_study(study: Study) -> VerifyReport:
    """Hash every committed artifact of the study against its manifest; damaged ones move aside so the next run recomputes them."""
    assert study.store is not None and study.study_dir is not None
    plan = build_plan(study)
    ids = resolve_ids(plan, study)
    store = Store(study.store)
    t0 = time.perf_counter()
    done = [(step.kind, ids[key]) for key, step in plan.steps.items() if store.is_done(step.kind, ids[key])]
    damaged = []
    with StudyLock(study.study_dir), ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # hashlib releases the GIL, so artifacts hash in parallel up to the disk's (or the cores') speed
        problems = list(pool.map(lambda ref: store.damage(*ref, full=True), done))
        nbytes = sum(folder_bytes(store.path(kind, aid)) for kind, aid in done)
        for (kind, aid), found in zip(done, problems):
            if found:
                damaged.append((f"{kind}/{aid}", "; ".join(found), store.quarantine(kind, aid)))
    return VerifyReport(len(done), nbytes, time.perf_counter() - t0, damaged)
