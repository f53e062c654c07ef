"""Load a model artifact whether it holds full weights or LoRA adapters (peft), for training or inference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthmix.models.loading import load_model, load_tokenizer

ADAPTER_CONFIG = "adapter_config.json"


def is_adapter(folder: Path) -> bool:
    """Whether ``folder`` holds LoRA adapters rather than full weights."""
    return (Path(folder) / ADAPTER_CONFIG).is_file()


def adapter_base(folder: Path) -> str:
    """The base model (hub id or folder) LoRA adapters were trained on."""
    return json.loads((Path(folder) / ADAPTER_CONFIG).read_text())["base_model_name_or_path"]


def load_for_inference(folder: Path) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of an artifact; adapters are merged in memory for fast decoding."""
    folder = Path(folder)
    if is_adapter(folder):
        from peft import PeftModel

        model = PeftModel.from_pretrained(load_model(adapter_base(folder)), str(folder)).merge_and_unload()
    else:
        model = load_model(folder)
    return model.eval(), load_tokenizer(folder)
