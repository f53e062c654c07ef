"""The five step kinds; each module holds a pydantic ``Params`` and one ``run(inputs, params, out)``.

A step's code version is derived from its source and everything it imports (``synthmix.identity``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from synthmix.errors import PlanError

STEP_MODULES: dict[str, str] = {
    "pretrain": "synthmix.steps.pretrain",
    "finetune": "synthmix.steps.finetune",
    "generate": "synthmix.steps.generate",
    "mix": "synthmix.steps.mix",
    "evaluate": "synthmix.steps.evaluate",
}


def step_module_name(kind: str, module: str | None = None) -> str:
    """The module implementing a step kind (``module`` overrides the built-in one)."""
    name = module or STEP_MODULES.get(kind)
    if name is None:
        raise PlanError(f"unknown step kind {kind!r}; kinds: {', '.join(STEP_MODULES)}")
    return name


def load_step_module(kind: str, module: str | None = None) -> ModuleType:
    """Import the module implementing a step kind (``module`` overrides the built-in one) and check its contract."""
    name = step_module_name(kind, module)
    try:
        mod = importlib.import_module(name)
    except ImportError as e:
        raise PlanError(f"step kind {kind!r}: cannot import {name!r} ({e})") from None
    for attr in ("Params", "run"):
        if not hasattr(mod, attr):
            raise PlanError(f"step module {name!r} lacks {attr}; a step module defines Params and run")
    return mod
