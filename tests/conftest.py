"""Shared fixtures: a tiny random GPT-NeoX model folder and a micro study run once per session.

Both live under one session temp folder, so nothing trains twice across tests.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

MICRO_STUDY = """
name: micro
blocks:
  - name: main
    models: [mini-120k]
    tasks: [mini-factual]
    shares: [0.0, 0.5]
    iterations: [0, 1]
    regimes: [remove]
tasks:
  mini-factual: {n_train: 32, n_validation: 8, n_test: 16}
pretrain: {token_budget: 20000}
training: {epochs: 4, lr: 1.0e-2, batch_size: 8, warmup_ratio: 0.1, max_length: 64, loss_on: all}
generation: {batch_size: 32, n_shots: 1, max_new_tokens: 24}
mixing: {n: 32, attempt_cap: 2}
evaluation: {n_eval: 16, batch_size: 16, diversity_n: 8, perplexity_n: 8}
store: store
"""


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer GPT-NeoX with a locally trained BPE tokenizer, saved like a hub model."""
    import torch
    from transformers import GPTNeoXForCausalLM

    from synthmix.models.mini import neox_config, train_tokenizer
    from synthmix.tasks import get_task

    folder = tmp_path_factory.mktemp("tiny_model")
    texts = []
    for name in ("mini-factual", "mini-commonsense", "mini-math"):
        task = get_task(name, n_train=64, n_validation=8, n_test=16)
        texts += [task.format_train(ex) for ex in task.load("train")]
    tokenizer = train_tokenizer(texts, vocab_size=400)
    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(neox_config(32, 2, 2, vocab_size=len(tokenizer)))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def micro_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A micro study file (one rung, one task, shares 0 and 0.5 of the ``remove`` control, iterations 0–1), own store.

    ``remove`` needs no pool, so the loop runs end to end even though a 120k-parameter writer parses nothing.
    """
    folder = tmp_path_factory.mktemp("micro_study")
    path = folder / "micro.yaml"
    path.write_text(textwrap.dedent(MICRO_STUDY))
    os.environ.pop("SYNTHMIX_STORE", None)
    return path


@pytest.fixture(scope="session")
def micro_first_run(micro_study: Path):
    """The micro study's first run (study, summary), shared: whichever test module asks first runs it."""
    from synthmix.config import load_study
    from synthmix.driver import run_study
    from synthmix.executors.local import LocalExecutor

    study = load_study(micro_study)
    return study, run_study(study, LocalExecutor(jobs=2))
