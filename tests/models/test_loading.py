import torch

from synthmix.models.loading import load_model, load_tokenizer
from synthmix.models.mini import neox_config, train_tokenizer


def test_load_model_and_tokenizer_round_trip_a_saved_mini_rung(tmp_path):
    tokenizer = train_tokenizer(["a b c d e f g h"] * 20, vocab_size=280)
    torch.manual_seed(0)
    from transformers import GPTNeoXForCausalLM

    model = GPTNeoXForCausalLM(neox_config(16, 1, 2, vocab_size=len(tokenizer)))
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, tok = load_model(tmp_path), load_tokenizer(tmp_path)
    ids = torch.tensor([tok("a b c")["input_ids"]])
    assert torch.equal(loaded(ids).logits, model(ids).logits)
    assert tok.padding_side == "left" and tok.pad_token is not None
    batch = tok(["a", "a b c"], padding=True)
    assert batch["input_ids"][0][0] == tok.pad_token_id


def test_gpu_max_memory_leaves_the_reserve_and_divides_by_the_training_state() -> None:
    from synthmix.models.loading import gpu_max_memory

    gb = 10**9
    assert gpu_max_memory([80 * gb, 40 * gb], "inference") == {0: 64 * gb, 1: 32 * gb}
    assert gpu_max_memory([80 * gb], "lora") == {0: 64 * gb}
    assert gpu_max_memory([80 * gb], "full", reserve=0.0) == {0: 20 * gb}


def test_gpu_max_memory_rejects_a_reserve_of_the_whole_card() -> None:
    import pytest

    from synthmix.errors import StepError
    from synthmix.models.loading import gpu_max_memory

    with pytest.raises(StepError, match=r"reserve must be in \[0, 1\) \(got 1.0\)"):
        gpu_max_memory([80], "full", reserve=1.0)


def test_choose_placement_by_visible_gpus() -> None:
    from synthmix.models.loading import Placement, choose_placement

    assert choose_placement([], "full") == Placement("cpu")
    assert choose_placement([80], "inference") == Placement("cuda", "bfloat16")
    assert choose_placement([80], "full") == Placement("cuda", None)  # fp32 master weights under bf16 autocast
    two = choose_placement([100, 100], "lora", bf16=False)
    assert two.kind == "sharded" and two.dtype is None and two.max_memory == {0: 80, 1: 80}


def test_detect_placement_on_this_machine_is_cpu_without_cuda() -> None:
    from synthmix.models.loading import Placement, detect_placement

    if not torch.cuda.is_available():
        assert detect_placement("full") == Placement("cpu")


def test_device_map_spreads_pythia_12b_lora_over_two_gpus_in_layer_order() -> None:
    from synthmix.models.loading import device_map_for, gpu_max_memory
    from synthmix.models.pythia import pythia_config

    device_map = device_map_for(pythia_config("12b"), gpu_max_memory([80 * 2**30] * 2, "lora"))
    layers = [device_map[f"gpt_neox.layers.{i}"] for i in range(36)]
    assert set(device_map.values()) == {0, 1}
    assert layers == sorted(layers) and 12 <= layers.count(0) <= 24  # contiguous stages, roughly balanced
    assert device_map["gpt_neox.embed_in"] == 0 and device_map["lm_head"] == 1


def test_device_map_for_a_full_12b_fine_tune_needs_four_gpus() -> None:
    import pytest

    from synthmix.errors import StepError
    from synthmix.models.loading import device_map_for, gpu_max_memory
    from synthmix.models.pythia import pythia_config

    with pytest.raises(StepError, match="does not fit the GPUs' budgets"):
        device_map_for(pythia_config("12b"), gpu_max_memory([80 * 2**30] * 2, "full"))
    four = device_map_for(pythia_config("12b"), gpu_max_memory([80 * 2**30] * 4, "full"))
    assert set(four.values()) == {0, 1, 2, 3}


def test_place_model_on_cpu_is_plain_load_model(tmp_path) -> None:
    from transformers import GPTNeoXForCausalLM

    from synthmix.models.loading import Placement, place_model

    torch.manual_seed(0)
    GPTNeoXForCausalLM(neox_config(16, 1, 2, vocab_size=300)).save_pretrained(tmp_path)
    ids = torch.tensor([[1, 2, 3]])
    a, b = place_model(tmp_path, Placement("cpu")), load_model(tmp_path)
    assert next(a.parameters()).dtype == torch.float32 and torch.equal(a(ids).logits, b(ids).logits)
