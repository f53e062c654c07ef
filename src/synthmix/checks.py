"""Plan-time checks: every model, data file and row a study needs exists and parses, before anything runs.

``synthmix plan``, ``run --dry-run`` and ``run`` call ``check_study`` first, so a typo in a model path or a
malformed row fails in a second with exit code 2, naming the file, row and field, instead of an hour into
a run. A local model folder needs its ``config.json``; a hub id is looked up in the local hub cache (an
error only when ``HF_HUB_OFFLINE`` is set, else a note that the first step downloads it). A task's rows are
read by the task's own ``load`` and each is rendered (prompt, target, reference) the way the steps will.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthmix.config import Study
from synthmix.errors import DataError, PlanError

ROW_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def check_study(study: Study, path: Path) -> list[str]:
    """Check every model and task input of ``study`` (loaded from ``path``); raise ``PlanError``, return notes."""
    notes: list[str] = []
    check_empty_mixes(study, path)
    for where, model in _first(_models(study)):
        note = check_model(model, f"{path}: {where}", study.model_revisions.get(model))
        if note:
            notes.append(note)
    for where, name in _first(_tasks(study)):
        if _from_hub(name, study.tasks.get(name, {})):
            notes.append(f"note: {path}: {where}: task {name!r} has no data_dir; its rows are read from the hub "
                         "by the steps and not checked here")
            continue
        check_task_data(name, study.tasks.get(name, {}), f"{path}: {where}", _splits(study, name))
    return notes


def check_empty_mixes(study: Study, path: Path) -> None:
    """Refuse ``remove`` at share 1.0: it keeps (1 − p)·N = 0 external examples, so there is nothing to train on."""
    for bi, block in enumerate(study.blocks):
        if "remove" in block.regimes and any(s >= 1.0 for s in block.shares) and any(i > 0 for i in block.iterations):
            raise PlanError(f"{path}: blocks[{bi}]: regime 'remove' at share 1.0 trains on nothing (it keeps only the "
                            "(1 − share) external part); give remove shares below 1.0 in a block of its own")


def _from_hub(name: str, options: dict[str, Any]) -> bool:
    """Whether a task reads its data through ``datasets`` from the hub (a real benchmark without ``data_dir``)."""
    from synthmix.tasks import get_task

    task_options = get_task(name, **options).options()
    return "data_dir" in task_options and task_options["data_dir"] is None


def _first(entries: Iterator[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each entry's first (field path, value), so a model or task named by several blocks is checked once."""
    firsts: dict[str, str] = {}
    for where, value in entries:
        firsts.setdefault(value, where)
    return [(where, value) for value, where in firsts.items()]


def _models(study: Study) -> Iterator[tuple[str, str]]:
    """(field path, model entry) of every model the blocks name."""
    for bi, block in enumerate(study.blocks):
        for mi, model in enumerate(block.models):
            yield f"blocks[{bi}].models[{mi}]", model


def _tasks(study: Study) -> Iterator[tuple[str, str]]:
    """(field path, task name) of every task the blocks name."""
    for bi, block in enumerate(study.blocks):
        for ti, task in enumerate(block.tasks):
            yield f"blocks[{bi}].tasks[{ti}]", task


def _splits(study: Study, name: str) -> list[str]:
    """The splits a study reads of a task: ``train`` (mixes, shots) and the split it scores on."""
    from synthmix.tasks import get_task
    from synthmix.tasks.base import tuning_split

    task = get_task(name, **study.tasks.get(name, {}))
    scored = tuning_split(task) if study.evaluation.split == "tuning" else task.eval_split
    return ["train", scored or task.eval_split]


def check_model(model: str, where: str, revision: str | None = None) -> str | None:
    """Raise when a local model folder is missing or not a model; a note when a hub id is not cached; else None."""
    from synthmix.models.mini import RUNGS

    if model in RUNGS:
        return None
    if os.path.isabs(model):
        folder = Path(model)
        if not folder.is_dir():
            raise PlanError(f"{where}: no model folder at {folder} (relative paths resolve against the study file's "
                            "folder); fix the path or give a hub id")
        if not (folder / "config.json").is_file():
            raise PlanError(f"{where}: {folder} has no config.json, so it is not a saved Hugging Face model; "
                            "save it with model.save_pretrained(folder) and tokenizer.save_pretrained(folder)")
        return None
    if _in_hub_cache(model, revision):
        return None
    message = (f"{where}: {model!r} is neither a folder beside the study file nor in the local hub cache")
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        raise PlanError(f"{message}, and HF_HUB_OFFLINE is set; download it first (huggingface-cli download {model}) "
                        "or fix the path")
    return f"note: {message}; the first step that needs it downloads it from the hub"


def _in_hub_cache(model: str, revision: str | None) -> bool:
    """Whether the hub cache holds the model's ``config.json`` at ``revision``."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        found = try_to_load_from_cache(model, "config.json", revision=revision)
    except HFValidationError:
        return False
    return isinstance(found, str)


def check_task_data(name: str, options: dict[str, Any], where: str, splits: list[str]) -> None:
    """Every data file of a task exists and parses, and every row of ``splits`` renders; ``PlanError`` names file, row, field."""
    from synthmix.tasks import get_task

    task = get_task(name, **options)
    files = [Path(p) for p in task.data_files()]
    for file in files:
        check_data_file(file, where)
    shown = ", ".join(map(str, files)) or "its generated data"
    for split in dict.fromkeys(splits):
        try:
            rows = task.load(split)
        except DataError as e:
            raise PlanError(f"{where}: task {name!r} split {split!r}: {e}") from None
        except ROW_ERRORS as e:
            raise PlanError(f"{where}: task {name!r} split {split!r} cannot be read from {shown}: "
                            f"{type(e).__name__}: {e}") from None
        if not rows:
            raise PlanError(f"{where}: task {name!r} split {split!r} is empty ({shown}); give it rows")
        for i, ex in enumerate(rows):
            _check_row(task, ex, f"{where}: task {name!r} split {split!r} row {i} ({shown})")


def _check_row(task: Any, ex: dict[str, Any], where: str) -> None:
    """Render one row as the steps will: prompt, target and reference (and options for multiple choice)."""
    try:
        task.example_id(ex)
        for render in (task.prompt, task.target, task.reference):
            if not isinstance(render(ex), str):
                raise TypeError(f"{render.__name__} gave {type(render(ex)).__name__}, not text")
        if task.output_type == "multiple_choice":
            task.choices(ex)
    except KeyError as e:
        raise PlanError(f"{where}: field {e} is missing (row keys: {sorted(ex)}); fix the row or the task") from None
    except ROW_ERRORS as e:
        raise PlanError(f"{where}: {type(e).__name__}: {e} (row: {json.dumps(ex, default=str)[:200]})") from None


def check_data_file(path: Path, where: str) -> None:
    """A data file exists and, for JSON Lines, every line is JSON (the error names the line)."""
    if not path.is_file():
        raise PlanError(f"{where}: data file {path} does not exist (relative paths resolve against the study file)")
    if not path.name.endswith(".jsonl"):
        return
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                raise PlanError(f"{path}: line {line_no}: not JSON ({e}); fix or remove the line") from None
            if not isinstance(row, dict):
                raise PlanError(f"{path}: line {line_no}: a row must be a JSON object with the task's fields "
                                f"(got {type(row).__name__})")
