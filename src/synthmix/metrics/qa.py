"""Answer scoring: SQuAD 2.0 exact match and token F1, GSM8K answer extraction, multiple-choice choice.

``exact_match`` and ``token_f1`` follow the official SQuAD 2.0 evaluation script
(``evaluate-v2.0.py``): answers are lower-cased, stripped of punctuation and of the articles
"a", "an", "the", and whitespace-joined; gold answers that normalise to empty are dropped; a question
with no gold answer left is unanswerable and only an empty prediction scores 1; the score is the
maximum over gold answers.
"""

import collections
import re
import string
from dataclasses import dataclass

import numpy as np

from synthmix.metrics import MetricInputError, check_finite, check_same_length, check_texts

__all__ = [
    "OptionChoice",
    "choose_option",
    "exact_match",
    "extract_gsm8k_answer",
    "normalize_answer",
    "token_f1",
]

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_GSM8K_FINAL = re.compile(r"####\s*\$?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)")
_NUMBER = re.compile(r"-?\$?[0-9][0-9,]*(?:\.[0-9]+)?")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower-case, drop punctuation, drop articles, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _gold(answers: list[str]) -> list[str]:
    """Gold answers that survive normalisation, or [""] for an unanswerable question (the official rule)."""
    answers = check_texts("answers", answers, minimum=0)
    return [answer for answer in answers if normalize_answer(answer)] or [""]


def _check_prediction(prediction: object) -> str:
    """Return the prediction or raise naming it when it is not a string."""
    if not isinstance(prediction, str):
        raise MetricInputError(f"prediction = {prediction!r} is not a string")
    return prediction


def exact_match(prediction: str, answers: list[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0; [] = unanswerable.

    >>> exact_match("The Eiffel Tower!", ["Eiffel tower"]), exact_match("", [])
    (1.0, 1.0)
    """
    predicted = normalize_answer(_check_prediction(prediction))
    return float(max(predicted == normalize_answer(answer) for answer in _gold(answers)))


def _f1(gold: str, prediction: str) -> float:
    """Token F1 of one gold answer, as the official script computes it."""
    gold_tokens, predicted_tokens = normalize_answer(gold).split(), normalize_answer(prediction).split()
    if not gold_tokens or not predicted_tokens:
        return float(gold_tokens == predicted_tokens)
    same = sum((collections.Counter(gold_tokens) & collections.Counter(predicted_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, answers: list[str]) -> float:
    """Maximum over gold answers of the bag-of-tokens F1 after normalisation; [] = unanswerable.

    >>> token_f1("Paris, France", ["Paris"])
    0.6666666666666666
    """
    prediction = _check_prediction(prediction)
    return max(_f1(answer, prediction) for answer in _gold(answers))


def _clean_number(text: str) -> str:
    """Drop thousands separators, dollar signs, spaces and a trailing full stop from a matched number."""
    return text.replace(",", "").replace("$", "").replace(" ", "").rstrip(".")


def extract_gsm8k_answer(text: str, fallback: bool = True) -> str | None:
    """The final answer of a GSM8K solution: the number after ``####`` with commas and ``$`` removed.

    With ``fallback`` (the default) and no ``####`` number, the *last* number in the text is used
    instead (lm-evaluation-harness's "flexible extract"), so a model that states its answer without the
    marker is still scored; ``None`` when the text holds no number at all.

    >>> extract_gsm8k_answer("She pays 3 * 6 = 18 dollars.\\n#### $1,018"), extract_gsm8k_answer("so 7 apples")
    ('1018', '7')
    """
    if not isinstance(text, str):
        raise MetricInputError(f"text = {text!r} is not a string")
    final = _GSM8K_FINAL.search(text)
    if final:
        return _clean_number(final.group(1))
    if fallback:
        numbers = _NUMBER.findall(text)
        if numbers:
            return _clean_number(numbers[-1])
    return None


@dataclass(frozen=True)
class OptionChoice:
    """The chosen option by summed and by per-token log-likelihood, and the model's confidence."""

    summed: int  # argmax of the summed log-likelihoods (lm-eval's `acc`)
    normalised: int  # argmax of log-likelihood per token (the per-token `acc_norm`)
    confidence: float  # max of the softmax over the summed log-likelihoods


def choose_option(loglikelihoods: object, n_tokens: object) -> OptionChoice:
    """Pick a multiple-choice option from each option's log-likelihood and token count.

    Confidence is ``max softmax(loglikelihoods)``, the study's ``max_y P(y|x)`` restricted to the
    options. Ties go to the first option.

    >>> choose_option([-4.0, -6.0], [2, 6])
    OptionChoice(summed=0, normalised=1, confidence=0.8807970779778823)
    """
    scores = check_finite("loglikelihoods", loglikelihoods)
    lengths = check_finite("n_tokens", n_tokens)
    check_same_length(loglikelihoods=scores, n_tokens=lengths)
    positive = (lengths >= 1) & (lengths == np.round(lengths))
    if not positive.all():
        index = int(np.argmin(positive))
        raise MetricInputError(f"n_tokens[{index}] = {lengths[index]} is not a positive integer")
    shifted = np.exp(scores - scores.max())
    confidence = float(shifted.max() / shifted.sum())
    return OptionChoice(int(np.argmax(scores)), int(np.argmax(scores / lengths)), confidence)

