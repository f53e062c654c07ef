"""The task registry: one name per task, one registration per module, third-party tasks by entry point.

Built-in tasks register as ``"module:attribute"`` strings, so importing the registry (and
``get_task`` for the planner's ``task.version``/``task.has_verifier``) imports no task module,
let alone torch. Adding a real benchmark is one module plus one line in ``_BUILTIN``.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from synthmix.errors import ConfigError
from synthmix.tasks.base import Task

ENTRY_POINT_GROUP = "synthmix.tasks"
MODULES_ENV = "SYNTHMIX_TASK_MODULES"  # the study's ``task_modules``, passed to step workers (os.pathsep-separated)

TaskFactory = Callable[..., Task]

_BUILTIN: dict[str, str] = {
    "mini-math": "synthmix.tasks.mini.math:MiniMath",
    "mini-commonsense": "synthmix.tasks.mini.commonsense:MiniCommonsense",
    "mini-factual": "synthmix.tasks.mini.factual:MiniFactual",
    "mini-reading": "synthmix.tasks.mini.reading:MiniReading",
    "mini-code": "synthmix.tasks.mini.code:MiniCode",
    "math": "synthmix.tasks.math:Math",
    "commonsense": "synthmix.tasks.commonsense:Commonsense",
    "factual": "synthmix.tasks.factual:Factual",
    "reading": "synthmix.tasks.reading:Reading",
    "code": "synthmix.tasks.code:Code",
}

_REGISTRY: dict[str, TaskFactory | str] = {}
_entry_points_loaded = False


def register_task(name: str, factory: TaskFactory | str) -> None:
    """Register ``factory`` (a callable, or a lazy ``"module:attribute"`` path) under ``name``; duplicates raise."""
    if not name or not isinstance(name, str):
        raise ConfigError(f"task name must be a non-empty string (got {name!r})")
    if name in _REGISTRY:
        raise ConfigError(f"task {name!r} is already registered (by {_REGISTRY[name]!r})")
    _REGISTRY[name] = factory


def _import_module(entry: str) -> None:
    """Import a module by name, or a ``.py`` file by absolute path under a name derived from that path, once."""
    if not entry.endswith(".py"):
        try:
            importlib.import_module(entry)
        except ImportError as exc:
            raise ConfigError(f"cannot import task module {entry!r}: {exc}; install it or give a .py file path") from None
        return
    name = "synthmix_task_module_" + hashlib.sha256(entry.encode()).hexdigest()[:12]
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, entry)
    if spec is None or spec.loader is None or not os.path.isfile(entry):
        raise ConfigError(f"task module file {entry!r} does not exist; give a path relative to the study file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def import_task_modules(entries: list[str]) -> None:
    """Import modules that register tasks, here and (through ``SYNTHMIX_TASK_MODULES``) in every process started after."""
    for entry in entries:
        _import_module(entry)
    known = [e for e in os.environ.get(MODULES_ENV, "").split(os.pathsep) if e]
    os.environ[MODULES_ENV] = os.pathsep.join(known + [e for e in entries if e not in known])


def _load_entry_points() -> None:
    """Register third-party tasks (the ``synthmix.tasks`` entry point group and ``SYNTHMIX_TASK_MODULES``), once."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            _REGISTRY[ep.name] = ep.value
    for entry in os.environ.get(MODULES_ENV, "").split(os.pathsep):
        if entry:
            _import_module(entry)


def task_names() -> list[str]:
    """All registered task names, sorted."""
    _load_entry_points()
    return sorted(_REGISTRY)


def _resolve(factory: TaskFactory | str) -> TaskFactory:
    """Import a lazy ``"module:attribute"`` factory; callables pass through."""
    if callable(factory):
        return factory
    module_name, _, attr = factory.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def get_task(name: str, **options: Any) -> Task:
    """Build the task registered as ``name`` with ``options``, or read a task YAML (a name ending ``.yaml``/``.yml``)."""
    if name.endswith((".yaml", ".yml")):
        from synthmix.tasks.lm_eval_yaml import load_task_yaml

        if options:
            raise ConfigError(f"task {name!r}: a task YAML takes no options (got {sorted(options)}); set them in the file")
        return load_task_yaml(name)
    _load_entry_points()
    if name not in _REGISTRY:
        names = task_names()
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ConfigError(f"unknown task {name!r}.{hint} Available tasks: {', '.join(names)}")
    try:
        return _resolve(_REGISTRY[name])(**options)
    except TypeError as exc:
        raise ConfigError(f"task {name!r}: bad options {sorted(options)}: {exc}") from exc


for _name, _path in _BUILTIN.items():
    register_task(_name, _path)
