"""Turn a validated study into a DAG of steps: pure, deterministic, each shared step listed once.

A step's plan key is a hash of its kind, its parameters and its inputs' keys, so two conditions that need
the same computation (the iteration-0 model for every share, the iteration-1 pool for every unfiltered
regime and share, the external-only mix of every 0 % arm) get the same step. A block's conditions are
every share at each listed iteration plus the earlier iterations they need; every fine-tune is evaluated.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from synthmix.config import Block, Study

CONDITION_COLUMNS: tuple[str, ...] = ("model", "task", "share", "iteration", "seed", "regime")
UNFILTERED_POOL_REGIMES = ("replace", "accumulate", "accumulate-subsample")


@dataclass(frozen=True, order=True)
class Condition:
    """One point of the grid: (model, task, share, iteration, seed, regime)."""

    model: str
    task: str
    share: float
    iteration: int
    seed: int
    regime: str

    def as_dict(self) -> dict[str, Any]:
        """The condition columns as a mapping (for database rows and tables)."""
        return {c: getattr(self, c) for c in CONDITION_COLUMNS}

    def label(self) -> str:
        """Short human-readable form used in progress lines and logs."""
        return f"{self.model}/{self.task} seed={self.seed} t={self.iteration} share={self.share:g} {self.regime}"


@dataclass
class Step:
    """One unit of work: kind, parameters, named inputs (plan keys) and the conditions it serves, by role."""

    key: str
    kind: str
    params: dict[str, Any]
    inputs: dict[str, str]
    label: str
    roles: list[tuple[Condition, str]] = field(default_factory=list)

    @property
    def conditions(self) -> list[Condition]:
        """Every condition this step contributes to."""
        return sorted({c for c, _ in self.roles})


@dataclass
class Plan:
    """The DAG in dependency order (inputs always before the steps that read them)."""

    steps: dict[str, Step]
    conditions: list[Condition]

    def counts(self) -> dict[str, int]:
        """Number of steps per kind, in pipeline order."""
        c = Counter(s.kind for s in self.steps.values())
        return {k: c[k] for k in ("pretrain", "finetune", "generate", "mix", "evaluate") if c[k]}

    def dependents(self) -> dict[str, list[str]]:
        """For each step key, the keys of the steps that read it."""
        out: dict[str, list[str]] = {k: [] for k in self.steps}
        for s in self.steps.values():
            for dep in s.inputs.values():
                out[dep].append(s.key)
        return out


def plan_key(kind: str, params: dict[str, Any], inputs: dict[str, str]) -> str:
    """Content key of a step inside a plan (the store's artifact id adds code and data versions)."""
    blob = json.dumps([kind, params, sorted(inputs.items())], sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def is_mini(model: str) -> bool:
    """Whether a model name is a mini ladder rung (pretrained by a step) rather than a hub id or path."""
    return model.startswith("mini-")


class _Builder:
    """Accumulates steps for one study, deduplicating by content key."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self.steps: dict[str, Step] = {}
        self.models: dict[Condition, str] = {}
        all_shares = [s for b in study.blocks for s in b.shares]
        self.pool_size = study.mixing.pool_size or max(1, math.ceil(study.mixing.n * max(all_shares)))

    def add(self, kind: str, params: dict[str, Any], inputs: dict[str, str], label: str, cond: Condition, role: str) -> str:
        """Add (or reuse) a step and record that ``cond`` uses it in ``role``."""
        key = plan_key(kind, params, inputs)
        step = self.steps.get(key)
        if step is None:
            step = self.steps[key] = Step(key=key, kind=kind, params=params, inputs=inputs, label=label)
        step.roles.append((cond, role))
        return key

    def task_params(self, task: str) -> dict[str, Any]:
        """The task name with its study options (part of every task-dependent step's parameters)."""
        return {"task": task, "task_options": dict(sorted(self.study.tasks.get(task, {}).items()))}

    def pretrain(self, model: str, cond: Condition) -> dict[str, str]:
        """The pretrain step of a mini rung; hub models need none."""
        if not is_mini(model):
            return {}
        from synthmix.steps.pretrain import Params as PretrainParams
        from synthmix.tasks.mini.corpus import world_size

        p = self.study.pretrain
        params = {"rung": model, "world_seed": p.world_seed, "token_budget": p.token_budget, "seed": p.seed,
                  "threads": self.study.threads, **world_size(self.study.tasks),
                  **({"seq_len": p.seq_len} if p.seq_len != PretrainParams.model_fields["seq_len"].default else {})}
        return {"init": self.add("pretrain", params, {}, f"pretrain {model}", cond, "pretrain")}

    def model_params(self, model: str) -> dict[str, Any]:
        """How a fine-tune names its base model (mini rungs arrive as the ``init`` input)."""
        if is_mini(model):
            return {"model": model}
        return {"model": model, "revision": self.study.model_revisions.get(model, "main")}

    def mix(self, cond: Condition, pools: dict[str, str]) -> str:
        """The training mix of a condition: external-only for share 0 and ``remove``, else external + pools."""
        external_only = cond.share == 0.0 or cond.regime == "remove"
        regime = "replace" if cond.share == 0.0 else cond.regime
        params = {**self.task_params(cond.task), "n": self.study.mixing.n, "share": cond.share, "regime": regime,
                  "seed": cond.seed}
        inputs = {} if external_only else pools
        return self.add("mix", params, inputs, f"mix {cond.label()}", cond, "mix")

    def finetune(self, cond: Condition) -> str:
        """The model of a condition, adding everything it needs (recursively for earlier iterations)."""
        if cond not in self.models:
            self.models[cond] = self._finetune(cond)
        return self.models[cond]

    def _finetune(self, cond: Condition) -> str:
        """Add a condition's fine-tune, its mix, pools and evaluation."""
        training = self.study.training
        if cond.iteration == 0:
            init = self.pretrain(cond.model, cond)
        else:
            parent_iter = 0 if training.init_from == "iteration-0" else cond.iteration - 1
            init = {"init": self.finetune(self._at(cond, parent_iter))}
        data = self.mix(cond, self.pools(cond))
        params = {**self.model_params(cond.model), **self.task_params(cond.task), "seed": cond.seed,
                  "training": self.training_params(cond.model), "threads": self.study.threads}
        key = self.add("finetune", params, {**init, "data": data}, f"finetune {cond.label()}", cond, "finetune")
        self.evaluate(cond, key)
        return key

    def training_params(self, model: str) -> dict[str, Any]:
        """The study's training settings with the LoRA targets this model gets (see ``models.adapters``)."""
        from synthmix.models.adapters import planned_lora_targets

        training = self.study.training.model_dump(mode="json")
        training["lora"]["target_modules"] = planned_lora_targets(model, self.study.training.lora.target_modules)
        return training

    def pools(self, cond: Condition) -> dict[str, str]:
        """The pools a condition's mix draws from, by iteration of origin (``pool1`` … ``poolT``)."""
        if cond.iteration == 0 or cond.share == 0.0 or cond.regime == "remove":
            return {}
        first = cond.iteration if cond.regime in ("replace", "verified") else 1
        return {f"pool{k}": self.generate(cond, k) for k in range(first, cond.iteration + 1)}

    def generate(self, cond: Condition, k: int) -> str:
        """The pool of iteration ``k``, written by the iteration k−1 model of the same condition."""
        writer = self._at(cond, k - 1)
        writer_key = self.finetune(writer)
        g = self.study.generation
        params = {**self.task_params(cond.task), "n_target": self.pool_size,
                  "attempt_cap": self.study.mixing.attempt_cap, "temperature": g.temperature, "top_p": g.top_p,
                  "n_shots": g.n_shots, "batch_size": g.batch_size, "max_new_tokens": g.max_new_tokens,
                  "backend": g.backend, "seed": cond.seed, "verified": cond.regime == "verified",
                  "threads": self.study.threads}
        role = "pool" if k == cond.iteration else f"pool{k}"
        return self.add("generate", params, {"model": writer_key}, f"generate pool {k} for {cond.label()}", cond, role)

    def evaluate(self, cond: Condition, model_key: str) -> str:
        """Evaluation of a condition's model on the task's eval split (its tuning split when the study tunes)."""
        g = self.study.generation
        evaluation = self.study.evaluation.model_dump(mode="json")
        if evaluation["split"] == "eval":
            del evaluation["split"]  # the default stays out of the key, so artifacts from before the option keep their ids
        params = {**self.task_params(cond.task), "evaluation": evaluation,
                  "temperature": g.temperature, "top_p": g.top_p, "n_shots": g.n_shots, "backend": g.backend,
                  "threads": self.study.threads}
        return self.add("evaluate", params, {"model": model_key}, f"evaluate {cond.label()}", cond, "evaluate")

    def _at(self, cond: Condition, iteration: int) -> Condition:
        """The same condition at an earlier iteration (iteration 0 has share 0 and no regime effect)."""
        if iteration == 0:
            return Condition(cond.model, cond.task, 0.0, 0, cond.seed, cond.regime)
        return Condition(cond.model, cond.task, cond.share, iteration, cond.seed, cond.regime)


def block_conditions(block: Block) -> list[Condition]:
    """Every condition a block asks for, including the earlier iterations its later ones build on."""
    out: set[Condition] = set()
    top = max(block.iterations)
    for model in block.models:
        for task in block.tasks:
            for seed in block.seeds:
                for regime in block.regimes:
                    out.add(Condition(model, task, 0.0, 0, seed, regime))
                    for share in block.shares:
                        for t in range(1, top + 1):
                            if t in block.iterations or any(u > t for u in block.iterations):
                                out.add(Condition(model, task, float(share), t, seed, regime))
    return sorted(out)


def build_plan(study: Study) -> Plan:
    """Spec → DAG of steps in a deterministic dependency order."""
    builder = _Builder(study)
    conditions = sorted({c for b in study.blocks for c in block_conditions(b)})
    for cond in conditions:
        builder.finetune(cond)
    order = _topological(builder.steps)
    return Plan(steps={k: builder.steps[k] for k in order}, conditions=conditions)


def _topological(steps: dict[str, Step]) -> list[str]:
    """Dependency order, ties broken by (kind order, key) so the order never depends on insertion."""
    rank = {"pretrain": 0, "finetune": 1, "mix": 1, "generate": 2, "evaluate": 3}
    done: set[str] = set()
    order: list[str] = []

    def visit(key: str) -> None:
        if key in done:
            return
        for dep in sorted(steps[key].inputs.values()):
            visit(dep)
        done.add(key)
        order.append(key)

    for key in sorted(steps, key=lambda k: (rank[steps[k].kind], steps[k].label, k)):
        visit(key)
    return order
