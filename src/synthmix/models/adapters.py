"""Load a model artifact whether it holds full weights or LoRA adapters (peft), for training or inference.

An adapter artifact names its base model in ``base_model.json``: a hub id (with its revision), or, for
a base that is itself an artifact (a pretrained mini rung, a full fine-tune), its store-relative
reference ``kind/id``, resolved against the store that holds the adapter (the folder two levels up, the
same for a committed artifact and its temporary sibling). So a store can be moved or mounted elsewhere.
peft's own ``adapter_config.json`` keeps the path it was trained from, for peft's tools; artifacts
written before ``base_model.json`` existed fall back to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthmix.models.loading import load_tokenizer

ADAPTER_CONFIG = "adapter_config.json"
BASE_RECORD = "base_model.json"


# peft's default LoRA targets of GPT-NeoX (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING, checked in tests):
# written into the plan for GPT-NeoX models so their artifact ids stay what they were when this was the only default.
GPT_NEOX_TARGETS = ["query_key_value"]


def model_type(model: str) -> str | None:
    """The architecture of a model entry without importing transformers: mini rungs and Pythia are GPT-NeoX, a folder says."""
    if model.startswith("mini-") or "pythia" in model.lower():
        return "gpt_neox"
    config = Path(model) / "config.json"
    if config.is_file():
        try:
            return json.loads(config.read_text(encoding="utf-8")).get("model_type")
        except (OSError, ValueError):
            return None
    return None


def planned_lora_targets(model: str, targets: list[str] | None) -> list[str] | None:
    """The LoRA targets a plan records: the study's, else GPT-NeoX's default, else None (peft picks per architecture)."""
    if targets is not None:
        return list(targets)
    return list(GPT_NEOX_TARGETS) if model_type(model) == "gpt_neox" else None


def lora_targets(model: Any, targets: list[str] | None) -> list[str]:
    """The modules that get adapters: ``targets`` when given, else peft's default for ``model``'s architecture."""
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as DEFAULTS

    from synthmix.errors import ConfigError

    if targets:
        return list(targets)
    kind = model.config.model_type
    if kind not in DEFAULTS:
        raise ConfigError(f"peft has no default LoRA targets for architecture {kind!r}; set training.lora.target_modules "
                          "to the names of its attention projections (e.g. [q_proj, v_proj])")
    return list(DEFAULTS[kind])


def is_adapter(folder: Path) -> bool:
    """Whether ``folder`` holds LoRA adapters rather than full weights."""
    return (Path(folder) / ADAPTER_CONFIG).is_file()


def adapter_rank(folder: Path) -> int:
    """The LoRA rank ``r`` of an adapter artifact."""
    return int(json.loads((Path(folder) / ADAPTER_CONFIG).read_text())["r"])


def base_record(source: str | Path, is_artifact: bool, revision: str | None = None) -> dict[str, Any]:
    """What ``base_model.json`` holds for a base model: ``{"artifact": "kind/id"}`` or ``{"model", "revision"}``."""
    if is_artifact:
        path = Path(source)
        return {"artifact": f"{path.parent.name}/{path.name}"}
    return {"model": str(source), "revision": revision}


def write_base_record(folder: Path, record: dict[str, Any]) -> None:
    """Record an adapter artifact's base model (see the module docstring)."""
    (Path(folder) / BASE_RECORD).write_text(json.dumps(record, indent=1, sort_keys=True))


def read_base_record(folder: Path) -> dict[str, Any]:
    """An adapter's base record; for an artifact without one, peft's recorded path."""
    path = Path(folder) / BASE_RECORD
    if path.is_file():
        return json.loads(path.read_text())
    return {"model": json.loads((Path(folder) / ADAPTER_CONFIG).read_text())["base_model_name_or_path"], "revision": None}


def adapter_base(folder: Path) -> str:
    """The base model (hub id, or folder in the store that holds ``folder``) LoRA adapters were trained on."""
    record = read_base_record(folder)
    if "artifact" in record:
        return str(Path(folder).resolve().parent.parent / record["artifact"])
    return str(record["model"])


def adapter_base_revision(folder: Path) -> str | None:
    """The hub revision of an adapter's base model (None for artifacts and local folders)."""
    return read_base_record(folder).get("revision")


def load_for_inference(folder: Path, placement: Any = None) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of an artifact; adapters are merged in memory for fast decoding.

    ``placement`` (``models.loading.Placement``) puts the model on CPU (default), one GPU or several.
    """
    from synthmix.models.loading import place_model

    folder = Path(folder)
    if is_adapter(folder):
        from peft import PeftModel

        base = place_model(adapter_base(folder), placement, revision=adapter_base_revision(folder))
        model = PeftModel.from_pretrained(base, str(folder)).merge_and_unload()
    else:
        model = place_model(folder, placement)
    return model.eval(), load_tokenizer(folder)
