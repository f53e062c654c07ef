"""The Pythia path: published shapes and counts, the real tokenizer, and a tiny Pythia-shaped model loaded like a hub model."""


import pytest
import torch
from shared_paths import TOKENIZER_FILE as SHARED_TOKENIZER_FILE
from transformers import AutoModelForCausalLM, AutoTokenizer, GPTNeoXForCausalLM

from synthmix.errors import ConfigError
from synthmix.models.pythia import (
    PAD_TOKEN,
    PYTHIA,
    build_tiny_pythia,
    neox_parameters,
    parameter_count,
    prepare_tokenizer,
    pythia_config,
    pythia_size,
    tokenizer_from_file,
)

TOKENIZER_FILE = SHARED_TOKENIZER_FILE
needs_tokenizer = pytest.mark.skipif(not TOKENIZER_FILE.is_file(), reason="the GPT-NeoX-20B tokenizer file is not on this machine")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    if not TOKENIZER_FILE.is_file():
        pytest.skip("the GPT-NeoX-20B tokenizer file is not on this machine")
    return build_tiny_pythia(tmp_path_factory.mktemp("pythia-tiny"), TOKENIZER_FILE)


@pytest.mark.parametrize("size", list(PYTHIA))
def test_pythia_config_parameters_match_published_count(size):
    with torch.device("meta"):
        model = GPTNeoXForCausalLM(pythia_config(size))
    total = sum(p.numel() for p in model.parameters())
    embeddings = model.get_input_embeddings().weight.numel() + model.get_output_embeddings().weight.numel()
    shape = PYTHIA[size]
    assert total == shape.params == neox_parameters(shape.hidden, shape.layers, shape.vocab_size)
    assert total - embeddings == shape.params_non_embedding


@pytest.mark.parametrize("name, size", [("EleutherAI/pythia-6.9b", "6.9b"), ("pythia-410m-deduped", "410m"),
                                        ("EleutherAI/pythia-12b", "12b"), ("EleutherAI/pythia-7b", None), ("gpt2", None)])
def test_pythia_size_parses_hub_ids(name, size):
    assert pythia_size(name) == size


def test_parameter_count_of_local_folder_reads_config(tiny_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    assert parameter_count(str(tiny_dir)) == sum(p.numel() for p in model.parameters())


def test_parameter_count_unknown_model_names_the_options():
    with pytest.raises(ConfigError, match="EleutherAI/pythia-6.9b"):
        parameter_count("no-such-model")


@needs_tokenizer
def test_tokenizer_from_file_matches_the_release_ids():
    tokenizer = tokenizer_from_file(TOKENIZER_FILE)
    assert len(tokenizer) == 50277
    assert tokenizer("Hello world, this is a test.")["input_ids"] == [12092, 1533, 13, 436, 310, 247, 1071, 15]
    assert (tokenizer.eos_token_id, tokenizer.pad_token_id) == (0, 1)


def test_tiny_model_loads_like_a_hub_model(tiny_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    config = model.config
    assert type(model).__name__ == "GPTNeoXForCausalLM"
    assert (config.vocab_size, config.rope_parameters["partial_rotary_factor"], config.use_parallel_residual) == (50304, 0.25, True)
    assert model.get_input_embeddings().weight.data_ptr() != model.get_output_embeddings().weight.data_ptr()  # untied
    assert tokenizer.pad_token == PAD_TOKEN and tokenizer.decode(tokenizer("Question: 2+2?")["input_ids"]) == "Question: 2+2?"


def test_prepare_tokenizer_sets_pad_and_sides(tiny_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    tokenizer.pad_token = None
    generate = prepare_tokenizer(tokenizer, "generate")
    assert generate.pad_token == PAD_TOKEN and generate.padding_side == "left"
    assert prepare_tokenizer(tokenizer, "train").padding_side == "right"


def test_left_padded_greedy_generation_equals_unpadded(tiny_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_dir).eval()
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(tiny_dir), "generate")
    prompts = ["Q: who wrote it?\nA:", "Question: A robe takes 2 bolts of blue fiber. How many?\nAnswer:"]
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    assert batch["attention_mask"][0, 0] == 0 and batch["attention_mask"][0, -1] == 1  # short prompt padded on the left
    with torch.no_grad():
        batched = model.generate(**batch, max_new_tokens=6, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        for i, prompt in enumerate(prompts):
            alone = tokenizer(prompt, return_tensors="pt")
            single = model.generate(**alone, max_new_tokens=6, do_sample=False, pad_token_id=tokenizer.pad_token_id)
            assert batched[i, -6:].tolist() == single[0, -6:].tolist()
