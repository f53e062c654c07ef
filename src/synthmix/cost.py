"""What a planned study costs: FLOPs, GPU-hours on a named device and disk, from tokenised data sizes.

Model FLOPs follow Kaplan et al. (2020): training ≈ 6·N·D, inference ≈ 2·N·D, with N the model's
total parameters (``models.pythia.parameter_count``) and D the tokens it processes, counted by
tokenising the tasks' actual data with the model's tokenizer:

- fine-tune: D = epochs × N_mix × mean tokens of a training text (``format_train``, capped at
  ``max_length``; synthetic examples are assumed as long as external ones). LoRA: 4·N·D (no weight
  gradients). Recomputation under gradient checkpointing is not model FLOPs; it lowers the MFU.
- generate: pool size × (few-shot synthesis prompt tokens, prefilled, + ``max_new_tokens``
  decoded); the attempt cap gives the upper bound.
- evaluate: every eval example's prompt (× options for multiple choice, scored by one forward each)
  plus, for generated answers, ``max_new_tokens`` decoded (an upper bound: greedy answers stop early).

Time: compute-bound work at ``mfu`` × the device's peak dense BF16 FLOP/s; decoding is memory-bound,
one read of the bf16 weights per decoding step of a batch, at ``bandwidth_utilisation`` × the
device's memory bandwidth. Disk: one bf16 ``save_pretrained`` checkpoint per fine-tune (adapters only
for LoRA); with ``gc``, the peak of live weights when each model is deleted after its last reader,
running readers first (one worker), and nothing after the study.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthmix.errors import ConfigError, DataError, SynthmixError

if TYPE_CHECKING:
    from synthmix.config import Study
    from synthmix.plan import Plan, Step
    from synthmix.tasks.base import Task


@dataclass(frozen=True)
class Device:
    """An accelerator's peak dense BF16 throughput, memory and bandwidth, with where the numbers come from."""

    name: str
    peak_flops: float  # dense BF16 FLOP/s (no sparsity)
    memory_gb: float
    bandwidth: float  # bytes/s of device memory
    source: str


DEVICES: dict[str, Device] = {
    "a100-40gb": Device("NVIDIA A100 40GB (SXM)", 312e12, 40, 1.555e12,
                        "NVIDIA A100 Tensor Core GPU datasheet (2021): 312 TFLOPS BF16 dense, 1,555 GB/s HBM2"),
    "a100-80gb": Device("NVIDIA A100 80GB (SXM)", 312e12, 80, 2.039e12,
                        "NVIDIA A100 Tensor Core GPU datasheet (2021): 312 TFLOPS BF16 dense, 2,039 GB/s HBM2e"),
    "h100-sxm": Device("NVIDIA H100 80GB (SXM)", 989e12, 80, 3.35e12,
                       "NVIDIA H100 Tensor Core GPU datasheet (2023): 989 TFLOPS BF16 dense (1,979 with sparsity), 3.35 TB/s HBM3"),
    "h200": Device("NVIDIA H200 141GB (SXM)", 989e12, 141, 4.8e12,
                   "NVIDIA H200 Tensor Core GPU datasheet (2024): 989 TFLOPS BF16 dense, 4.8 TB/s HBM3e"),
}
DEFAULT_MFU = 0.40  # PaLM (Chowdhery et al. 2022) reports 46 % MFU and Megatron-LM ~50 % on A100s; a fine-tune does worse
DEFAULT_BANDWIDTH_UTILISATION = 0.6
BYTES_BF16 = 2
TRAINING_STATE_BYTES = 16  # per parameter for full fine-tuning with Adam in mixed precision (weights, grads, fp32 master, m, v)
SEED_HOURS_PER_RUN = 8.0  # seed section 3.4: "approximately 8 GPU-hours on an A100 40GB" per 6.9B training run
SEED_HOURS_TOTAL = 2400.0  # seed section 3.6: "approximately 2,400 GPU-hours on NVIDIA A100 40GB GPUs"
SAMPLE = 2000  # texts tokenised per split for the mean length (an even stride over the split)


@dataclass(frozen=True)
class TaskTokens:
    """Token counts of one task's data, from its real files, under one tokenizer."""

    task: str
    train_source: str  # "train (7,083 examples)", or the eval split used as a proxy when train is unreachable
    mean_train_tokens: float
    n_eval: int
    eval_prompt_tokens: int  # summed over the eval examples (× options for multiple choice)
    eval_new_tokens: int  # summed decode budget over the eval examples (0 for multiple choice)
    synthesis_new_tokens: int


@dataclass(frozen=True)
class StepCost:
    """One planned step's model FLOPs, device hours and the bytes of weights it writes."""

    key: str
    kind: str
    model: str
    task: str
    flops: float
    gpu_hours: float
    gpu_hours_upper: float  # with the attempt cap for generation, the same otherwise
    disk_bytes: int
    tokens: float


@dataclass(frozen=True)
class CostEstimate:
    """A study's estimated compute and disk, per step and in total, with the assumptions behind it."""

    device: Device
    mfu: float
    bandwidth_utilisation: float
    tokens: dict[str, TaskTokens]
    steps: list[StepCost]
    disk_without_gc: int
    disk_peak_with_gc: int
    missing_tasks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def total(self, kind: str | None = None, upper: bool = False) -> tuple[float, float]:
        """(FLOPs, GPU-hours) of every step, or of one kind."""
        chosen = [s for s in self.steps if kind is None or s.kind == kind]
        return sum(s.flops for s in chosen), sum(s.gpu_hours_upper if upper else s.gpu_hours for s in chosen)

    def per_run(self, flops: bool = False) -> dict[tuple[str, str], float]:
        """GPU-hours (or FLOPs) of one fine-tune, by (model, task)."""
        return {(s.model, s.task): s.flops if flops else s.gpu_hours for s in self.steps if s.kind == "finetune"}

    def seed_comparison(self) -> list[str]:
        """How the estimate compares with the seed's own figures, and why they differ."""
        lines = []
        runs = {t: h for (m, t), h in self.per_run().items() if m.endswith("pythia-6.9b")}
        flops = [f for (m, _), f in self.per_run(flops=True).items() if m.endswith("pythia-6.9b")]
        if runs:
            typical = sum(runs.values()) / len(runs)
            implied = sum(flops) / len(flops) / (SEED_HOURS_PER_RUN * 3600 * DEVICES["a100-40gb"].peak_flops)
            lines.append(f"6.9B fine-tune: {typical:.2f} {self.device.name} hours on average over {len(runs)} tasks here "
                         f"(range {min(runs.values()):.2f}–{max(runs.values()):.2f}) vs the seed's ~{SEED_HOURS_PER_RUN:g} A100-40GB hours; "
                         f"8 A100 hours for these token counts would mean an MFU of {100 * implied:.1f} %.")
        total = self.total()[1]
        lines.append(f"Study: {total:,.0f} GPU-hours here ({self.total(upper=True)[1]:,.0f} with every generation at its attempt cap) "
                     f"vs the seed's ~{SEED_HOURS_TOTAL:,.0f}.")
        n_finetunes = sum(s.kind == "finetune" for s in self.steps)
        lines.append(f"The seed's total is its run count times its per-run figure (~300 runs × 8 h = 2,400 h); "
                     f"at 8 h per fine-tune the {n_finetunes} fine-tunes costed here would take {8 * n_finetunes:,} A100-hours.")
        lines.append("Why they differ: (1) full fine-tuning of 6.9B parameters needs ~16 bytes per parameter "
                     f"({6.857e9 * TRAINING_STATE_BYTES / 1e9:,.0f} GB) and does not fit one 40 GB A100: sharding or CPU offload "
                     "(ZeRO-3/offload) runs far below the assumed MFU; (2) the seed states neither its training-set size nor "
                     "sequence lengths, so its 8 hours may assume more tokens than this study's N; (3) its total covers four months: "
                     "~300 runs by its own count, development, failed and repeated runs, which no plan contains; "
                     "(4) generation with HF `generate` is memory-bound and often slower than the bandwidth model here.")
        if self.missing_tasks:
            lines.append(f"Partial: not counted, because no data could be loaded to tokenise: {', '.join(self.missing_tasks)}.")
        return lines


def mini_world_tokenizer(study: Study) -> Any:
    """The tokenizer a mini rung's pretraining step trains for this study's world (the same corpus sample, seconds)."""
    from synthmix.models.mini import train_tokenizer
    from synthmix.steps.pretrain import TOKENIZER_SAMPLE_CHARS
    from synthmix.tasks.mini.corpus import corpus_text, world_size
    from synthmix.tasks.mini.world import WORLD_OBJECTS, WORLD_PEOPLE

    sizes = world_size(study.tasks)
    return train_tokenizer(corpus_text(0, TOKENIZER_SAMPLE_CHARS, sizes.get("n_people", WORLD_PEOPLE),
                                       sizes.get("n_objects", WORLD_OBJECTS)))


def resolve_tokenizer(tokenizer: Any, study: Study) -> Any:
    """A tokenizer object from an object, a ``tokenizer.json`` path, a model folder, or the study's first model."""
    from synthmix.models.pythia import load_tokenizer, tokenizer_from_file

    if tokenizer is not None and not isinstance(tokenizer, (str, Path)):
        return tokenizer
    if tokenizer is not None:
        path = Path(tokenizer)
        return tokenizer_from_file(path) if path.is_file() else load_tokenizer(str(path))
    from synthmix.plan import is_mini

    model = next(m for b in study.blocks for m in b.models)
    if is_mini(model):
        return mini_world_tokenizer(study)
    try:
        return load_tokenizer(model, revision=study.model_revisions.get(model))
    except Exception as exc:  # hub or file errors come in many types
        raise ConfigError(f"cannot load the tokenizer of {model!r} to count tokens ({type(exc).__name__}); "
                          "pass a tokenizer file or folder (plan --cost --tokenizer PATH)") from exc


def _token_lengths(tokenizer: Any, texts: list[str], cap: int | None = None) -> list[int]:
    """Token counts of ``texts`` (no special tokens), each capped at ``cap``."""
    if not texts:
        return []
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    return [min(n, cap) for n in lengths] if cap else lengths


def stride_sample(items: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` items spread evenly over ``items`` (every k-th), deterministic."""
    step = max(1, math.ceil(len(items) / limit))
    return items[::step]


def count_task_tokens(task: Task, tokenizer: Any, study: Study, sample: int = SAMPLE) -> TaskTokens:
    """Tokenise a task's training and eval data as the steps would see it; means from an even sample of ``sample`` texts."""
    evaluation = task.load(task.eval_split)  # first: when even the eval split is unreachable, fail once
    try:
        train = task.load("train")
        source = "train"
    except DataError:
        train = evaluation
        source = f"{task.eval_split} as a proxy (train unreachable)"
    picked = stride_sample(train, sample)
    lengths = _token_lengths(tokenizer, [task.format_train(ex) for ex in picked], study.training.max_length)
    source += f", {len(picked):,} of {len(train):,} tokenised"
    evaluation = evaluation[: study.evaluation.n_eval]
    picked_eval = stride_sample(evaluation, sample)
    if task.output_type == "multiple_choice":
        texts = [task.prompt(ex) + option for ex in picked_eval for option in task.choices(ex)]
        new_tokens = 0
    else:
        texts = [task.prompt(ex) for ex in picked_eval]
        new_tokens = len(evaluation) * task.generation.max_new_tokens
    prompt_tokens = round(sum(_token_lengths(tokenizer, texts)) * len(evaluation) / len(picked_eval))
    synthesis = study.generation.max_new_tokens or task.synthesis_generation.max_new_tokens
    return TaskTokens(task.name, source, sum(lengths) / len(lengths), len(evaluation), prompt_tokens, new_tokens, synthesis)


def _decode_hours(n_sequences: int, new_tokens: int, batch: int, params: int, device: Device, utilisation: float) -> float:
    """Hours to decode ``new_tokens`` for ``n_sequences`` in batches: one read of the bf16 weights per step."""
    steps = math.ceil(n_sequences / batch) * new_tokens
    return steps * params * BYTES_BF16 / (device.bandwidth * utilisation) / 3600


def _step_model_task(step: Step) -> tuple[str, str]:
    """The model and task a step serves (every condition of a step shares them)."""
    cond = step.conditions[0]
    return cond.model, cond.task


def _checkpoint_bytes(study: Study, params: int, hidden_layers: tuple[int, int] | None) -> int:
    """Bytes of one saved fine-tune: bf16 weights, or the LoRA adapter on ``query_key_value``."""
    if study.training.method == "lora" and hidden_layers is not None:
        hidden, layers = hidden_layers
        return layers * study.training.lora.r * (hidden + 3 * hidden) * BYTES_BF16
    return params * (4 if study.training.precision == "fp32" else BYTES_BF16)


def cost_step(step: Step, study: Study, tokens: TaskTokens, device: Device, mfu: float, utilisation: float) -> StepCost:
    """The model FLOPs, hours and written bytes of one step."""
    from synthmix.models.pythia import PYTHIA, parameter_count, pythia_size

    model, task = _step_model_task(step)
    n = parameter_count(model)
    rate = device.peak_flops * mfu
    disk, upper_factor = 0, 1.0
    if step.kind == "finetune":
        d = study.training.epochs * study.mixing.n * tokens.mean_train_tokens
        flops = (4 if study.training.method == "lora" else 6) * n * d
        hours = flops / rate / 3600
        size = pythia_size(model)
        disk = _checkpoint_bytes(study, n, (PYTHIA[size].hidden, PYTHIA[size].layers) if size else None)
        return StepCost(step.key, step.kind, model, task, flops, hours, hours, disk, d)
    if step.kind == "generate":
        attempts = step.params["n_target"]
        prompt = study.generation.n_shots * tokens.mean_train_tokens + 2
        d = attempts * (prompt + tokens.synthesis_new_tokens)
        flops = 2 * n * d
        hours = 2 * n * attempts * prompt / rate / 3600 + _decode_hours(
            attempts, tokens.synthesis_new_tokens, study.generation.batch_size, n, device, utilisation)
        upper_factor = step.params["attempt_cap"]
        return StepCost(step.key, step.kind, model, task, flops, hours, hours * upper_factor, 0, d)
    if step.kind == "evaluate":
        d = tokens.eval_prompt_tokens + tokens.eval_new_tokens
        flops = 2 * n * d
        new_per_example = tokens.eval_new_tokens // max(tokens.n_eval, 1)
        hours = 2 * n * tokens.eval_prompt_tokens / rate / 3600 + (
            _decode_hours(tokens.n_eval, new_per_example, study.evaluation.batch_size, n, device, utilisation) if new_per_example else 0.0)
        return StepCost(step.key, step.kind, model, task, flops, hours, hours, 0, d)
    if step.kind == "pretrain":
        d = study.pretrain.token_budget
        flops = 6 * n * d
        return StepCost(step.key, step.kind, model, task, flops, flops / rate / 3600, flops / rate / 3600, n * 4, d)
    return StepCost(step.key, step.kind, model, task, 0.0, 0.0, 0.0, 0, 0.0)


def peak_disk_with_gc(plan: Plan, written: dict[str, int]) -> int:
    """Peak bytes of live weights running one step at a time, readers first, deleting each model after its last reader."""
    readers = {key: 0 for key in plan.steps}
    for step in plan.steps.values():
        for dep in step.inputs.values():
            readers[dep] += 1
    priority = {"evaluate": 0, "generate": 1, "mix": 2, "finetune": 3, "pretrain": 4}
    order = {key: i for i, key in enumerate(plan.steps)}
    done: set[str] = set()
    pending = set(plan.steps)
    live = peak = 0
    while pending:
        ready = [k for k in pending if all(d in done for d in plan.steps[k].inputs.values())]
        key = min(ready, key=lambda k: (priority[plan.steps[k].kind], order[k]))
        pending.discard(key)
        done.add(key)
        live += written.get(key, 0)
        peak = max(peak, live)
        for dep in plan.steps[key].inputs.values():
            readers[dep] -= 1
            if readers[dep] == 0:
                live -= written.get(dep, 0)
    return peak


def estimate_cost(study: Study, plan: Plan, tokenizer: Any = None, device: str = "a100-40gb", mfu: float = DEFAULT_MFU,
                  bandwidth_utilisation: float = DEFAULT_BANDWIDTH_UTILISATION, data_root: str | Path | None = None,
                  sample: int = SAMPLE) -> CostEstimate:
    """FLOPs, GPU-hours and disk of every planned step, from the tasks' tokenised data.

    ``data_root``: a folder with one sub-folder per task name (``math/``, ``commonsense/`` …), used
    as ``data_dir`` for tasks whose study options name none. ``sample``: texts tokenised per split.
    """
    from synthmix.tasks import get_task

    if device not in DEVICES:
        raise ConfigError(f"unknown device {device!r}; devices: {', '.join(DEVICES)}")
    if not 0 < mfu <= 1 or not 0 < bandwidth_utilisation <= 1:
        raise ConfigError(f"mfu and bandwidth utilisation must be in (0, 1] (got {mfu}, {bandwidth_utilisation})")
    spec = DEVICES[device]
    tok = resolve_tokenizer(tokenizer, study)
    tokens: dict[str, TaskTokens] = {}
    missing: list[str] = []
    for name in sorted({t for b in study.blocks for t in b.tasks}):
        options = dict(study.tasks.get(name, {}))
        if data_root is not None and "data_dir" not in options and (Path(data_root) / name).is_dir():
            options["data_dir"] = Path(data_root) / name
        try:
            tokens[name] = count_task_tokens(get_task(name, **options), tok, study, sample)
        except SynthmixError:
            missing.append(name)
    steps = [cost_step(s, study, tokens[_step_model_task(s)[1]], spec, mfu, bandwidth_utilisation)
             for s in plan.steps.values() if _step_model_task(s)[1] in tokens]
    written = {s.key: s.disk_bytes for s in steps}
    notes = [f"{spec.name}: {spec.source}.",
             f"Assumed MFU {100 * mfu:.0f} % for training and prefill; decoding at {100 * bandwidth_utilisation:.0f} % of memory bandwidth.",
             f"Training texts capped at max_length {study.training.max_length}; N_mix = {study.mixing.n:,}, {study.training.epochs:g} epochs."]
    if study.training.method == "full":
        from synthmix.models.pythia import parameter_count

        largest = max((s.model for s in steps if s.kind == "finetune"), default=None, key=parameter_count)
        if largest is not None:
            need = parameter_count(largest) * TRAINING_STATE_BYTES / 1e9
            if need > spec.memory_gb:
                notes.append(f"Full fine-tuning of {largest} needs ~{need:,.0f} GB of training state (> {spec.memory_gb:g} GB): "
                             "plan on several devices (sharded) or LoRA; hours here are device-hours at the assumed MFU.")
    return CostEstimate(spec, mfu, bandwidth_utilisation, tokens, steps, sum(written.values()),
                        peak_disk_with_gc(plan, written), missing, notes)


def _human_bytes(n: float) -> str:
    """Bytes as GB or TB."""
    return f"{n / 1e12:,.2f} TB" if n >= 1e12 else f"{n / 1e9:,.1f} GB"


def render_cost(estimate: CostEstimate) -> list[Any]:
    """Rich renderables: tokens per task, cost per kind and per (model, task) fine-tune, disk, notes and the seed comparison."""
    from rich.table import Table
    from rich.text import Text

    data = Table(title="Tokenised data (per task)")
    for column in ("task", "training texts from", "mean tokens / training text", "eval examples", "eval prompt tokens", "eval decode budget"):
        data.add_column(column, justify="left" if column in ("task", "training texts from") else "right")
    for t in estimate.tokens.values():
        data.add_row(t.task, t.train_source, f"{t.mean_train_tokens:,.1f}", f"{t.n_eval:,}", f"{t.eval_prompt_tokens:,}", f"{t.eval_new_tokens:,}")
    kinds = Table(title=f"Compute on {estimate.device.name}")
    for column in ("step", "count", "PFLOPs", "GPU-hours", "GPU-hours (attempt cap)"):
        kinds.add_column(column, justify="left" if column == "step" else "right")
    for kind in ("pretrain", "finetune", "generate", "mix", "evaluate"):
        count = sum(s.kind == kind for s in estimate.steps)
        if count:
            flops, hours = estimate.total(kind)
            kinds.add_row(kind, str(count), f"{flops / 1e15:,.1f}", f"{hours:,.1f}", f"{estimate.total(kind, upper=True)[1]:,.1f}")
    flops, hours = estimate.total()
    kinds.add_row("total", str(len(estimate.steps)), f"{flops / 1e15:,.1f}", f"{hours:,.1f}", f"{estimate.total(upper=True)[1]:,.1f}", style="bold")
    runs = Table(title="One fine-tune")
    for column in ("model", "task", "GPU-hours"):
        runs.add_column(column, justify="right" if column == "GPU-hours" else "left")
    for (model, task), h in sorted(estimate.per_run().items()):
        runs.add_row(model, task, f"{h:,.2f}")
    disk = Text(f"Disk for model weights: {_human_bytes(estimate.disk_without_gc)} without gc; "
                f"peak {_human_bytes(estimate.disk_peak_with_gc)} with gc after each model's last reader "
                "(one worker, readers first), none after `synthmix gc`.")
    notes = Text("\n".join(estimate.notes + estimate.seed_comparison()))
    return [data, kinds, runs, disk, notes]
