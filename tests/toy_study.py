"""Writes small studies whose steps are the real step functions of ``toy_steps`` (spine tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

KINDS = ("pretrain", "finetune", "generate", "mix", "evaluate")


def toy_study(tmp: Path, name: str = "toy", **overrides: Any) -> Path:
    """A study file in ``tmp`` with its store and study folder inside ``tmp`` and every step kind on toy_steps."""
    data: dict[str, Any] = {
        "name": name,
        "store": str(tmp / "store"),
        "study_dir": str(tmp / "study"),
        "step_modules": {k: "toy_steps" for k in KINDS},
        "tasks": {"mini-math": {"n_train": 20, "n_test": 10}},
        "blocks": [{"name": "main", "models": ["mini-120k"], "tasks": ["mini-math"], "shares": [0.0, 0.5],
                    "iterations": [1, 2], "seeds": [0], "regimes": ["replace", "accumulate"]}],
    }
    data.update(overrides)
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
