"""Tiny random causal LMs of five architectures, saved like hub models with a locally trained BPE tokenizer.

GPT-NeoX, Llama, GPT-2, Qwen2 and Mistral configs, 2 layers and 32 wide: what a user brings when they point a
study at their own checkpoint. ``pad`` drops the tokenizer's pad token (as GPT-2's and Llama's ship);
``chat_template`` adds one (as instruction-tuned models ship).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARCHITECTURES = ("gpt_neox", "llama", "gpt2", "qwen2", "mistral")
CHAT_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"


def tiny_config(arch: str, vocab_size: int, eos: int) -> Any:
    """A 2-layer, 32-wide config of ``arch`` (4 heads; Llama-family with 2 key/value heads)."""
    import transformers

    from synthmix.models.mini import neox_config

    if arch == "gpt_neox":
        return neox_config(32, 2, 4, vocab_size=vocab_size)
    if arch == "gpt2":
        return transformers.GPT2Config(vocab_size=vocab_size, n_embd=32, n_layer=2, n_head=4, n_positions=512,
                                       bos_token_id=eos, eos_token_id=eos)
    llama_like = {"llama": transformers.LlamaConfig, "qwen2": transformers.Qwen2Config,
                  "mistral": transformers.MistralConfig}[arch]
    return llama_like(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      bos_token_id=eos, eos_token_id=eos, tie_word_embeddings=False)


def build_tiny_model(folder: Path, arch: str, texts: list[str], pad: bool = True, chat_template: bool = False,
                     seed: int = 0) -> Path:
    """Save a random ``arch`` model and a BPE tokenizer trained on ``texts`` into ``folder``."""
    import torch
    from transformers import AutoModelForCausalLM

    from synthmix.models.mini import train_tokenizer

    tokenizer = train_tokenizer(texts, vocab_size=400)
    if not pad:
        tokenizer.pad_token = None
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_config(arch, len(tokenizer), tokenizer.eos_token_id))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
