"""The mini ladder: tiny GPT-NeoX configs (the Pythia architecture) and a byte-level BPE tokenizer trained locally.

Rungs are named by total parameters, embeddings included (as Pythia's names count them), and
span more than 30×. The tokenizer is trained by ``tokenizers`` on the procedural corpus and saved
as a ``PreTrainedTokenizerFast``, so a mini model loads exactly like ``EleutherAI/pythia-410m``.
Torch and transformers are imported inside functions: the planner imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from synthmix.errors import ConfigError

if TYPE_CHECKING:
    from transformers import GPTNeoXConfig, PreTrainedTokenizerFast

VOCAB_SIZE = 1024
MAX_POSITIONS = 1024
EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|padding|>"

# rung -> (hidden size, layers, heads); names are checked against the counted parameters in tests.
# The smallest rung is as wide as a 30x span allows (3.68M / 30 = 123k): at 91k (32 wide, 2 layers)
# it scored .19 on mini-commonsense, below the most-frequent-answer baseline .23; 40 wide it scored
# .73 and .32 (pretraining seeds 0 and 1), while 32 wide with 3 or 4 layers scored .21-.62.
RUNGS: dict[str, tuple[int, int, int]] = {
    "mini-120k": (40, 2, 2),
    "mini-280k": (64, 3, 4),
    "mini-860k": (128, 3, 4),
    "mini-2.2m": (192, 4, 6),
    "mini-3.7m": (256, 4, 8),
}

# rung -> peak pretraining learning rate. Smaller models take larger steps, as in Pythia's table:
# 1e-2 instead of 3e-3 raised fine-tuned mini-factual F1 at mini-280k from .057 to .105 and
# mini-math at mini-280k to .54, but at mini-2.2m it gave mini-math .44 and factual .07, where 3e-3
# had given .64 and .14 (those with the earlier corpus rows and 25 % rotary).
PRETRAIN_LR: dict[str, float] = {
    "mini-120k": 1e-2,
    "mini-280k": 1e-2,
    "mini-860k": 1e-2,
    "mini-2.2m": 3e-3,
    "mini-3.7m": 3e-3,
}


# rung -> tokens per pretraining step (rows of ``seq_len`` tokens: 8 and 16 rows of 128). The smallest
# rung takes more, smaller steps over the same tokens (GPT-3 likewise gave its smaller models smaller
# batches): at 16 rows mini-120k learned to answer mini-commonsense questions in 3 of 6 pretraining seeds
# and sat at the .23 baseline in the others (zero-shot .22-.31, fine-tuned .23-.31), at 8 it reached
# .44-.77 zero-shot in all 6. mini-280k and mini-860k did no better at 8 (mini-280k: .49-.78 over 3
# seeds, against .71-.74 at 16).
PRETRAIN_BATCH_TOKENS: dict[str, int] = {
    "mini-120k": 1024,
    "mini-280k": 2048,
    "mini-860k": 2048,
    "mini-2.2m": 2048,
    "mini-3.7m": 2048,
}


def neox_config(hidden: int, layers: int, heads: int, vocab_size: int = VOCAB_SIZE) -> GPTNeoXConfig:
    """A Pythia-style GPT-NeoX config: untied embeddings, parallel residual, 4× MLP, and rotary on every head dimension.

    Pythia rotates 25 % of each head's 64–128 dimensions (16–32); the rungs' heads have 16–32
    dimensions, so 25 % would leave 4–8, two to four frequencies for all of position. Full rotary
    lowered mini-280k's pretraining loss from 1.056 to 0.991 and raised its fine-tuned mini-factual F1
    from .041 to .056 (same corpus, same seeds).
    """
    from transformers import GPTNeoXConfig

    return GPTNeoXConfig(
        vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=4 * hidden, max_position_embeddings=MAX_POSITIONS, rotary_pct=1.0,
        use_parallel_residual=True, tie_word_embeddings=False, hidden_dropout=0.0, attention_dropout=0.0,
        bos_token_id=0, eos_token_id=0, pad_token_id=1,
    )


def count_parameters(hidden: int, layers: int, vocab_size: int = VOCAB_SIZE) -> int:
    """Total parameters of a rung, embeddings included (no torch needed)."""
    per_layer = 2 * 2 * hidden + (3 * hidden * hidden + 3 * hidden) + (hidden * hidden + hidden) \
        + (4 * hidden * hidden + 4 * hidden) + (4 * hidden * hidden + hidden)
    return 2 * vocab_size * hidden + layers * per_layer + 2 * hidden


class _Ladder(dict):
    """Rung name → ``GPTNeoXConfig``, built on first access so importing costs nothing."""

    def __missing__(self, key: str) -> Any:
        raise ConfigError(f"unknown mini rung {key!r}; rungs: {', '.join(RUNGS)}")


def ladder() -> dict[str, GPTNeoXConfig]:
    """The ladder, smallest first."""
    return _Ladder({name: neox_config(*shape) for name, shape in RUNGS.items()})


def __getattr__(name: str) -> Any:
    """``LADDER`` is built lazily (it needs transformers)."""
    if name == "LADDER":
        return ladder()
    raise AttributeError(name)


def train_tokenizer(texts: Iterable[str], vocab_size: int = VOCAB_SIZE) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on ``texts``, with Pythia's ``<|endoftext|>`` and ``<|padding|>``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[EOS_TOKEN, PAD_TOKEN], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS_TOKEN, eos_token=EOS_TOKEN,
                                   unk_token=EOS_TOKEN, pad_token=PAD_TOKEN)
