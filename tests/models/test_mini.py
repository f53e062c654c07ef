import re
import subprocess
import sys

import pytest

from synthmix.errors import ConfigError
from synthmix.models.mini import EOS_TOKEN, PAD_TOKEN, PRETRAIN_BATCH_TOKENS, PRETRAIN_LR, RUNGS, count_parameters, ladder, train_tokenizer


def _named_size(name: str) -> float:
    number, unit = re.fullmatch(r"mini-([\d.]+)([km])", name).groups()
    return float(number) * (1e3 if unit == "k" else 1e6)


def test_ladder_names_match_total_parameters_and_span_30x():
    from transformers import GPTNeoXForCausalLM

    sizes = []
    for name, config in ladder().items():
        n = sum(p.numel() for p in GPTNeoXForCausalLM(config).parameters())
        assert n == count_parameters(*RUNGS[name][:2])
        assert abs(n - _named_size(name)) / n < 0.06, (name, n)
        sizes.append(n)
    assert sizes == sorted(sizes) and sizes[-1] / sizes[0] >= 30 and sizes[1] <= 2e6


def test_every_rung_has_a_pretraining_lr_that_does_not_grow_and_a_batch_that_does_not_shrink_with_size():
    assert list(PRETRAIN_LR) == list(PRETRAIN_BATCH_TOKENS) == list(RUNGS)
    assert list(PRETRAIN_LR.values()) == sorted(PRETRAIN_LR.values(), reverse=True)
    assert list(PRETRAIN_BATCH_TOKENS.values()) == sorted(PRETRAIN_BATCH_TOKENS.values())


def test_ladder_uses_rotary_on_every_head_dimension():
    assert {c.rope_parameters["partial_rotary_factor"] for c in ladder().values()} == {1.0}


def test_ladder_unknown_rung_raises_config_error():
    with pytest.raises(ConfigError, match="mini-120k"):
        ladder()["mini-9t"]


def test_importing_mini_does_not_import_torch():
    code = "import sys, synthmix.models.mini, synthmix.steps.pretrain; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_train_tokenizer_is_deterministic_and_round_trips():
    texts = ["Question: Ana has 3 eggs.\nAnswer: 3+1 = <<3+1=4>>4\n#### 4", "def f(xs):\n    return xs\n"] * 50
    a, b = train_tokenizer(texts, vocab_size=300), train_tokenizer(texts, vocab_size=300)
    assert a.backend_tokenizer.to_str() == b.backend_tokenizer.to_str()
    assert a.decode(a("Zyx ünï 12\n\tok")["input_ids"]) == "Zyx ünï 12\n\tok"
    assert a.eos_token == EOS_TOKEN and a.pad_token == PAD_TOKEN and a.pad_token_id != a.eos_token_id
