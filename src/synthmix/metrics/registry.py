"""Metric metadata in one place: direction, minimum reliable n, meaning, and whether a metric is ever tested.

Modelled on lm-evaluation-harness's ``register_metric(metric=..., higher_is_better=...)``: the metadata
travels with the name, so comparisons, safe shares, captions and warnings read one record. A metric that
is not registered is described from its name (sklearn's convention: ``*_score``/``accuracy`` higher is
better, ``*_error``/``*_loss`` lower is better); a name that tells nothing has no direction, so its
degradation is left undefined rather than guessed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from synthmix.errors import DataError

TESTED = "tested"  # an outcome: compared share vs 0 with a test
BOOKKEEPING = "bookkeeping"  # a count or a property of the setup: reported, never tested


@dataclass(frozen=True)
class MetricInfo:
    """What a metric is and how to read it: higher or lower is better, from which n it is reliable, tested or not."""

    name: str
    higher_is_better: bool | None  # None: the direction is unknown, so no degradation is computed
    min_reliable_n: int
    meaning: str
    kind: str = TESTED

    @property
    def tested(self) -> bool:
        """Whether share-vs-0 comparisons test this metric (bookkeeping columns are never tested)."""
        return self.kind == TESTED


_REGISTRY: dict[str, MetricInfo] = {}


def register_metric(name: str, higher_is_better: bool | None, min_reliable_n: int, meaning: str,
                    kind: str = TESTED) -> MetricInfo:
    """Register a metric's metadata; registering a name twice is an error (one record per name)."""
    if name in _REGISTRY:
        raise DataError(f"metric {name!r} is already registered; pick another name or reuse the registered one")
    if kind not in (TESTED, BOOKKEEPING):
        raise DataError(f"metric {name!r}: kind must be {TESTED!r} or {BOOKKEEPING!r} (got {kind!r})")
    info = MetricInfo(name, higher_is_better, min_reliable_n, meaning, kind)
    _REGISTRY[name] = info
    return info


def _direction_from_name(name: str) -> bool | None:
    """Direction told by a name: *_score/accuracy higher is better, *_error/*_loss lower; None when the name says nothing."""
    lowered = name.lower()
    if lowered.endswith(("_score", "accuracy")) or lowered.startswith(("accuracy", "pass@")):
        return True
    if lowered.endswith(("_error", "_loss")):
        return False
    return None


def metric_info(name: str) -> MetricInfo:
    """The registered record of ``name``, or one inferred from its name (tested, direction from the suffix)."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    base, _, flt = name.partition(",")  # lm-eval's "metric,filter" names (exact_match,strict-match)
    if flt and base in _REGISTRY:
        info = _REGISTRY[base]
        return MetricInfo(name, info.higher_is_better, info.min_reliable_n, f"{info.meaning}, after the {flt!r} filter", info.kind)
    return MetricInfo(name, _direction_from_name(name), 1, "not registered: direction inferred from the name")


def registered_metric(name: str) -> MetricInfo:
    """The registered record of ``name``; an unknown name answers with the closest names and the full list."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise DataError(f"unknown metric {name!r}.{hint} Registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def metric_names() -> list[str]:
    """Every registered metric name, sorted."""
    return sorted(_REGISTRY)


register_metric("score", True, 30, "the task's primary metric per example, averaged (accuracy, F1 or pass@1)")
register_metric("accuracy", True, 30, "fraction of examples answered correctly")
register_metric("acc", True, 30, "a task YAML's accuracy (lm-eval's acc: the option with the highest summed log-likelihood)")
register_metric("acc_norm", True, 30, "multiple-choice accuracy picking by log-likelihood ÷ characters of the option (lm-eval's acc_norm)")
register_metric("acc_norm_tokens", True, 30, "multiple-choice accuracy picking by log-likelihood ÷ tokens of the option")
register_metric("accuracy_parsed", True, 30, "accuracy over the generations whose answer could be extracted")
register_metric("unparsed_rate", False, 30, "share of generations with no extractable answer (counted wrong, left out of calibration)")
register_metric("mean_confidence", None, 30, "mean confidence over the calibrated (parsed) rows; docs/evaluation.md defines it per task kind")
register_metric("f1", True, 30, "token F1 against the gold answers (SQuAD normalisation), max over golds")
register_metric("exact_match", True, 30, "fraction of predictions equal to a gold answer after normalisation")
register_metric("pass@1", True, 30, "unbiased pass@1: probability one sampled program passes all tests")
register_metric("ece", False, 300, "expected calibration error, 10 equal-width bins (HELM: ~300+ examples)")
register_metric("ece_debiased", False, 300, "debiased ECE estimate (bin-size bias removed)")
register_metric("oc_gap", False, 30, "overconfidence gap: mean confidence − accuracy")
register_metric("brier", False, 30, "Brier score of the confidence against correctness")
register_metric("self_bleu", False, 30, "Self-BLEU of the model's outputs (higher = less diverse)")
register_metric("distinct_1", True, 30, "distinct unigrams / all unigrams of the outputs (diversity)")
register_metric("distinct_2", True, 30, "distinct bigrams / all bigrams of the outputs (diversity)")
register_metric("perplexity", False, 30, "perplexity on external texts of a held-out split that is not the scored one")
register_metric("ece_ci_low", None, 1, "lower bound of ECE's 95 % bootstrap interval", BOOKKEEPING)
register_metric("ece_ci_high", None, 1, "upper bound of ECE's 95 % bootstrap interval", BOOKKEEPING)
register_metric("n_calibrated", None, 1, "rows with a confidence (parsed answers), on which ECE, OC gap and Brier are computed", BOOKKEEPING)
register_metric("num_fewshot", None, 1, "few-shot examples in each prompt", BOOKKEEPING)
register_metric("n_eval", None, 1, "number of evaluated examples", BOOKKEEPING)
register_metric("n_params", None, 1, "model parameters, embeddings included", BOOKKEEPING)
register_metric("train_loss", None, 1, "final training loss of the fine-tune", BOOKKEEPING)
register_metric("share_examples", None, 1, "effective synthetic share of the mix, by examples", BOOKKEEPING)
register_metric("share_tokens", None, 1, "effective synthetic share of the mix, by tokens", BOOKKEEPING)
register_metric("parse_rate", None, 1, "fraction of written samples that parsed", BOOKKEEPING)
register_metric("duplicate_rate", None, 1, "fraction of pool samples repeating an earlier one", BOOKKEEPING)
register_metric("ngram_overlap", None, 1, "share of the pool's 4-grams found in the external data", BOOKKEEPING)
register_metric("test_matches", None, 1, "samples equal to an eval item by normalised hash", BOOKKEEPING)
register_metric("verified_rate", None, 1, "fraction of checked samples that passed the verifier", BOOKKEEPING)
register_metric("n_attempts", None, 1, "samples written for a pool", BOOKKEEPING)
register_metric("n_usable", None, 1, "usable samples in a pool", BOOKKEEPING)
