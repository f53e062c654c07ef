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
