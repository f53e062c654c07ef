"""Pydantic models of a study file: blocks of conditions plus training, generation, mixing and evaluation settings.

Every model forbids extra keys and is frozen. ``load_study`` turns any problem (YAML syntax, encoding,
unknown key, wrong type, out-of-range value, unknown task, ``verified`` for a task without a verifier)
into one ``ConfigError`` whose message names the file, the field path, the value and what is allowed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synthmix.errors import ConfigError, SynthmixError

Regime = Literal["replace", "accumulate", "accumulate-subsample", "verified", "remove"]
REGIMES: tuple[str, ...] = ("replace", "accumulate", "accumulate-subsample", "verified", "remove")
STEP_KINDS: tuple[str, ...] = ("pretrain", "finetune", "generate", "mix", "evaluate")


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors and values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(values: list[Any], what: str) -> list[Any]:
    """Reject a list that names the same value twice (a duplicated condition)."""
    seen: set[Any] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r} at position {i}; list each {what} once")
        seen.add(v)
    return values


class ResourceSettings(Strict):
    """What a model's steps ask a cluster for; a key left out keeps the guess from the model's name."""

    gpus: int | None = Field(default=None, ge=0, description="whole GPUs per step (mix steps never get one)")
    cpus: int | None = Field(default=None, gt=0, description="CPU cores per step")
    memory: float | None = Field(default=None, gt=0, description="host memory per step in GB")
    time: float | None = Field(default=None, gt=0, description="wall-time limit per step in minutes")


class Block(Strict):
    """One rectangle of the grid (the paper's main grid, scale validation, iteration continuation)."""

    name: str = Field(min_length=1, description="the block's name (unique in the study)")
    models: list[str] = Field(min_length=1, description="hub ids, local paths or mini ladder rungs")
    tasks: list[str] = Field(min_length=1, description="registered task names")
    shares: list[float] = Field(min_length=1, description="synthetic fractions of the training mix, 0–1")
    iterations: list[int] = Field(min_length=1, description="0 = external-only baseline; t ≥ 1 = retrained on a mix")
    seeds: list[int] = Field(default=[0], min_length=1, description="training seeds: the unit of inference")
    regimes: list[Regime] = Field(default=["replace"], min_length=1, description="how synthetic data enters the mix: replace, accumulate, accumulate-subsample, verified, remove")
    resources: ResourceSettings | None = Field(
        default=None, description="cluster request of this block's steps; default: guessed from each model's name")

    @field_validator("shares")
    @classmethod
    def _shares_in_range(cls, v: list[float]) -> list[float]:
        for i, s in enumerate(v):
            if not 0.0 <= s <= 1.0:
                raise ValueError(f"shares[{i}] must be in [0, 1] (got {s})")
        return _unique(v, "share")

    @field_validator("iterations")
    @classmethod
    def _iterations_valid(cls, v: list[int]) -> list[int]:
        for i, t in enumerate(v):
            if t < 0:
                raise ValueError(f"iterations[{i}] must be ≥ 0 (got {t})")
        return _unique(v, "iteration")

    @field_validator("seeds")
    @classmethod
    def _seeds_valid(cls, v: list[int]) -> list[int]:
        for i, s in enumerate(v):
            if s < 0:
                raise ValueError(f"seeds[{i}] must be ≥ 0 (got {s})")
        return _unique(v, "seed")

    @field_validator("models", "tasks", "regimes")
    @classmethod
    def _names_unique(cls, v: list[str]) -> list[str]:
        for i, name in enumerate(v):
            if not name.strip():
                raise ValueError(f"entry {i} is empty; give a name")
        return _unique(v, "entry")


class LoraSettings(Strict):
    """LoRA adapter shape (peft); used when ``training.method`` is ``lora``."""

    r: int = Field(default=16, gt=0, description="adapter rank")
    alpha: int = Field(default=32, gt=0, description="adapter scaling (lora_alpha)")
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0, description="dropout on the adapters' input")
    target_modules: list[str] | None = Field(
        default=None, description="modules that get adapters; default: peft's choice for the model's architecture")


class TrainingSettings(Strict):
    """Fine-tuning settings; defaults are the seed's (3 epochs, lr 1e-5, batch 32)."""

    method: Literal["full", "lora"] = Field(default="full", description="full: every weight trains; lora: adapters only (peft)")
    epochs: float = Field(default=3.0, gt=0, description="passes over the training mix (fractions allowed)")
    lr: float = Field(default=1e-5, gt=0, description="peak learning rate (AdamW)")
    batch_size: int = Field(default=32, gt=0, description="examples per forward pass")
    grad_accum: int = Field(default=1, gt=0, description="forward passes per optimizer step (effective batch = batch_size × grad_accum)")
    warmup_ratio: float = Field(default=0.03, ge=0.0, lt=1.0, description="share of optimizer steps of linear warmup, then linear decay to 0")
    weight_decay: float = Field(default=0.0, ge=0.0, description="AdamW weight decay")
    max_length: int = Field(default=512, gt=0, description="tokens per training example (prompt + answer, left-truncated)")
    loss_on: Literal["answer", "all"] = Field(default="answer", description="answer: loss on the gold answer only; all: on the whole text")
    init_from: Literal["iteration-0", "previous"] = Field(
        default="iteration-0", description="model iteration t ≥ 1 fine-tunes from (the paper: iteration 0)"
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(default="auto", description="auto: bf16 autocast on a GPU that supports it, else fp32")
    gradient_checkpointing: bool = Field(default=False, description="recompute activations in the backward pass (less memory, slower)")
    lora: LoraSettings = Field(default=LoraSettings(), description="adapter shape when method is lora")


class GenerationSettings(Strict):
    """The synthetic writer's sampling settings (the paper: temperature 0.8, top-p 0.9, unfiltered)."""

    temperature: float = Field(default=0.8, gt=0, description="sampling temperature of the synthetic writer")
    top_p: float = Field(default=0.9, gt=0, le=1.0, description="nucleus sampling mass of the synthetic writer")
    n_shots: int = Field(default=3, ge=0, description="training examples shown in each synthesis prompt (0 = zero-shot)")
    batch_size: int = Field(default=32, gt=0, description="prompts decoded at once")
    max_new_tokens: int | None = Field(default=None, gt=0, description="cap on tokens per synthetic sample; default: the task's own")
    backend: Literal["hf", "vllm"] = Field(default="hf", description="hf: transformers; vllm: the vLLM engine (GPU)")


class MixingSettings(Strict):
    """Training-set size N, pool size and the attempt cap of the synthetic writer."""

    n: int = Field(default=1000, gt=0, description="training-set size N of every mix")
    pool_size: int | None = Field(default=None, gt=0, description="usable samples per pool; default N × max share")
    attempt_cap: float = Field(default=4.0, ge=1.0, description="max raw samples = cap × pool size before the step fails")


class EvaluationSettings(Strict):
    """What evaluation measures and on how much data."""

    n_eval: int | None = Field(default=None, gt=0, description="first n examples of the eval split; None = all")
    batch_size: int = Field(default=32, gt=0, description="examples scored at once")
    diversity_n: int = Field(default=200, gt=0, description="fixed number of samples for Self-BLEU / Distinct-N")
    perplexity_n: int = Field(default=200, gt=0, description="held-out external texts for perplexity")
    ece_bins: int = Field(default=10, gt=0, description="equal-width confidence bins of ECE")
    pass_k: list[int] = Field(default=[1], description="k values of pass@k (code tasks)")
    split: Literal["eval", "tuning"] = Field(
        default="eval", description="eval: the task's eval split; tuning: its tuning split (what `synthmix tune` scores)")
    confidence: Literal["self_consistency", "answer_prob"] = Field(
        default="self_consistency", description="generated answers' confidence (docs/evaluation.md): agreement of "
        "consistency_k samples with the greedy answer, or the answer span's per-token probability")
    consistency_k: int = Field(default=4, ge=1, description="samples per item for self_consistency confidence")


class PretrainSettings(Strict):
    """How mini ladder rungs are pretrained (ignored for hub models)."""

    token_budget: int = Field(default=2_000_000, gt=0, description="corpus tokens each rung is pretrained on")
    world_seed: int = Field(default=0, ge=0, description="seed of the procedural world (corpus and mini tasks' facts)")
    seed: int = Field(default=0, ge=0, description="seed of pretraining (weight init and data order)")
    seq_len: int = Field(default=128, ge=8, le=1024, description=(
        "tokens per pretraining row: the context the rung is trained on; few-shot synthesis prompts "
        "longer than it reach positions the rung never saw"))


class AnalysisSettings(Strict):
    """How comparisons are tested and reported (docs/statistics.md says why each default is what it is)."""

    correction: Literal["bonferroni", "holm", "bh"] = Field(
        default="bonferroni", description="multiplicity correction over each family; bh = Benjamini–Hochberg FDR")
    alpha: float = Field(default=0.05, gt=0, lt=1, description="two-sided level of every test and equivalence test")
    equivalence_margin: float = Field(
        default=0.03, gt=0, lt=1, description="TOST margin, relative to the 0 % arm (0.03 = within ±3 %)")
    power: float = Field(default=0.8, gt=0, lt=1, description="power at which minimum detectable effects are stated")
    n_resamples: int = Field(default=1000, ge=100, description="resamples of the safe-share bootstrap and the Monte Carlo permutation test")


class SlurmSettings(Strict):
    """Site settings of the Slurm executor (resources per step come from the step kind and model size)."""

    partition: str | None = Field(default=None, description="#SBATCH --partition")
    account: str | None = Field(default=None, description="#SBATCH --account")
    qos: str | None = Field(default=None, description="#SBATCH --qos")
    constraint: str | None = Field(default=None, description="#SBATCH --constraint (node features)")
    time_min: int | None = Field(default=None, gt=0, description="time limit when a step's resources give none")
    setup: list[str] = Field(default_factory=list, description="shell lines run before each step (activate the venv)")
    additional: dict[str, str | int | bool] = Field(default_factory=dict, description="other #SBATCH keys")
    max_requeues: int = Field(default=3, ge=0, description="time-limit requeues per job")
    array: bool = Field(default=False, description="submit each wave of ready steps as job arrays, one per resource request")


class ClusterSettings(Strict):
    """Where the cluster executors send work."""

    slurm: SlurmSettings = Field(default=SlurmSettings(), description="site settings of the Slurm executor")


class Study(Strict):
    """A whole study file."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="the study's name: names its folder runs/<name> and its report")
    description: str = Field(default="", description="free text shown at the top of the report")
    blocks: list[Block] = Field(min_length=1, description="the grid, as one or more rectangles of conditions")
    tasks: dict[str, dict[str, Any]] = Field(default_factory=dict, description="task name → options (seed, sizes, data_dir)")
    model_revisions: dict[str, str] = Field(default_factory=dict, description="hub id → revision")
    pretrain: PretrainSettings = Field(default=PretrainSettings(), description="how mini ladder rungs are pretrained")
    training: TrainingSettings = Field(default=TrainingSettings(), description="fine-tuning settings shared by every fine-tune")
    generation: GenerationSettings = Field(default=GenerationSettings(), description="how the writer samples synthetic data and how answers are decoded")
    mixing: MixingSettings = Field(default=MixingSettings(), description="training-set size, pool size and the writer's attempt cap")
    evaluation: EvaluationSettings = Field(default=EvaluationSettings(), description="what evaluation measures and on how much data")
    analysis: AnalysisSettings = Field(default=AnalysisSettings(), description="how comparisons are tested, corrected and reported (docs/statistics.md)")
    store: Path | None = Field(default=None, description="artifact store; default $SYNTHMIX_STORE or ~/.cache/synthmix/store")
    study_dir: Path | None = Field(default=None, description="database, report and logs; default runs/<name> beside the file")
    threads: int = Field(default=1, gt=0, description="torch threads per step: part of every step's identity")
    timeouts: dict[str, float] = Field(default_factory=dict, description="step kind → seconds")
    cluster: ClusterSettings = Field(default=ClusterSettings(), description="where the cluster executors send work")
    step_modules: dict[str, str] = Field(
        default_factory=dict, description="step kind → module implementing it (your own fine-tune, say); enters the ids"
    )
    task_modules: list[str] = Field(
        default_factory=list, description=(
            "Python modules or .py files (relative to the study file) that call register_task; imported by the "
            "study's process and by every step worker"))
    resources: dict[str, ResourceSettings] = Field(
        default_factory=dict, description="model → cluster request of its steps; wins over a block's resources")
    tracking: Literal["mlflow", "wandb"] | None = Field(
        default=None, description="log each condition's parameters, curves and scores (MLflow to a local folder, W&B offline)")
    tracking_dir: Path | None = Field(default=None, description="where the tracker writes; default <study_dir>/tracking")

    @field_validator("timeouts")
    @classmethod
    def _timeouts_valid(cls, v: dict[str, float]) -> dict[str, float]:
        for kind, seconds in v.items():
            if kind not in STEP_KINDS:
                raise ValueError(f"unknown step kind {kind!r}; allowed: {', '.join(STEP_KINDS)}")
            if seconds <= 0:
                raise ValueError(f"timeout for {kind} must be > 0 seconds (got {seconds})")
        return v

    @field_validator("step_modules")
    @classmethod
    def _step_kinds_known(cls, v: dict[str, str]) -> dict[str, str]:
        for kind in v:
            if kind not in STEP_KINDS:
                raise ValueError(f"unknown step kind {kind!r}; allowed: {', '.join(STEP_KINDS)}")
        return v

    @model_validator(mode="after")
    def _blocks_unique(self) -> Study:
        names = [b.name for b in self.blocks]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"block name {name!r} is used twice (blocks[{i}]); give each block its own name")
        return self


def _field_path(loc: tuple[Any, ...]) -> str:
    """Render a pydantic location as ``blocks[0].shares[2]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    """The value at a pydantic location in the raw YAML data, or a marker when it is absent."""
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return "<missing>"
    return data


def _format_validation(path: Path, data: Any, err: ValidationError) -> str:
    """One paragraph naming file, field path, value and what is allowed for every pydantic error."""
    parts = []
    for e in err.errors():
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            msg = "unknown key; remove it or check its spelling"
        elif e["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = e["msg"].removeprefix("Value error, ")
        value = _lookup(data, loc)
        shown = "" if e["type"] == "missing" else f" (got {value!r})"
        parts.append(f"{path}: {_field_path(loc)}: {msg}{shown}")
    return "; ".join(parts)


def _check_models(path: Path, study: Study) -> None:
    """Mini ladder rungs must exist (hub ids and local paths are checked by ``synthmix.checks`` at plan time)."""
    import difflib

    from synthmix.models.mini import RUNGS

    for bi, block in enumerate(study.blocks):
        for mi, name in enumerate(block.models):
            if name.startswith("mini-") and name not in RUNGS:
                close = difflib.get_close_matches(name, list(RUNGS), n=2, cutoff=0.5)
                hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
                raise ConfigError(f"{path}: blocks[{bi}].models[{mi}]: unknown mini rung (got {name!r}); {hint}"
                                  f"rungs: {', '.join(RUNGS)}")


def _check_tasks(path: Path, study: Study) -> None:
    """Resolve every task name; reject ``verified`` for tasks without a verifier and tuning for tasks without a tuning split."""
    from synthmix.tasks import get_task
    from synthmix.tasks.base import tuning_split

    for bi, block in enumerate(study.blocks):
        for ti, name in enumerate(block.tasks):
            try:
                task = get_task(name, **study.tasks.get(name, {}))
            except SynthmixError as e:
                raise ConfigError(f"{path}: blocks[{bi}].tasks[{ti}]: {e} (got {name!r})") from None
            except TypeError as e:
                raise ConfigError(f"{path}: tasks.{name}: bad task option: {e}") from None
            if study.evaluation.split == "tuning" and tuning_split(task) is None:
                raise ConfigError(
                    f"{path}: evaluation.split: 'tuning' needs a tuning split apart from the eval split, and {name!r} "
                    f"has none (its eval split is {task.eval_split!r}); tune on mini tasks or gsm8k, or drop the option"
                )
            if "verified" in block.regimes and not task.has_verifier:
                raise ConfigError(
                    f"{path}: blocks[{bi}].regimes: 'verified' needs a task with a verifier, and {name!r} has none "
                    f"(got regimes {block.regimes!r}); drop 'verified' for this task or use another regime"
                )
    for name in study.tasks:
        if not any(name in b.tasks for b in study.blocks):
            raise ConfigError(f"{path}: tasks.{name}: options given for a task no block uses (got {name!r})")


def parse_study(data: Any, path: Path) -> Study:
    """Validate already-parsed YAML data as a study; errors name ``path``."""
    if not isinstance(data, dict):
        kind = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{path}: (top level): a study must be a mapping of settings, got {kind}")
    try:
        study = Study.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_validation(path, data, e)) from None
    study = resolve_paths(study, path)
    _import_task_modules(path, study)
    _check_models(path, study)
    _check_tasks(path, study)
    return study


PATH_OPTION_SUFFIXES = ("_dir", "_file", "_path")  # task options ending so are paths (data_dir, verifier_file, ...)


def resolve_model(name: str, base: Path) -> str:
    """A study's model entry as the steps see it: a local folder (relative to ``base``) as an absolute path, else as written.

    A folder that exists is a folder whatever its name (``mini-foo/`` included); a name starting with ``./``,
    ``../``, ``/`` or ``~`` is a path even when missing (the plan-time check reports it); anything else is a
    mini rung or a hub id.
    """
    candidate = Path(name).expanduser()
    candidate = candidate if candidate.is_absolute() else base / candidate
    if candidate.exists() or name.startswith(("./", "../", "/", "~")):
        return str(candidate.resolve())
    return name


def _resolve_option(key: str, value: Any, base: Path) -> Any:
    """A task option that names a relative path, made absolute against ``base``; other options unchanged."""
    if isinstance(value, str) and key.endswith(PATH_OPTION_SUFFIXES) and value:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else (base / path).resolve())
    return value


def _resolve_module(entry: str, base: Path) -> str:
    """A task module entry: a ``.py`` file as an absolute path (against ``base``), a module name unchanged."""
    if not entry.endswith(".py"):
        return entry
    path = Path(entry).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def resolve_task(name: str, base: Path) -> str:
    """A study's task entry: a task YAML (``*.yaml``/``*.yml``) as an absolute path against ``base``, a task name unchanged."""
    if not name.endswith((".yaml", ".yml")):
        return name
    path = Path(name).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def resolve_paths(study: Study, path: Path) -> Study:
    """Every relative path of a study (models, task YAMLs, task options, task modules) resolved against the study file's folder.

    So a study runs the same from any working directory and its artifact ids do not depend on the cwd.
    """
    base = path.resolve().parent
    blocks = [b.model_copy(update={"models": [resolve_model(m, base) for m in b.models],
                                   "tasks": [resolve_task(t, base) for t in b.tasks]}) for b in study.blocks]
    tasks = {resolve_task(name, base): {k: _resolve_option(k, v, base) for k, v in options.items()}
             for name, options in study.tasks.items()}
    resources = {resolve_model(m, base): r for m, r in study.resources.items()}
    modules = [_resolve_module(m, base) for m in study.task_modules]
    return study.model_copy(update={"blocks": blocks, "tasks": tasks, "resources": resources, "task_modules": modules})


def _import_task_modules(path: Path, study: Study) -> None:
    """Import the study's task modules here and (through the environment) in every step worker."""
    from synthmix.tasks.registry import import_task_modules

    try:
        import_task_modules(study.task_modules)
    except SynthmixError as e:
        raise ConfigError(f"{path}: task_modules: {e}") from None


MAX_YAML_NODES = 100_000  # nodes after expanding aliases; a study has hundreds, an alias bomb billions
MAX_YAML_DEPTH = 64  # nesting levels; a study has fewer than ten


class StudyLoader(yaml.SafeLoader):
    """PyYAML's safe loader that also rejects a key repeated in one mapping (naming the key and both lines)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key]}); keep one of them", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    """Nodes in the document with every alias expanded; raises past the node or depth limits (alias bombs, deep nests)."""
    if depth > MAX_YAML_DEPTH:
        raise yaml.constructor.ConstructorError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", node.start_mark)
    if id(node) in memo:
        if memo[id(node)] < 0:
            raise yaml.constructor.ConstructorError(None, None, "an alias refers to a node containing it", node.start_mark)
        return memo[id(node)]
    memo[id(node)] = -1
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, memo, depth + 1) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1) for k, v in node.value)
    else:
        size = 1
    if size > MAX_YAML_NODES:
        raise yaml.constructor.ConstructorError(
            None, None, f"expands to more than {MAX_YAML_NODES} values (aliases of aliases?)", node.start_mark)
    memo[id(node)] = size
    return size


def read_yaml(text: str, loader_class: type[yaml.SafeLoader] | None = None) -> Any:
    """Parse YAML safely: no tags beyond plain data, duplicate keys rejected, alias expansion and depth limited."""
    loader = (loader_class or StudyLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {})
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_study(path: str | Path) -> Study:
    """Read and validate a study YAML file; folders default relative to it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the study file: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start} is {raw[e.start]:#04x}); save the file as UTF-8") from None
    try:
        data = read_yaml(text)
    except RecursionError:
        raise ConfigError(f"{path}: YAML nested too deeply to read; a study needs fewer than {MAX_YAML_DEPTH} levels") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        what = "YAML error" if isinstance(e, yaml.constructor.ConstructorError) else "YAML syntax error"
        raise ConfigError(f"{path}: {what} at {where}{problem}") from None
    study = parse_study(data, path)
    return resolve_folders(study, path)


def default_store() -> Path:
    """The per-user artifact store shared by all studies: ``$SYNTHMIX_STORE`` or ``~/.cache/synthmix/store``."""
    env = os.environ.get("SYNTHMIX_STORE")
    return Path(env) if env else Path.home() / ".cache" / "synthmix" / "store"


def resolve_folders(study: Study, path: Path) -> Study:
    """Fill in the store and study folder: relative paths resolve against the study file's folder."""
    base = path.resolve().parent
    store = study.store if study.store is not None else default_store()
    study_dir = study.study_dir if study.study_dir is not None else Path("runs") / study.name
    study_dir = study_dir if study_dir.is_absolute() else base / study_dir
    tracking_dir = study.tracking_dir if study.tracking_dir is not None else study_dir / "tracking"
    return study.model_copy(
        update={
            "store": store if store.is_absolute() else base / store,
            "study_dir": study_dir,
            "tracking_dir": tracking_dir if tracking_dir.is_absolute() else base / tracking_dir,
        }
    )
