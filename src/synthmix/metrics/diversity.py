"""Diversity of a set of texts: Self-BLEU (exact and sampled) and distinct-n.

Self-BLEU follows the Texygen definition: every text is the hypothesis once, with all *other* texts
as its references; its sentence BLEU-n (uniform weights, nltk's ``SmoothingFunction().method1``:
a zero n-gram match count becomes 0.1) is averaged over texts. Higher means less diverse. The value
depends on the number of texts, so compare sets of equal size.

The computation is exact and equal to the nltk loop, but vectorised: n-gram counts are built once;
for each n-gram the largest and second-largest per-text count are kept, so "max count over all
other texts" is the largest unless the text itself holds it alone; the closest other length comes
from the sorted length multiset with the text's own length removed once.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synthmix.metrics import MetricInputError, check_texts

__all__ = ["distinct_n", "sampled_self_bleu", "SampledSelfBleu", "self_bleu", "self_bleu_scores"]

Tokenizer = Callable[[str], list[str]]

_EPSILON = 0.1  # nltk SmoothingFunction.method1's default epsilon


@dataclass(frozen=True)
class _Corpus:
    """Texts as integer token ids laid end to end."""

    tokens: np.ndarray  # (T,) token id of every token, texts concatenated
    doc: np.ndarray  # (T,) index of the text each token belongs to
    position: np.ndarray  # (T,) position of the token inside its text
    lengths: np.ndarray  # (D,) tokens per text


def _check_order(n: object) -> int:
    """Return the n-gram order as a positive int or raise naming it."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise MetricInputError(f"n = {n!r} must be a positive integer")
    return int(n)


def _encode(texts: list[str], tokenizer: Tokenizer | None) -> _Corpus:
    """Tokenise (whitespace by default) and map every distinct token to an integer id."""
    split = tokenizer or str.split
    vocabulary: dict[str, int] = {}
    token_lists = [[vocabulary.setdefault(token, len(vocabulary)) for token in split(text)] for text in texts]
    lengths = np.fromiter((len(tokens) for tokens in token_lists), dtype=np.int64, count=len(texts))
    tokens = np.fromiter((t for tokens in token_lists for t in tokens), dtype=np.int64, count=int(lengths.sum()))
    doc = np.repeat(np.arange(len(texts)), lengths)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(tokens.size) - starts[doc]
    return _Corpus(tokens, doc, position, lengths)


def _ngram_ids(corpus: _Corpus, max_order: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each order 1..max_order: (dense n-gram id, text index) of every n-gram occurrence.

    An n-gram is identified by (id of its (n-1)-gram prefix, last token), renumbered densely, so ids
    stay small and exact for any vocabulary size.
    """
    vocab = int(corpus.tokens.max()) + 1 if corpus.tokens.size else 1
    gram = corpus.tokens  # (T,) id of the n-gram starting at each token; meaningful where it fits
    orders = [(gram, corpus.doc)]
    for order in range(2, max_order + 1):
        starts = np.flatnonzero(corpus.position + order <= corpus.lengths[corpus.doc])  # (T_n,)
        key = gram[starts] * vocab + corpus.tokens[starts + order - 1]
        gram = np.full_like(corpus.tokens, -1)
        gram[starts] = np.unique(key, return_inverse=True)[1].reshape(-1)
        orders.append((gram[starts], corpus.doc[starts]))
    return orders


def _clipped_matches(gram: np.ndarray, doc: np.ndarray, n_docs: int) -> np.ndarray:
    """Per text: sum over its n-grams of min(own count, max count in any *other* text) (nltk's clipping)."""
    if gram.size == 0:
        return np.zeros(n_docs)
    n_grams = int(gram.max()) + 1
    pairs, count = np.unique(doc * n_grams + gram, return_counts=True)  # one row per (text, n-gram)
    pair_doc, pair_gram = pairs // n_grams, pairs % n_grams
    order = np.lexsort((-count, pair_gram))  # by n-gram, largest count first
    sorted_gram, sorted_count = pair_gram[order], count[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = sorted_gram[1:] != sorted_gram[:-1]
    second = np.zeros(order.size, dtype=bool)
    second[1:] = first[:-1] & ~first[1:]
    top1 = np.zeros(n_grams, dtype=np.int64)
    top1_doc = np.full(n_grams, -1, dtype=np.int64)
    top2 = np.zeros(n_grams, dtype=np.int64)
    top1[sorted_gram[first]] = sorted_count[first]
    top1_doc[sorted_gram[first]] = pair_doc[order][first]
    top2[sorted_gram[second]] = sorted_count[second]
    others_max = np.where(top1_doc[pair_gram] == pair_doc, top2[pair_gram], top1[pair_gram])
    return np.bincount(pair_doc, weights=np.minimum(count, others_max), minlength=n_docs)


def _closest_other_length(lengths: np.ndarray) -> np.ndarray:
    """Per text: the length of the closest *other* text, ties to the shorter (nltk's closest_ref_length)."""
    values, counts = np.unique(lengths, return_counts=True)
    at = np.searchsorted(values, lengths)  # values[at] == own length
    shared = counts[at] > 1  # another text has exactly this length
    below = np.where(at > 0, values[np.maximum(at - 1, 0)], -1)
    above = np.where(at + 1 < values.size, values[np.minimum(at + 1, values.size - 1)], -1)
    below_gap = np.where(below >= 0, lengths - below, np.iinfo(np.int64).max)
    above_gap = np.where(above >= 0, above - lengths, np.iinfo(np.int64).max)
    nearest = np.where(below_gap <= above_gap, below, above)
    return np.where(shared, lengths, nearest)


def self_bleu_scores(texts: list[str], n: int = 4, tokenizer: Tokenizer | None = None) -> np.ndarray:
    """Per-text sentence BLEU-n of each text against all other texts (the terms Self-BLEU averages)."""
    texts = check_texts("texts", texts, minimum=2)
    n = _check_order(n)
    corpus = _encode(texts, tokenizer)
    n_docs = len(texts)
    matches = np.stack([_clipped_matches(g, d, n_docs) for g, d in _ngram_ids(corpus, n)])  # (n, D)
    totals = np.maximum(corpus.lengths[None, :] - np.arange(n)[:, None], 1).astype(np.float64)  # (n, D)
    precision = np.where(matches > 0, matches, _EPSILON) / totals
    log_mean = np.log(precision).sum(axis=0) / n  # uniform weights 1/n
    reference = _closest_other_length(corpus.lengths)
    hyp = corpus.lengths
    with np.errstate(divide="ignore"):
        penalty = np.where(hyp > reference, 1.0, np.exp(1.0 - reference / np.maximum(hyp, 1)))
    return np.where(matches[0] > 0, penalty * np.exp(log_mean), 0.0)


def self_bleu(texts: list[str], n: int = 4, tokenizer: Tokenizer | None = None) -> float:
    """Exact Self-BLEU-n (Texygen): mean sentence BLEU of each text against all others; higher = less diverse.

    >>> round(self_bleu(["the cat sat on the mat", "the cat sat on a mat", "a dog ran far away"]), 4)
    0.3812
    """
    return float(self_bleu_scores(texts, n, tokenizer).mean())


@dataclass(frozen=True)
class SampledSelfBleu:
    """A sampled Self-BLEU estimate and its Hoeffding half-width at the stated confidence."""

    estimate: float
    half_width: float  # |estimate - exact| <= half_width with probability >= confidence
    confidence: float
    n_samples: int


def sampled_self_bleu(
    texts: list[str],
    n: int = 4,
    n_samples: int = 1000,
    seed: int = 0,
    tokenizer: Tokenizer | None = None,
    confidence: float = 0.95,
) -> SampledSelfBleu:
    """Self-BLEU over ``n_samples`` hypotheses drawn without replacement, each against all other texts.

    Error bound: each term is in [0, 1] and the exact Self-BLEU is their mean over all texts, so by
    Hoeffding's inequality (which holds for sampling without replacement) the estimate is within
    ``sqrt(ln(2 / (1 - confidence)) / (2 * n_samples))`` of the exact value with probability at least
    ``confidence`` (0.043 for 1,000 samples at 95 %). References are always all other texts, so only
    the hypotheses are sampled; with ``n_samples >= len(texts)`` the result is exact (half-width 0).
    """
    texts = check_texts("texts", texts, minimum=2)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise MetricInputError(f"n_samples = {n_samples!r} must be a positive integer")
    if not 0.0 < confidence < 1.0:
        raise MetricInputError(f"confidence = {confidence!r} must be inside (0, 1)")
    scores = self_bleu_scores(texts, n, tokenizer)
    if n_samples >= len(texts):
        return SampledSelfBleu(float(scores.mean()), 0.0, confidence, len(texts))
    chosen = np.random.default_rng(seed).choice(len(texts), size=n_samples, replace=False)
    half_width = math.sqrt(math.log(2.0 / (1.0 - confidence)) / (2.0 * n_samples))
    return SampledSelfBleu(float(scores[chosen].mean()), half_width, confidence, n_samples)


def distinct_n(texts: list[str], n: int, tokenizer: Tokenizer | None = None) -> float:
    """Distinct-n (Li et al. 2016): distinct n-grams over all n-grams across the texts; higher = more diverse."""
    texts = check_texts("texts", texts)
    n = _check_order(n)
    gram, _ = _ngram_ids(_encode(texts, tokenizer), n)[-1]
    if gram.size == 0:
        raise MetricInputError(f"texts hold no {n}-gram (every text is shorter than {n} tokens)")
    return float(np.unique(gram).size / gram.size)
