"""The Pythia suite (EleutherAI, Biderman et al. 2023): shapes, exact parameter counts, tokenizer handling.

Parameter counts are totals with embeddings (input and untied output), as Pythia's names count
them; ``tests/models/test_pythia.py`` rebuilds every size on the meta device and checks each count
against the published table. Tokenizer: GPT-NeoX-20B's BPE (50,277 entries; the embedding matrix
is padded to ``vocab_size`` rows). It ships no pad token: synthmix uses ``<|padding|>`` (id 1),
pads on the right for training and scoring and on the left for batched generation, so every
prompt ends where generation begins. Torch and transformers are imported inside functions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from synthmix.errors import ConfigError

if TYPE_CHECKING:
    from transformers import GPTNeoXConfig, PreTrainedTokenizerBase

EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|padding|>"
MAX_POSITIONS = 2048


@dataclass(frozen=True)
class PythiaShape:
    """One Pythia size: width, depth, heads, padded vocabulary and the published parameter counts."""

    hidden: int
    layers: int
    heads: int
    vocab_size: int
    params: int  # total, embeddings included
    params_non_embedding: int


# Biderman et al. 2023, Table 1 and the released config.json files (vocab padded per size)
PYTHIA: dict[str, PythiaShape] = {
    "70m": PythiaShape(512, 6, 8, 50304, 70_426_624, 18_915_328),
    "160m": PythiaShape(768, 12, 12, 50304, 162_322_944, 85_056_000),
    "410m": PythiaShape(1024, 24, 16, 50304, 405_334_016, 302_311_424),
    "1b": PythiaShape(2048, 16, 8, 50304, 1_011_781_632, 805_736_448),
    "1.4b": PythiaShape(2048, 24, 16, 50304, 1_414_647_808, 1_208_602_624),
    "2.8b": PythiaShape(2560, 32, 32, 50304, 2_775_208_960, 2_517_652_480),
    "6.9b": PythiaShape(4096, 32, 32, 50432, 6_857_302_016, 6_444_163_072),
    "12b": PythiaShape(5120, 36, 40, 50688, 11_846_072_320, 11_327_027_200),
}
_NAME = re.compile(r"^(?:EleutherAI/)?pythia-(?P<size>[0-9.]+[mb])(?:-deduped)?(?:-v0)?$", re.IGNORECASE)


def pythia_size(model: str) -> str | None:
    """The size key (``"6.9b"``) of a Pythia hub id such as ``EleutherAI/pythia-6.9b-deduped``; else ``None``."""
    match = _NAME.match(model.strip())
    if match is None or match["size"].lower() not in PYTHIA:
        return None
    return match["size"].lower()


def neox_parameters(hidden: int, layers: int, vocab_size: int, intermediate: int | None = None) -> int:
    """Total parameters of a GPT-NeoX with untied embeddings (biases and layer norms included)."""
    ff = intermediate or 4 * hidden
    per_layer = (4 * hidden  # two layer norms
                 + 3 * hidden * hidden + 3 * hidden  # fused query/key/value
                 + hidden * hidden + hidden  # attention output
                 + hidden * ff + ff + ff * hidden + hidden)  # MLP
    return 2 * vocab_size * hidden + layers * per_layer + 2 * hidden


def parameter_count(model: str) -> int:
    """Total parameters of a Pythia hub id, a mini rung, or a local GPT-NeoX folder (from its config.json)."""
    size = pythia_size(model)
    if size is not None:
        return PYTHIA[size].params
    if model.startswith("mini-"):
        from synthmix.models import mini

        hidden, layers, _ = mini.RUNGS.get(model, (None, None, None))
        if hidden is None:
            raise ConfigError(f"unknown mini rung {model!r}; rungs: {', '.join(mini.RUNGS)}")
        return mini.count_parameters(hidden, layers)
    config = Path(model).expanduser() / "config.json"
    if config.is_file():
        c = json.loads(config.read_text(encoding="utf-8"))
        if c.get("model_type") == "gpt_neox":
            return neox_parameters(c["hidden_size"], c["num_hidden_layers"], c["vocab_size"], c.get("intermediate_size"))
        raise ConfigError(f"{config}: model_type {c.get('model_type')!r} is not gpt_neox; synthmix counts only GPT-NeoX parameters")
    known = ", ".join(f"EleutherAI/pythia-{s}" for s in PYTHIA)
    raise ConfigError(f"cannot count the parameters of {model!r}: not a Pythia id ({known}), a mini rung, "
                      "or a local folder with a GPT-NeoX config.json")


def pythia_config(size: str, hidden: int | None = None, layers: int | None = None, heads: int | None = None) -> GPTNeoXConfig:
    """The ``GPTNeoXConfig`` of a Pythia size; ``hidden``/``layers``/``heads`` shrink it into a tiny stand-in of the same shape."""
    from transformers import GPTNeoXConfig

    if size not in PYTHIA:
        raise ConfigError(f"unknown Pythia size {size!r}; sizes: {', '.join(PYTHIA)}")
    shape = PYTHIA[size]
    width = hidden or shape.hidden
    return GPTNeoXConfig(
        vocab_size=shape.vocab_size, hidden_size=width, num_hidden_layers=layers or shape.layers,
        num_attention_heads=heads or shape.heads, intermediate_size=4 * width, max_position_embeddings=MAX_POSITIONS,
        rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True, tie_word_embeddings=False,
        hidden_act="gelu", layer_norm_eps=1e-5, hidden_dropout=0.0, attention_dropout=0.0,
        bos_token_id=0, eos_token_id=0, pad_token_id=1,
    )


def tokenizer_from_file(tokenizer_file: str | Path) -> PreTrainedTokenizerBase:
    """The Pythia tokenizer from GPT-NeoX-20B's ``20B_tokenizer.json``, with Pythia's special tokens and the pad token set."""
    from transformers import PreTrainedTokenizerFast

    path = Path(tokenizer_file)
    if not path.is_file():
        raise ConfigError(f"tokenizer file {str(path)!r} does not exist")
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(path), bos_token=EOS_TOKEN, eos_token=EOS_TOKEN,
                                        unk_token=EOS_TOKEN, pad_token=PAD_TOKEN)
    tokenizer.model_max_length = MAX_POSITIONS
    return tokenizer


def prepare_tokenizer(tokenizer: Any, side: Literal["train", "generate"] = "train") -> Any:
    """Give a causal-LM tokenizer a pad token (``<|padding|>`` when it has one, else EOS) and the padding side for ``side``."""
    if tokenizer.pad_token is None:
        vocab = tokenizer.get_vocab()
        tokenizer.pad_token = PAD_TOKEN if PAD_TOKEN in vocab else tokenizer.eos_token
    tokenizer.padding_side = "left" if side == "generate" else "right"
    return tokenizer


def load_tokenizer(model: str, revision: str | None = None, side: Literal["train", "generate"] = "train") -> Any:
    """``AutoTokenizer`` of a hub id or local folder, prepared for ``side``."""
    from transformers import AutoTokenizer

    return prepare_tokenizer(AutoTokenizer.from_pretrained(model, revision=revision), side)


def build_tiny_pythia(out: str | Path, tokenizer_file: str | Path, size: str = "70m", hidden: int = 32,
                      layers: int = 2, heads: int = 4, seed: int = 0) -> Path:
    """Save a randomly initialised GPT-NeoX of Pythia's shape but tiny width, with the real tokenizer, as a hub-style folder.

    The folder loads with ``AutoModelForCausalLM``/``AutoTokenizer.from_pretrained(out)`` exactly like
    ``EleutherAI/pythia-70m``: it proves the real-model path where no weights can be downloaded.
    """
    import torch
    from transformers import GPTNeoXForCausalLM

    out = Path(out)
    torch.manual_seed(seed)
    model = GPTNeoXForCausalLM(pythia_config(size, hidden=hidden, layers=layers, heads=heads))
    model.save_pretrained(out)
    tokenizer_from_file(tokenizer_file).save_pretrained(out)
    return out
