"""QA scoring against the official SQuAD 2.0 rules, GSM8K extraction and multiple-choice choice."""

import collections
import re
import string

import numpy as np
import pytest
from shared_paths import DATA as SHARED_DATA

from synthmix.metrics import MetricInputError
from synthmix.metrics.qa import (
    choose_option,
    exact_match,
    extract_gsm8k_answer,
    normalize_answer,
    token_f1,
)


# The official evaluate-v2.0.py functions, written out as the reference.
def official_normalize(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", s)
    return " ".join(s.split())


def official_tokens(s):
    return official_normalize(s).split() if s else []


def official_f1(gold, pred):
    gold_toks, pred_toks = official_tokens(gold), official_tokens(pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision, recall = num_same / len(pred_toks), num_same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def official_scores(answers, pred):
    gold = [a for a in answers if official_normalize(a)] or [""]
    return max(int(official_normalize(a) == official_normalize(pred)) for a in gold), max(
        official_f1(a, pred) for a in gold
    )


CASES = [
    ("The Eiffel Tower", ["Eiffel Tower", "the tower"]),
    ("an apple a day", ["apple day"]),
    ("1,000", ["1000"]),
    ("1,000 people", ["1000", "one thousand"]),
    ("", []),  # unanswerable, abstained
    ("Paris", []),  # unanswerable, answered
    ("", ["Paris"]),  # answerable, abstained
    ("!!!", ["..."]),  # gold normalises to empty: dropped, question becomes unanswerable
    ("U.S.A.", ["USA"]),
    ("the cat sat on the mat", ["a cat sat", "mat"]),
    ("Denver Broncos", ["Broncos", "Denver Broncos", "Denver  Broncos "]),
    ("1990s", ["the 1990s", "1990"]),
]


@pytest.mark.parametrize(("prediction", "answers"), CASES)
def test_exact_match_and_token_f1_follow_official_squad2_rules(prediction, answers):
    em, f1 = official_scores(answers, prediction)
    assert exact_match(prediction, answers) == em
    assert token_f1(prediction, answers) == pytest.approx(f1, abs=1e-15)


def test_normalize_answer_removes_articles_punctuation_and_case():
    assert normalize_answer("  The  Quick, brown-fox! ") == "quick brownfox"


def test_unanswerable_question_rewards_only_an_empty_prediction():
    assert exact_match("", []) == 1.0 and token_f1("", []) == 1.0
    assert exact_match("no idea", []) == 0.0 and token_f1("no idea", []) == 0.0


def test_exact_match_rejects_non_string_answers():
    with pytest.raises(MetricInputError, match=r"answers\[1\] = None is not a string"):
        exact_match("x", ["x", None])
    with pytest.raises(MetricInputError, match="prediction = 3"):
        token_f1(3, ["x"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72", "72"),
        ("#### 1,234", "1234"),
        ("#### $5", "5"),
        ("#### -3.5", "-3.5"),
        ("so the answer is 7.", "7"),  # fallback: last number
        ("first 3 then $1,200.", "1200"),
        ("no number here", None),
    ],
)
def test_extract_gsm8k_answer_reads_marker_then_last_number(text, expected):
    assert extract_gsm8k_answer(text) == expected


def test_extract_gsm8k_answer_without_fallback_requires_marker():
    assert extract_gsm8k_answer("the answer is 7", fallback=False) is None


def test_extract_gsm8k_answer_matches_gold_answers_of_real_data():
    import json

    path = SHARED_DATA / "math" / "test.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not present")
    rows = [json.loads(line) for line in path.read_text().splitlines()[:200]]
    official = [row["answer"].split("####")[-1].strip().replace(",", "") for row in rows]
    assert [extract_gsm8k_answer(row["answer"]) for row in rows] == official


def test_choose_option_summed_normalised_and_confidence():
    choice = choose_option([-4.0, -6.0, -9.0], [2, 6, 3])
    assert (choice.summed, choice.normalised) == (0, 1)
    logits = np.array([-4.0, -6.0, -9.0])
    assert choice.confidence == pytest.approx(float(np.max(np.exp(logits) / np.exp(logits).sum())), abs=1e-15)


def test_choose_option_rejects_bad_token_counts():
    with pytest.raises(MetricInputError, match=r"n_tokens\[1\] = 0.0 is not a positive integer"):
        choose_option([-1.0, -2.0], [3, 0])
    with pytest.raises(MetricInputError, match="loglikelihoods has 2, n_tokens has 1"):
        choose_option([-1.0, -2.0], [3])
