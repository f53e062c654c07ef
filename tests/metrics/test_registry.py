"""Metric metadata: registered records, direction from names, duplicates and unknown names refused."""

import pytest

from synthmix.errors import DataError
from synthmix.metrics.registry import BOOKKEEPING, metric_info, metric_names, register_metric, registered_metric


def test_registered_metrics_carry_direction_reliable_n_and_kind():
    assert (metric_info("score").higher_is_better, metric_info("score").tested) == (True, True)
    assert (metric_info("ece").higher_is_better, metric_info("ece").min_reliable_n) == (False, 300)
    assert metric_info("n_eval").kind == BOOKKEEPING and not metric_info("share_examples").tested


@pytest.mark.parametrize(("name", "direction"), [("rouge_score", True), ("top1_accuracy", True), ("pass@10", True),
                                                 ("squared_error", False), ("val_loss", False), ("weirdness", None)])
def test_unregistered_metric_direction_comes_from_its_name(name, direction):
    info = metric_info(name)
    assert info.higher_is_better is direction and info.tested


def test_registering_a_name_twice_is_refused():
    with pytest.raises(DataError, match=r"metric 'ece' is already registered"):
        register_metric("ece", False, 300, "again")


def test_unknown_metric_names_the_closest_and_all():
    with pytest.raises(DataError, match=r"unknown metric 'acc_nrm'\. Did you mean 'acc_norm'.*Registered: "):
        registered_metric("acc_nrm")
    assert "perplexity" in metric_names()


def test_metric_info_reads_lm_eval_filter_names_by_their_metric():
    info = metric_info("exact_match,strict-match")
    assert info.higher_is_better is True and info.tested
    assert info.meaning.endswith("after the 'strict-match' filter")
    assert metric_info("ece_ci_low").tested is False and metric_info("unparsed_rate").higher_is_better is False
