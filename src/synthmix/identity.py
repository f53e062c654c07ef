"""Artifact identity: the canonical form of parameters, the code version of a module and the id of a step.

An artifact id is the sha256 of (step kind, the step's code version, canonical type-tagged params, the
sorted input ids, and the extras: task version, the task's code, the hashes of the task's data files, the
model revision). The code version is derived, never hand-bumped: the AST of the step module and of every
module it imports transitively inside ``synthmix`` (and inside the step module's own top-level package),
with docstrings removed, so comments, docstrings and formatting do not change an id and any other edit
does. Imports inside functions count too. A task's code (its class's module and that module's imports)
and its data (every file it declares and every file under a path-valued option such as ``data_dir``)
enter the id the same way, whatever the task class does.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthmix.errors import StoreError

if TYPE_CHECKING:
    from synthmix.config import Study
    from synthmix.plan import Plan, Step

PATH_OPTION_SUFFIXES = ("_dir", "_path", "_file")  # task options naming data locations (besides absolute paths)
FOLLOWED_PACKAGES = ("synthmix",)  # imports followed from any root, besides the root's own top-level package


def canonical(value: Any) -> Any:
    """Type-tagged canonical form of a JSON-like value, so that ``1``, ``1.0``, ``"1"`` and ``True`` differ."""
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StoreError(f"cannot hash non-finite float {value!r} in step parameters")
        return ["float", value.hex()]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (list, tuple)):
        return ["list", [canonical(v) for v in value]]
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise StoreError(f"cannot hash a mapping key of type {type(k).__name__} ({k!r}); keys must be strings")
        return ["dict", [[k, canonical(value[k])] for k in sorted(value)]]
    raise StoreError(f"cannot hash a value of type {type(value).__name__} ({value!r}) in step parameters")


def digest(value: Any) -> str:
    """sha256 of the canonical JSON of a value."""
    blob = json.dumps(canonical(value), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def artifact_id(kind: str, code_version: str, params: dict[str, Any], input_ids: dict[str, str],
                extras: dict[str, Any]) -> str:
    """sha256 of step kind, code version, canonical params, sorted input ids and extras (task version, code and data, model revision)."""
    return digest({"kind": kind, "code_version": code_version, "params": params,
                   "inputs": dict(sorted(input_ids.items())), "extras": extras})


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Remove the docstring of the module and of every class and function (an empty body gets ``pass``)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def source_hash(source: str, filename: str = "<module>") -> str:
    """sha256 of a module's AST without docstrings: comments, docstrings and formatting do not change it."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as e:
        raise StoreError(f"{filename}: cannot parse it to derive its code version ({e.msg}, line {e.lineno})") from None
    return hashlib.sha256(ast.dump(_strip_docstrings(tree)).encode("utf-8")).hexdigest()


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module name an AST imports (anywhere in it), relative imports resolved; ``from a import b`` gives a and a.b."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            parts = base.split(".")
            names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


class CodeHasher:
    """Hashes of modules and of their transitive imports, found by path without importing them (cached per instance)."""

    def __init__(self) -> None:
        self._roots: dict[str, Path | None] = {}
        self._modules: dict[str, tuple[str, set[str]] | None] = {}

    def _top_dir(self, top: str) -> Path | None:
        """The folder holding a top-level package (or the file of a top-level module), located without importing it."""
        if top not in self._roots:
            try:
                spec = importlib.util.find_spec(top)
            except (ImportError, ValueError):
                spec = None
            if spec is None:
                self._roots[top] = None
            elif spec.submodule_search_locations:
                self._roots[top] = Path(next(iter(spec.submodule_search_locations)))
            else:
                self._roots[top] = Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
        return self._roots[top]

    def _locate(self, name: str) -> tuple[Path, bool] | None:
        """(file, is_package) of a module, or None when it is not Python source we can find."""
        top, *rest = name.split(".")
        root = self._top_dir(top)
        if root is None:
            return None
        if root.suffix == ".py":
            return (root, False) if not rest else None
        folder = root.joinpath(*rest)
        if (folder / "__init__.py").is_file():
            return folder / "__init__.py", True
        file = folder.with_suffix(".py")
        return (file, False) if rest and file.is_file() else None

    def _module(self, name: str) -> tuple[str, set[str]] | None:
        """(hash, imported names) of one module; None when it is not found."""
        if name not in self._modules:
            found = self._locate(name)
            if found is None:
                self._modules[name] = None
            else:
                path, is_package = found
                source = path.read_text(encoding="utf-8")
                tree = ast.parse(source, filename=str(path))
                self._modules[name] = (source_hash(source, str(path)), _imported_names(tree, name, is_package))
        return self._modules[name]

    def has_source(self, name: str) -> bool:
        """Whether a module's Python source can be found."""
        return self._module(name) is not None

    def closure(self, root: str) -> dict[str, str]:
        """Module name → AST hash for ``root`` and every module it imports transitively inside the followed packages."""
        followed = {*FOLLOWED_PACKAGES, root.split(".")[0]}
        if self._module(root) is None:
            raise StoreError(f"cannot find the source of module {root!r} to derive its code version")
        out: dict[str, str] = {}
        todo = [root]
        while todo:
            name = todo.pop()
            if name in out:
                continue
            found = self._module(name)
            if found is None:
                continue
            out[name], imports = found
            todo.extend(n for n in imports if n.split(".")[0] in followed and n not in out)
        return dict(sorted(out.items()))


def code_version(hashes: dict[str, str]) -> str:
    """One hash of a module closure's per-module hashes."""
    return digest(hashes)


@dataclass(frozen=True)
class StepIdentity:
    """Everything a step's artifact id covers, kept apart so a changed id can say what changed."""

    kind: str
    code: dict[str, str]  # module -> AST hash: the step module and what it imports
    params: dict[str, Any]
    inputs: dict[str, str]  # input name -> artifact id
    extras: dict[str, Any] = field(default_factory=dict)  # task_version, task_code, data_hashes, model_revision, step_module

    @property
    def code_version(self) -> str:
        """The derived code version of the step."""
        return code_version(self.code)

    @property
    def artifact_id(self) -> str:
        """The artifact id (see the module docstring)."""
        return artifact_id(self.kind, self.code_version, self.params, self.inputs, self.extras)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for manifests and the study's identity record."""
        return {"kind": self.kind, "code": self.code, "params": self.params, "inputs": self.inputs, "extras": self.extras}


def _changed_modules(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Sorted names of modules whose hash differs, appeared or disappeared."""
    return sorted(m for m in {*old, *new} if old.get(m) != new.get(m))


def rerun_reasons(old: dict[str, Any] | None, new: StepIdentity, input_labels: dict[str, str]) -> list[str]:
    """Why a step's id differs from the one recorded when it last finished ("new" when it never finished)."""
    if old is None:
        return ["new"]
    reasons = [f"code of {m} changed" for m in _changed_modules(old.get("code", {}), new.code)]
    old_x, new_x = old.get("extras", {}), new.extras
    reasons += [f"code of {m} changed" for m in _changed_modules(old_x.get("task_code", {}), new_x.get("task_code", {}))
                if f"code of {m} changed" not in reasons]
    if old_x.get("task_version") != new_x.get("task_version"):
        reasons.append(f"task version {old_x.get('task_version')} → {new_x.get('task_version')}")
    old_data, new_data = old_x.get("data_hashes", {}), new_x.get("data_hashes", {})
    reasons += [f"data file {p} changed" for p in sorted({*old_data, *new_data}) if old_data.get(p) != new_data.get(p)]
    if old_x.get("model_revision") != new_x.get("model_revision"):
        reasons.append("model revision changed")
    if old_x.get("step_module") != new_x.get("step_module"):
        reasons.append("step module changed")
    if canonical(old.get("params")) != canonical(new.params):
        reasons.append("parameters changed")
    reasons += [f"input {name} ({input_labels.get(name, name)}) reruns" for name in sorted(new.inputs)
                if old.get("inputs", {}).get(name) != new.inputs[name]]
    return reasons or ["the artifact is missing from the store (deleted, or moved aside as damaged)"]


class Identities:
    """Resolves the identity of every step of a study: code closures, task code and data, model revisions."""

    def __init__(self, study: Study, hasher: CodeHasher | None = None) -> None:
        self.study = study
        self.hasher = hasher or CodeHasher()
        self._tasks: dict[str, dict[str, Any]] = {}
        self._files: dict[tuple[str, int, int], str] = {}
        self._code: dict[str, dict[str, str]] = {}
        self._models: dict[tuple[str, str], str] = {}

    def step_code(self, kind: str) -> dict[str, str]:
        """Module → hash for the module implementing ``kind`` and everything it imports."""
        from synthmix.steps import step_module_name

        name = step_module_name(kind, self.study.step_modules.get(kind))
        if name not in self._code:
            self._code[name] = self.hasher.closure(name)
        return self._code[name]

    def extras(self, step: Step) -> dict[str, Any]:
        """Task version, task code, data hashes, model revision and custom step module of a step."""
        from synthmix.plan import is_mini

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

    def resolve(self, plan: Plan) -> dict[str, StepIdentity]:
        """The identity of every step, in dependency order (an identity covers its inputs' ids)."""
        out: dict[str, StepIdentity] = {}
        for key, step in plan.steps.items():
            inputs = {name: out[dep].artifact_id for name, dep in step.inputs.items()}
            out[key] = StepIdentity(step.kind, self.step_code(step.kind), step.params, inputs, self.extras(step))
        return out

    def _task(self, name: str, options: dict[str, Any]) -> dict[str, Any]:
        """Version, code closure and data hashes of a task (built once per name and options)."""
        from synthmix.tasks import get_task

        key = json.dumps([name, options], sort_keys=True, default=str)
        if key not in self._tasks:
            task = get_task(name, **options)
            module = type(task).__module__
            self._tasks[key] = {"task_version": task.version,
                                "task_code": self.hasher.closure(module) if self.hasher.has_source(module) else {},
                                "data_hashes": {str(p): self.file_hash(p) for p in task_data_files(task)}}
        return self._tasks[key]

    def file_hash(self, path: Path) -> str:
        """sha256 of a file, cached by path, size and modification time."""
        from synthmix.store import file_sha256

        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._files:
            self._files[key] = file_sha256(path)
        return self._files[key]

    def _model_revision(self, model: str, revision: str) -> str:
        """A local model folder is identified by its files' hashes (walked once per plan); a hub id by its revision."""
        path = Path(model)
        if not path.is_dir():
            return revision
        if (model, revision) not in self._models:
            hashes = {p.relative_to(path).as_posix(): self.file_hash(p) for p in sorted(path.rglob("*")) if p.is_file()}
            self._models[(model, revision)] = json.dumps(hashes, sort_keys=True)
        return self._models[(model, revision)]


def task_data_files(task: Any) -> list[Path]:
    """Every file a task may read: the files it declares and every file under a path-valued option (e.g. ``data_dir``)."""
    found = {Path(p) for p in task.data_files()}
    for key, value in task.options().items():
        if isinstance(value, (str, Path)) and str(value) and (Path(value).is_absolute() or key.endswith(PATH_OPTION_SUFFIXES)):
            path = Path(value)
            if path.is_file():
                found.add(path)
            elif path.is_dir():
                found.update(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    return sorted(found)
