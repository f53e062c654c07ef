"""Loading models and tokenizers by hub id or local path: one code path for Pythia and the mini ladder."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_tokenizer(name_or_path: str | Path, revision: str | None = None) -> Any:
    """``AutoTokenizer.from_pretrained`` with a pad token set and left padding (for batched generation)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(name_or_path), revision=revision)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def load_model(name_or_path: str | Path, revision: str | None = None, **kwargs: Any) -> Any:
    """``AutoModelForCausalLM.from_pretrained`` (a hub id such as ``EleutherAI/pythia-410m`` or a saved mini rung)."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(name_or_path), revision=revision, **kwargs)
