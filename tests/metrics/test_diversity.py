"""Self-BLEU against the nltk sentence_bleu loop (the Texygen definition), and distinct-n by hand."""

import math
import random

import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from synthmix.metrics import MetricInputError
from synthmix.metrics.diversity import distinct_n, sampled_self_bleu, self_bleu, self_bleu_scores


def nltk_self_bleu_scores(texts, n=4):
    """Texygen: each text against all others, nltk sentence BLEU with smoothing method1."""
    tokens = [text.split() for text in texts]
    weights = (1.0 / n,) * n
    smoothing = SmoothingFunction().method1
    return [
        sentence_bleu(tokens[:i] + tokens[i + 1 :], tokens[i], weights=weights, smoothing_function=smoothing)
        for i in range(len(tokens))
    ]


def random_texts(rng, n_texts, vocabulary, max_len):
    return [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, max_len))) for _ in range(n_texts)]


def test_self_bleu_equals_nltk_loop_on_random_sets():
    rng = random.Random(3)
    for _ in range(60):
        vocabulary = [f"w{i}" for i in range(rng.choice([2, 4, 10, 50]))]
        texts = random_texts(rng, rng.randint(2, 10), vocabulary, 14)
        n = rng.randint(1, 5)
        expected = nltk_self_bleu_scores(texts, n)
        assert np.abs(self_bleu_scores(texts, n) - expected).max() <= 1e-9
        assert self_bleu(texts, n) == pytest.approx(float(np.mean(expected)), abs=1e-9)


def test_self_bleu_equals_nltk_on_length_ties_and_shared_maxima():
    texts = ["a b c d", "a b c d", "a b", "a b c d e f", "x", "", "a a a a a"]
    assert self_bleu(texts) == pytest.approx(float(np.mean(nltk_self_bleu_scores(texts))), abs=1e-9)


def test_self_bleu_of_identical_texts_is_one():
    assert self_bleu(["the same sentence here"] * 3) == pytest.approx(1.0)


def test_self_bleu_uses_the_given_tokenizer():
    texts = ["abcd", "abce", "abcf"]
    chars = self_bleu(texts, n=2, tokenizer=list)
    spaced = self_bleu([" ".join(text) for text in texts], n=2)
    assert chars == pytest.approx(spaced, abs=1e-12)


def test_sampled_self_bleu_is_within_its_bound():
    rng = random.Random(5)
    texts = random_texts(rng, 400, [f"w{i}" for i in range(30)], 20)
    exact = self_bleu(texts)
    sampled = sampled_self_bleu(texts, n_samples=100, seed=2)
    assert sampled.half_width == pytest.approx(math.sqrt(math.log(2 / 0.05) / 200))
    assert abs(sampled.estimate - exact) <= sampled.half_width
    assert sampled_self_bleu(texts, n_samples=400).estimate == pytest.approx(exact, abs=1e-12)


def test_distinct_n_counts_unique_ngrams_over_all():
    texts = ["a b a b", "a b c"]
    assert distinct_n(texts, 1) == pytest.approx(3 / 7)
    assert distinct_n(texts, 2) == pytest.approx(3 / 5)  # ab, ba, bc of ab ba ab ab bc


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["only one"], "at least 2"),
        (["fine", 3], r"texts\[1\] = 3 is not a string"),
        ("a string", "must be a list of strings"),
    ],
)
def test_self_bleu_rejects_invalid_input(texts, message):
    with pytest.raises(MetricInputError, match=message):
        self_bleu(texts)


def test_distinct_n_rejects_texts_without_ngrams():
    with pytest.raises(MetricInputError, match="no 3-gram"):
        distinct_n(["a b", "c"], 3)
    with pytest.raises(MetricInputError, match="n = 0"):
        distinct_n(["a b"], 0)
