"""The command line: one verb per job. Thin: parse, call the library, render with rich.

Importing this module must not import torch or transformers, so ``plan``, ``status`` and ``--help``
answer instantly. A ``SynthmixError`` becomes a one-paragraph message and exit code 2 (a traceback only
with ``--debug``); a failed step makes ``run`` exit 1 after everything else has finished.
"""

from __future__ import annotations

import functools
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from synthmix.errors import SynthmixError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Run, analyse and monitor synthetic-data mixing studies.")
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
STATE: dict[str, Any] = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn a SynthmixError into a message and exit code 2 (tracebacks only with --debug)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SynthmixError as e:
            if STATE["debug"]:
                raise
            err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(e.exit_code) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    """synthmix: how much model-written data can a model train on before accuracy, calibration and diversity suffer?"""
    STATE["debug"] = debug


class ExecutorName(str, Enum):
    """Where steps run."""

    local = "local"
    ray = "ray"
    slurm = "slurm"


StudyArg = Annotated[Path, typer.Argument(help="The study YAML file.", show_default=False)]


def _load(path: Path) -> Any:
    from synthmix.config import load_study

    return load_study(path)


@app.command()
@friendly
def plan(study: StudyArg,
         dag: Annotated[bool, typer.Option(help="List every step with its inputs.")] = True,
         cost: Annotated[bool, typer.Option("--cost", help="Estimate FLOPs, GPU-hours and disk from the tasks' tokenised data.")] = False,
         device: Annotated[str, typer.Option(help="a100-40gb, a100-80gb, h100-sxm or h200.")] = "a100-40gb",
         mfu: Annotated[float, typer.Option(help="Assumed model FLOPs utilisation for training and prefill.")] = 0.4,
         tokenizer: Annotated[Path | None, typer.Option(help="tokenizer.json or model folder (default: the study's first model).")] = None,
         data_root: Annotated[Path | None, typer.Option(help="Folder with one sub-folder per task, used as data_dir where a task names none.")] = None) -> None:
    """Show the steps the study needs with the artifact ids the store uses, done / to run and why, without running anything."""
    from synthmix.driver import plan_study
    from synthmix.plan import build_plan

    spec = _load(study)
    _check(spec, study)
    t0 = time.perf_counter()
    p = build_plan(spec)
    rows = plan_study(spec)
    counts = Table(title=f"{spec.name}: {len(p.steps)} steps for {len(p.conditions)} conditions")
    for col in ("step kind", "count", "done", "to run"):
        counts.add_column(col, justify="left" if col == "step kind" else "right")
    for kind, n in p.counts().items():
        n_done = sum(r.done for r in rows if r.kind == kind)
        counts.add_row(kind, str(n), str(n_done), str(n - n_done))
    if dag:
        for row in rows:
            state = "[green]done[/]" if row.done else f"[yellow]to run[/] ({'; '.join(row.reasons)})"
            deps = ", ".join(f"{name}={ref[:ref.index('/') + 13]}" for name, ref in row.inputs.items()) or "—"
            console.print(f"[cyan]{row.kind}/{row.artifact_id}[/]  {row.label}  [dim]← {deps}[/]  {state}",
                          highlight=False, soft_wrap=True)
    console.print(counts)
    console.print(_resources_table(spec))
    console.print(f"[dim]planned in {1000 * (time.perf_counter() - t0):.0f} ms[/]")
    if cost:
        from synthmix.cost import estimate_cost, render_cost

        estimate = estimate_cost(spec, p, tokenizer=tokenizer, device=device, mfu=mfu, data_root=data_root)
        for renderable in render_cost(estimate):
            console.print(renderable)


def _check(spec: Any, path: Path) -> None:
    """Plan-time checks of models, data files and rows (exit 2 on a problem); print their notes."""
    from synthmix.checks import check_study

    for note in check_study(spec, path):
        err_console.print(note, highlight=False, soft_wrap=True)


def _resources_table(spec: Any) -> Table:
    """What each model's fine-tune asks a cluster for, and whether the study set it or it is guessed from the name."""
    from synthmix.executors.resources import model_resources, requested_resources

    table = Table(title="cluster request per fine-tune (resources:)")
    for col in ("model", "gpus", "cpus", "memory GB", "time min", "from"):
        table.add_column(col, justify="left" if col in ("model", "from") else "right")
    for model in dict.fromkeys(m for b in spec.blocks for m in b.models):
        asked = model_resources(spec, model)
        r = requested_resources("finetune", model, asked, method=spec.training.method, threads=spec.threads)
        table.add_row(model, f"{r.gpus:g}", f"{r.cpus:g}", f"{r.memory_gb:g}", f"{r.time_min:g}",
                      "study" if asked is not None else "guess from name")
    return table


def _make_executor(name: ExecutorName, jobs: int, address: str | None, spec: Any) -> Any:
    """The executor the user asked for."""
    if name is ExecutorName.local:
        from synthmix.executors.local import LocalExecutor

        return LocalExecutor(jobs=jobs)
    if name is ExecutorName.ray:
        from synthmix.executors.ray import RayExecutor

        return RayExecutor(address=address, jobs=jobs)
    from synthmix.executors.slurm import SlurmExecutor

    return SlurmExecutor(folder=spec.study_dir / "slurm", jobs=jobs, settings=spec)


@app.command()
@friendly
def run(study: StudyArg,
        executor: Annotated[ExecutorName, typer.Option(help="Where steps run.")] = ExecutorName.local,
        jobs: Annotated[int | None, typer.Option(min=1, help="Steps at once (default: CPU cores ÷ the study's threads).")] = None,
        address: Annotated[str | None, typer.Option(help="Ray cluster address.")] = None,
        retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Run steps that failed before.")] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would run, run nothing.")] = False) -> None:
    """Plan and run what is not done yet (resumable), then write the report."""
    from synthmix.driver import run_study, study_status

    spec = _load(study)
    _check(spec, study)
    jobs = jobs or max(1, (os.cpu_count() or 1) // spec.threads)
    if dry_run:
        report = study_status(spec)
        _render_status(report.by_kind, spec.name)
        return
    from synthmix.progress import RichProgress

    STATE.pop("signal", None)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with RichProgress(err_console, jobs) as progress:
            summary = run_study(spec, _make_executor(executor, jobs, address, spec), retry_failed=retry_failed,
                                observer=progress)
    except KeyboardInterrupt:
        raise _interrupted() from None
    for ref, why in summary.damaged:
        err_console.print(f"[yellow]damaged:[/] {ref}: {why}; set aside and recomputed", highlight=False)
    console.print(
        f"[bold]{spec.name}[/]: {summary.executed} steps run, {summary.already_done} already done, "
        f"{len(summary.failed)} failed, {summary.skipped} skipped, of {summary.total} "
        f"({summary.wall_s:.1f} s)", highlight=False)
    for label, why in summary.failed:
        err_console.print(f"[red]failed:[/] {label}: {why}", highlight=False)
    _finish(spec)
    if summary.failed:
        from synthmix.driver import study_status

        for label, folder in study_status(spec).kept_failures:
            console.print(f"failed [bold]{label}[/]: kept in {folder}", highlight=False)
            _print_pool_advice(spec, folder)
    if not summary.ok:
        err_console.print(f"logs: {spec.study_dir / 'logs'}")
        raise typer.Exit(1)


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM stops a run like Ctrl-C (running steps killed, finished work kept); the exit code is then 143."""
    STATE["signal"] = signum
    raise KeyboardInterrupt


def _interrupted() -> typer.Exit:
    """After SIGINT/SIGTERM: kill the executor's helpers too, say what was kept, exit 130 or 143."""
    from synthmix.executors.local import stop_helpers

    stop_helpers()
    err_console.print("interrupted: running steps were stopped; finished steps are kept")
    return typer.Exit(128 + STATE.get("signal", signal.SIGINT))


def _finish(spec: Any) -> None:
    """Print the headline results table and write the report (kept as is when the database did not change)."""
    from synthmix.report.freshness import write_current_report
    from synthmix.summary import results_table

    table = results_table(spec)
    if table is not None:
        console.print(table)
    console.print(f"results database: {spec.study_dir / 'results.sqlite'}", highlight=False)
    path, written = write_current_report(spec)
    console.print(f"report: [bold]{path}[/]{'' if written else ' (unchanged)'}", highlight=False)
    if spec.tracking:
        from synthmix.tracking import log_study

        console.print(f"{spec.tracking}: {log_study(spec)} conditions logged to {spec.tracking_dir}", highlight=False)


def _print_pool_advice(spec: Any, folder: Path) -> None:
    """For a kept failed pool: the parse reasons counted and the suggestion that fits."""
    from synthmix.pool_failures import describe_failed_pool

    if folder.parent.parent.name == "generate":
        for line in describe_failed_pool(folder, spec.generation.n_shots, spec.mixing.attempt_cap)[1:]:
            console.print(f"  {line}", highlight=False)


def _render_status(by_kind: dict[str, dict[str, int]], name: str) -> None:
    table = Table(title=f"{name}: steps")
    for col in ("kind", "done", "pending", "failed"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for kind, row in by_kind.items():
        table.add_row(kind, str(row["done"]), str(row["pending"]), str(row["failed"]))
    console.print(table)


@app.command()
@friendly
def status(study: StudyArg,
           conditions: Annotated[bool, typer.Option(help="Also list every condition.")] = False) -> None:
    """Done / pending / failed steps per kind (and per condition)."""
    from synthmix.driver import study_status

    spec = _load(study)
    report = study_status(spec)
    _render_status(report.by_kind, spec.name)
    for label, folder in report.kept_failures:
        console.print(f"failed [bold]{label}[/]: its samples and failure.json are kept in {folder}")
        _print_pool_advice(spec, folder)
    for ref, why in report.damaged:
        err_console.print(f"[yellow]damaged:[/] {ref}: {why}; the next run recomputes it", highlight=False)
    if conditions:
        table = Table(title="conditions")
        cols = list(report.conditions[0]) if report.conditions else []
        for col in cols:
            table.add_column(col)
        for row in report.conditions:
            table.add_row(*(str(row[c]) for c in cols))
        console.print(table)
        from synthmix.summary import results_table

        scored = results_table(spec, wide=True)
        if scored is not None:
            console.print(scored)


class ExportFormat(str, Enum):
    """Tidy table formats."""

    csv = "csv"
    parquet = "parquet"


@app.command()
@friendly
def export(study: StudyArg,
           format: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet.")] = ExportFormat.csv,
           out: Annotated[Path | None, typer.Option(help="Folder (default: the study folder's export/).")] = None) -> None:
    """Write the tidy results tables of the current plan (earlier and failed attempts apart; docs/output-tables.md)."""
    from synthmix.exports import export_study

    spec = _load(study)
    paths = export_study(spec, out or spec.study_dir / "export", format.value)
    for p in paths:
        console.print(str(p), highlight=False)


@app.command()
@friendly
def report(study: StudyArg,
           out: Annotated[Path | None, typer.Option("--out", help="Folder for report.html, tables/ and figures/.")] = None) -> None:
    """Write the study's tables, figures and one self-contained HTML report."""
    from synthmix.report.html import write_report

    path = write_report(_load(study), out)
    console.print(f"report: [bold]{path}[/]", highlight=False)


@app.command()
@friendly
def publish(study: StudyArg,
            out: Annotated[Path, typer.Option("--out", help="The Markdown page; figures and data/ go to a folder beside it named like it.")],
            from_snapshot: Annotated[bool, typer.Option("--from-snapshot", help="Render from the page's data/ snapshot instead of the database.")] = False,
            check: Annotated[bool, typer.Option("--check", help="Render from the snapshot and exit 1 if the page differs.")] = False) -> None:
    """Write a study's results page (Markdown, PNG figures, CSV snapshot of the rows it reads) for docs/."""
    import shutil
    import tempfile

    from synthmix.report.results_page import publish as publish_page

    spec = _load(study)
    command = f"synthmix publish {study.as_posix()} --out {out.as_posix()}"
    if not check:
        path = publish_page(spec, out, from_snapshot=from_snapshot, command=command)
        console.print(f"results page: [bold]{path}[/]", highlight=False)
        return
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / out.name
        shutil.copytree(out.parent / out.stem / "data", copy.parent / copy.stem / "data")
        fresh = publish_page(spec, copy, from_snapshot=True, command=command).read_text(encoding="utf-8")
    if fresh != out.read_text(encoding="utf-8"):
        console.print(f"{out} differs from what its snapshot renders; run: {command} --from-snapshot", highlight=False)
        raise typer.Exit(1)
    console.print(f"{out}: up to date with its snapshot", highlight=False)


@app.command()
@friendly
def baselines(study: StudyArg,
              iteration: Annotated[int, typer.Option(help="Which iteration's models to compare.")] = 0) -> None:
    """Compare each model with its task's strongest trivial baseline (paired CI over seeds and examples) and check the scale trend."""
    from synthmix.analysis.trivial_baselines import (
        compare_to_baselines,
        scale_trend,
        study_baselines,
    )
    from synthmix.report.tables import load_frames, model_sizes

    spec = _load(study)
    frames = load_frames(spec)
    table = compare_to_baselines(frames.examples, study_baselines(spec), iteration=iteration)
    if table.empty:
        console.print(f"no iteration-{iteration} per-example rows of a task with a trivial baseline in {spec.study_dir}")
        return
    sizes = model_sizes(frames)
    table = table.assign(n_params=table["model"].map(sizes)).sort_values(["task", "n_params", "model"])
    out = Table(title=f"{spec.name}: iteration-{iteration} models against trivial baselines")
    for col in ("task", "model", "seeds", "examples", "score", "baseline", "baseline score", "difference [95% CI]", "beats"):
        out.add_column(col)
    for r in table.itertuples(index=False):
        out.add_row(r.task, r.model, str(r.n_seeds), str(r.n_examples), f"{r.score:.3f}", r.baseline,
                    f"{r.baseline_score:.3f}", f"{r.difference:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]",
                    "yes" if r.beats else "[bold red]NO[/]")
    console.print(out)
    trend = scale_trend(table, sizes)
    for r in trend.itertuples(index=False):
        verdict = "larger is better" if r.larger_better else "no scale signal"
        console.print(f"{r.task}: {r.smallest} {r.smallest_score:.3f} → {r.largest} {r.largest_score:.3f}, "
                      f"Spearman rho {r.spearman_rho:+.2f} over {r.n_models} models: {verdict}", highlight=False)


@app.command()
@friendly
def tune(study: StudyArg,
         lr: Annotated[list[float], typer.Option("--lr", help="A peak learning rate to try (repeat the option).")],
         epochs: Annotated[list[int], typer.Option("--epochs", help="An epoch count to try (repeat the option).")],
         model: Annotated[list[str] | None, typer.Option("--model", help="Only this model (repeatable; default: the study's).")] = None,
         task: Annotated[list[str] | None, typer.Option("--task", help="Only this task (repeatable; default: the study's).")] = None,
         seed: Annotated[list[int] | None, typer.Option("--seed", help="Only this training seed (repeatable; default: the study's).")] = None,
         executor: Annotated[ExecutorName, typer.Option(help="Where steps run.")] = ExecutorName.local,
         jobs: Annotated[int | None, typer.Option(min=1, help="Steps at once (default: CPU cores ÷ the study's threads).")] = None,
         address: Annotated[str | None, typer.Option(help="Ray cluster address.")] = None) -> None:
    """Choose learning rate and epochs on iteration-0 models scored on each task's tuning split (never the eval split)."""
    from synthmix.progress import RichProgress
    from synthmix.tune import grid, rank_settings, tune_study

    spec = _load(study)
    settings = grid(lr, epochs)
    jobs = jobs or max(1, (os.cpu_count() or 1) // spec.threads)
    failed: list[str] = []

    def note(setting: Any, summary: Any) -> None:
        failed.extend(f"{setting.label()}: {label}: {why}" for label, why in summary.failed)

    STATE.pop("signal", None)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with RichProgress(err_console, jobs) as progress:
            scores = tune_study(spec, settings, lambda sub: _make_executor(executor, jobs, address, sub),
                                model, task, seed, observer=progress, on_setting=note)
    except KeyboardInterrupt:
        raise _interrupted() from None
    ranked = rank_settings(scores)
    out = spec.study_dir / "tune"
    out.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out / "scores.csv", index=False)
    ranked.to_csv(out / "ranking.csv", index=False)
    table = Table(title=f"{spec.name}: tuning-split scores (mean over seeds), best setting first")
    for col in ranked.columns:
        table.add_column(col)
    for row in ranked.itertuples(index=False):
        table.add_row(f"{row[0]:g}", str(row[1]), *("—" if math.isnan(v) else f"{v:.3f}" for v in row[2:]))
    console.print(table)
    for line in failed:
        err_console.print(f"[red]failed:[/] {line}", highlight=False)
    console.print(f"tuning scores: {out / 'scores.csv'}; ranking: {out / 'ranking.csv'}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command()
@friendly
def verify(study: StudyArg) -> None:
    """Hash every committed artifact of the study against its manifest; exit 1 naming damaged ones (the next run recomputes them)."""
    from synthmix.driver import verify_study

    result = verify_study(_load(study))
    for ref, why, moved in result.damaged:
        err_console.print(f"[red]damaged:[/] {ref}: {why} (moved to {moved}; the next run recomputes it)", highlight=False)
    console.print(f"{result.checked} artifacts, {result.bytes / 1e6:.1f} MB verified in {result.wall_s:.2f} s "
                  f"({result.mb_per_s:.0f} MB/s); {len(result.damaged)} damaged", highlight=False)
    if result.damaged:
        raise typer.Exit(1)


@app.command()
@friendly
def gc(study: StudyArg) -> None:
    """Delete model weights no pending step needs (keeps manifests, metrics and samples)."""
    from synthmix.driver import gc_study

    n, freed = gc_study(_load(study))
    console.print(f"removed the weights of {n} artifacts, {freed / 1e6:.1f} MB freed")


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """Parse repeated NAME=VALUE options into a dict; a value without '=' is a usage error (exit 2)."""
    out = {}
    for v in values or []:
        name, sep, value = v.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise typer.BadParameter(f"{v!r}: write NAME=VALUE, e.g. {option} score=acc", param_hint=option)
        out[name.strip()] = value.strip()
    return out


ColumnOpt = Annotated[list[str] | None, typer.Option("--column", help="Map a synthmix column to the file's: NAME=FILE_COLUMN (repeatable), e.g. value=acc.")]
WhereOpt = Annotated[list[str] | None, typer.Option("--where", help="Keep rows where COLUMN=VALUE (repeatable), e.g. task=mini-math.")]


@app.command()
@friendly
def analyze(path: Annotated[Path, typer.Argument(help="A study (STUDY.yaml: its results database) or a tidy table (CSV, JSONL or Parquet): model, task, share, iteration, metric, value [, seed, regime, n_params].", show_default=False)],
            out: Annotated[Path | None, typer.Option("--out", help="Write the comparisons as CSV (one row per model, task, regime, iteration, share, metric).")] = None,
            column: ColumnOpt = None,
            where: WhereOpt = None,
            resamples: Annotated[int, typer.Option(help="Resamples of a table's bootstraps (a study uses its analysis.n_resamples, as its report does).")] = 1000,
            seed: Annotated[int, typer.Option(help="Seed of the resampling.")] = 0) -> None:
    """Statistics and fits on a study's results or any tidy table (also one transcribed from a paper); says what it cannot support."""
    from synthmix.analysis.render import comparisons_table, render_analysis

    if path.suffix.lower() in (".yaml", ".yml"):
        from synthmix.analysis.analyze import analyze_study

        cells = analyze_study(_load(path), seed=seed)
        if out is not None:
            cells.to_csv(out, index=False)
        console.print(comparisons_table(cells.loc[(cells["metric"] == "score") & (cells["test"] != "")]))
        if out is not None:
            console.print(f"{len(cells)} rows (every tested metric) written to {out}")
        return
    from synthmix.analysis.analyze import analyze_table

    result = analyze_table(path, n_resamples=resamples, seed=seed, columns=_pairs(column, "--column"),
                           where=_pairs(where, "--where"))
    if out is not None:
        result.comparisons.to_csv(out, index=False)
    console.print(render_analysis(result))


@app.command()
@friendly
def audit(tables: Annotated[list[Path] | None, typer.Argument(help="Tidy tables (CSV or Parquet) or folders of them; default: the seed paper's transcribed tables.", show_default=False)] = None) -> None:
    """Recompute each quantitative claim of a paper's text and tables from its own tables; exit 0 all hold, 1 one does not (2 on bad input)."""
    from synthmix.analysis.claims import audit_paths
    from synthmix.analysis.render import render_audit

    checks = audit_paths(tables or [])
    console.print(render_audit(checks))
    raise typer.Exit(1 if any(c.holds is False for c in checks) else 0)


@app.command()
@friendly
def monitor(baseline: Annotated[Path, typer.Argument(help="Baseline prediction file (CSV, JSONL or Parquet: confidence, correct).", show_default=False)],
            current: Annotated[list[Path], typer.Argument(help="One or more current prediction files on the same examples.", show_default=False)],
            warn: Annotated[float, typer.Option(help="Warn when ECE ≥ this × the baseline's.")] = 1.5,
            critical: Annotated[float, typer.Option(help="Critical when ECE ≥ this × the baseline's.")] = 2.0,
            column: ColumnOpt = None,
            where: WhereOpt = None,
            resamples: Annotated[int, typer.Option(help="Bootstrap resamples for CIs.")] = 1000,
            seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0) -> None:
    """ECE early warning on prediction files; exit 0 ok, 3 warn, 4 critical (2 on bad input)."""
    from synthmix.analysis.monitor import monitor_files
    from synthmix.analysis.render import render_monitor

    result = monitor_files(baseline, current, warn_ratio=warn, critical_ratio=critical, n_resamples=resamples, seed=seed,
                           columns=_pairs(column, "--column"), where=_pairs(where, "--where"))
    console.print(render_monitor(result))
    raise typer.Exit(result.exit_code)


class ConfidenceName(str, Enum):
    """How generated answers get a confidence (docs/evaluation.md)."""

    self_consistency = "self_consistency"
    answer_prob = "answer_prob"


@app.command()
@friendly
def evaluate(model: Annotated[str, typer.Option("--model", help="Model folder or Hugging Face hub id.", show_default=False)],
             task: Annotated[str, typer.Option("--task", help="A task name or an lm-eval task YAML file.", show_default=False)],
             out: Annotated[Path, typer.Option("--out", help="Folder for examples.jsonl, scores.json, reliability.json.", show_default=False)],
             task_option: Annotated[list[str] | None, typer.Option("--task-option", help="KEY=VALUE option of a registered task, e.g. prompt_format=lm-eval (repeatable).")] = None,
             limit: Annotated[int | None, typer.Option("--limit", help="First N examples of the eval split (default: all).")] = None,
             num_fewshot: Annotated[int | None, typer.Option("--num-fewshot", help="Shots (default: the YAML's num_fewshot, else 0).")] = None,
             confidence: Annotated[ConfidenceName, typer.Option(help="Confidence of generated answers.")] = ConfidenceName.self_consistency,
             consistency_k: Annotated[int, typer.Option("--consistency-k", help="Samples per item for self_consistency.")] = 4,
             temperature: Annotated[float, typer.Option(help="Temperature of the consistency samples.")] = 1.0,
             top_p: Annotated[float, typer.Option("--top-p", help="Top-p of the consistency samples.")] = 1.0,
             batch_size: Annotated[int, typer.Option("--batch-size", help="Examples per forward pass.")] = 16) -> None:
    """Evaluate any model on any task without a study (like `lm_eval --model hf --tasks`)."""
    from synthmix.evaluation import Confidence, evaluate_model, parse_task_options

    scores = evaluate_model(model, task, out, options=parse_task_options(task_option or []), limit=limit, num_fewshot=num_fewshot, batch_size=batch_size,
                            confidence=Confidence(confidence.value, consistency_k, temperature, top_p))
    table = Table("metric", "value", title=f"{task} · {model}")
    for name, value in sorted(scores.items()):
        table.add_row(name, f"{value:.4f}")
    console.print(table)
    console.print(f"per-example rows: {out / 'examples.jsonl'}")


@app.command()
@friendly
def budget(params: Annotated[float, typer.Option("--params", help="Model size N in parameters, e.g. 6.9e9.", show_default=False)],
           task: Annotated[str, typer.Option("--task", help="Task name, e.g. math.", show_default=False)],
           study: Annotated[Path | None, typer.Option("--study", help="Fit on this study's results instead of a published fit.")] = None,
           fit: Annotated[str | None, typer.Option("--fit", help="Published fit: du2025-refit (default) or du2025-eq3.")] = None,
           extrapolate: Annotated[bool, typer.Option("--extrapolate", help="Allow a size outside the fitted range.")] = False) -> None:
    """The safe synthetic share for a model size and task (< 10 % relative degradation)."""
    from synthmix.analysis.budget import safe_share_budget
    from synthmix.analysis.render import render_budget

    scores = None
    if study is not None:
        from synthmix.driver import open_db

        db = open_db(_load(study))
        try:
            scores = db.frame("scores")
        finally:
            db.close()
    console.print(render_budget(safe_share_budget(params, task, scores=scores, fit=fit, extrapolate=extrapolate)))


@app.command()
@friendly
def schema(markdown: Annotated[bool, typer.Option("--markdown", help="The study reference (docs/study-reference.md) instead.")] = False) -> None:
    """Print the study file's JSON Schema (for editors), or its Markdown reference."""
    import json

    from synthmix.schema import study_json_schema, study_reference

    text = study_reference() if markdown else json.dumps(study_json_schema(), indent=2)
    sys.stdout.write(text + "\n")


def entrypoint() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    sys.exit(app())
