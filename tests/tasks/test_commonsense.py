"""CommonsenseQA on its own files in both layouts, and multiple-choice confidence from a Pythia-shaped model's logits."""

import json

import numpy as np
import pytest
from shared_paths import DATA as SHARED_DATA
from shared_paths import TOKENIZER_FILE as SHARED_TOKENIZER_FILE

from synthmix.errors import ConfigError
from synthmix.metrics.qa import choose_option
from synthmix.tasks import ParseFailure, get_task

DATA = SHARED_DATA / "commonsense"
TOKENIZER_FILE = SHARED_TOKENIZER_FILE
real = pytest.mark.skipif(not DATA.is_dir(), reason="the CommonsenseQA files in shared/data/commonsense are not on this machine")

# written for these tests, in the original release schema
OWN_ROWS = [
    {"answerKey": "C", "id": "own-1", "question": {"question_concept": "kettle", "stem": "Where is a kettle usually heated?",
     "choices": [{"label": lab, "text": t} for lab, t in zip("ABCDE", ["garden", "garage", "stove", "bathtub", "library"])]}},
    {"answerKey": "A", "id": "own-2", "question": {"question_concept": "umbrella", "stem": "What is an umbrella for?",
     "choices": [{"label": lab, "text": t} for lab, t in zip("ABCDE", ["staying dry", "cooking", "writing", "sleeping", "digging"])]}},
]


def hf_layout(row):
    return {"id": row["id"], "question": row["question"]["stem"], "question_concept": row["question"]["question_concept"],
            "choices": {"label": [c["label"] for c in row["question"]["choices"]], "text": [c["text"] for c in row["question"]["choices"]]},
            "answerKey": row["answerKey"]}


@pytest.fixture(scope="module")
def original():
    return get_task("commonsense", data_dir=DATA)


@real
def test_both_layouts_load_identical_validation_records(original):
    hf = get_task("commonsense", data_dir=DATA / "hf_schema").load("validation")
    assert original.eval_split == "validation" and len(hf) == 1221 and hf == original.load("validation")


@real
@pytest.mark.parametrize("folder", ["", "hf_schema"])
def test_oracle_scores_every_validation_question(folder):
    task = get_task("commonsense", data_dir=DATA / folder)
    validation = task.load("validation")
    assert sum(task.score(task.reference(ex), ex) for ex in validation) == len(validation) == 1221


@real
def test_fixed_answers_score_zero_or_chance(original):
    validation = original.load("validation")
    wrong = sum(original.score("ABCDE"[("ABCDE".index(ex["answerKey"]) + 1) % 5], ex) for ex in validation)
    always_a = sum(original.score("A", ex) for ex in validation) / len(validation)
    assert wrong == 0 and abs(always_a - original.info.chance) < 0.03


@real
def test_train_split_is_labelled_and_disjoint_from_validation(original):
    train = original.load("train")
    assert len(train) == 9741 and all(ex["answerKey"] in "ABCDE" for ex in train)
    assert not {ex["id"] for ex in train} & {ex["id"] for ex in original.load("validation")}


def test_unlabelled_test_split_is_refused():
    with pytest.raises(ConfigError, match="no answer keys"):
        get_task("commonsense").load("test")


def test_hub_parquet_layout_loads_like_the_original(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "data").mkdir()
    pq.write_table(pa.Table.from_pylist([hf_layout(r) for r in OWN_ROWS]), tmp_path / "data" / "validation-00000-of-00001.parquet")
    (tmp_path / "orig").mkdir()
    (tmp_path / "orig" / "dev_rand_split.jsonl").write_text("".join(json.dumps(r) + "\n" for r in OWN_ROWS))
    assert get_task("commonsense", data_dir=tmp_path).load("validation") == get_task("commonsense", data_dir=tmp_path / "orig").load("validation") == OWN_ROWS


def test_parse_synthetic_round_trips_training_text():
    task = get_task("commonsense")
    parsed = task.parse_synthetic(task.format_train(OWN_ROWS[0]))
    assert parsed["answerKey"] == "C" and parsed["question"]["choices"] == OWN_ROWS[0]["question"]["choices"]
    assert task.prompt(parsed) == task.prompt(OWN_ROWS[0])
    assert isinstance(task.parse_synthetic("Question: x?\nChoices: (A) a (B) b\nAnswer: a"), ParseFailure)
    assert task.has_verifier is False and task.verify(OWN_ROWS[0]) is None


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    if not TOKENIZER_FILE.is_file():
        pytest.skip("the GPT-NeoX-20B tokenizer file is not on this machine")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from synthmix.models.pythia import build_tiny_pythia

    folder = build_tiny_pythia(tmp_path_factory.mktemp("tiny"), TOKENIZER_FILE, seed=3)
    return AutoModelForCausalLM.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)


def option_loglikelihoods_by_gather(model, tokenizer, prompt, options):
    """Summed log P(option tokens | prompt) from one forward pass per option (gathering the option tokens' log-probs)."""
    import torch

    out = []
    for option in options:
        context, cont = tokenizer(prompt)["input_ids"], tokenizer(option)["input_ids"]
        ids = torch.tensor([context + cont])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0, :-1].double(), dim=-1)  # (T-1, V)
        out.append((float(logp[len(context) - 1:].gather(-1, ids[0, len(context):, None]).sum()), len(cont)))
    return out


def option_loglikelihoods_by_loss(model, tokenizer, prompt, options):
    """The same quantity from transformers' own loss: mean NLL over the option's labels × their count."""
    import torch

    out = []
    for option in options:
        context, cont = tokenizer(prompt)["input_ids"], tokenizer(option)["input_ids"]
        ids = torch.tensor([context + cont])
        labels = ids.clone()
        labels[0, : len(context)] = -100
        with torch.no_grad():
            loss = model(ids, labels=labels).loss
        out.append(-float(loss) * len(cont))
    return out


@pytest.mark.parametrize("row", OWN_ROWS)
def test_confidence_from_logits_equals_independent_softmax(tiny, row):
    from scipy.special import softmax

    model, tokenizer = tiny
    task = get_task("commonsense")
    prompt, options = task.prompt(row), task.choices(row)
    pairs = option_loglikelihoods_by_gather(model, tokenizer, prompt, options)
    choice = choose_option([ll for ll, _ in pairs], [n for _, n in pairs])
    independent = np.array(option_loglikelihoods_by_loss(model, tokenizer, prompt, options))
    assert np.allclose([ll for ll, _ in pairs], independent, atol=1e-4)
    assert 0.2 <= choice.confidence <= 1.0  # five options: never below chance
    assert choice.confidence == pytest.approx(softmax(independent).max(), abs=1e-5)
    assert choice.summed == int(np.argmax(independent))
    assert choice.normalised == int(np.argmax(independent / [n for _, n in pairs]))
    prediction = task.choice_labels(row)[choice.summed]
    assert task.score(prediction, row) == float(prediction == row["answerKey"])


@real
def test_batched_production_scoring_on_real_questions_equals_independent_softmax(tiny, original):
    from scipy.special import softmax

    from synthmix.models.scoring import continuation_loglikelihoods

    model, tokenizer = tiny
    examples = original.load("validation")[:4]
    contexts = [original.prompt(ex) for ex in examples for _ in range(5)]
    options = [c for ex in examples for c in original.choices(ex)]
    scored = continuation_loglikelihoods(model, tokenizer, contexts, options, batch_size=7)  # right-padded batches of mixed lengths
    for i, ex in enumerate(examples):
        mine = scored[5 * i: 5 * i + 5]
        choice = choose_option([ll for ll, _ in mine], [n for _, n in mine])
        independent = np.array(option_loglikelihoods_by_loss(model, tokenizer, original.prompt(ex), original.choices(ex)))
        assert np.allclose([ll for ll, _ in mine], independent, atol=1e-3)
        assert choice.confidence == pytest.approx(softmax(independent).max(), abs=1e-4)


@real
def test_prompt_format_lm_eval_uses_lettered_prompt_and_letter_continuations() -> None:
    task = get_task("commonsense", data_dir=DATA, prompt_format="lm-eval")
    ex = task.load("validation")[0]
    texts = [c["text"] for c in ex["question"]["choices"]]
    assert task.prompt(ex) == f"Question: {ex['question']['stem'].strip()}\n" + "".join(
        f"{lab}. {t}\n" for lab, t in zip("ABCDE", texts)) + "Answer:"
    assert task.choices(ex) == [" A", " B", " C", " D", " E"] and task.target(ex) == f" {ex['answerKey']}\n\n"
    parsed = task.parse_synthetic(task.format_train(ex))
    assert parsed["answerKey"] == ex["answerKey"] and parsed["question"]["choices"] == ex["question"]["choices"]
    assert isinstance(task.parse_synthetic("Question: x\nA. a\nAnswer: A"), ParseFailure)
