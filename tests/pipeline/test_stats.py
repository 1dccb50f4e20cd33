"""Summaries over repeats, the interval each metric gets, and the published-number rule."""

import json

import numpy as np
import pytest
from scipy import stats

from layerwise.pipeline.stats import (
    BOOTSTRAP,
    INTERVALS,
    Published,
    T,
    as_printed,
    band,
    interval_of,
    summarize,
    within_range,
)

# 29 replicas that trained (small errors) and one that did not: the shape of the greedy
# autoencoders' reconstruction error, where a t interval reaches below zero
HEAVY_TAIL = np.r_[np.linspace(0.001, 0.02, 29), 12.0]


def test_summary_matches_textbook_formulas():
    values = np.array([0.80, 0.82, 0.81, 0.85, 0.79])
    s = summarize(values, metric="test_accuracy")
    half = stats.t.ppf(0.975, 4) * values.std(ddof=1) / np.sqrt(5)
    assert np.isclose(s["mean"], values.mean()) and np.isclose(s["std"], values.std(ddof=1))
    assert np.isclose(s["ci_low"], values.mean() - half)
    assert np.isclose(s["ci_high"], values.mean() + half)
    assert (s["min"], s["max"], s["n"]) == (0.79, 0.85, 5)


def test_an_accuracy_summary_keeps_its_keys_and_its_t_interval():
    values = [0.80, 0.82, 0.81, 0.85, 0.79]
    s = summarize(values, metric="train_accuracy")
    assert list(s) == ["mean", "std", "ci_low", "ci_high", "min", "max", "n"]
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=s["std"] / np.sqrt(5))
    assert (s["ci_low"], s["ci_high"]) == (float(low), float(high))  # exactly, bit for bit


def test_each_metric_gets_its_interval_from_the_one_table():
    for name in ("train_accuracy", "test_accuracy", "best_single", "accuracy_difference"):
        assert interval_of(name) == T
    for name in ("train_loss", "test_loss", "train_mse", "test_mse", "test_nll"):
        assert interval_of(name) == BOOTSTRAP
    assert set(INTERVALS.values()) == {T, BOOTSTRAP}
    with pytest.raises(ValueError, match="no summary is defined for metric 'f1'"):
        summarize([0.1, 0.2], metric="f1")
    with pytest.raises(TypeError):  # the metric is always named
        summarize([0.1, 0.2])


def test_an_error_summary_has_a_bootstrap_interval_inside_its_bounds():
    mean, std, n = HEAVY_TAIL.mean(), HEAVY_TAIL.std(ddof=1), HEAVY_TAIL.size
    t_low, _ = stats.t.interval(0.95, n - 1, loc=mean, scale=std / np.sqrt(n))
    assert t_low < 0  # the t interval claims a negative error is plausible
    s = summarize(HEAVY_TAIL, metric="test_mse")
    assert 0 <= HEAVY_TAIL.min() <= s["ci_low"] < s["mean"] < s["ci_high"] <= HEAVY_TAIL.max()
    assert s["median"] == pytest.approx(np.median(HEAVY_TAIL))
    assert (s["q1"], s["q3"]) == pytest.approx(tuple(np.percentile(HEAVY_TAIL, [25, 75])))
    assert s["q1"] < s["median"] < s["q3"] < s["mean"]  # the outlier drags the mean only
    assert list(s) == [
        *("mean", "std", "ci_low", "ci_high", "median", "q1", "q3", "min", "max", "n")
    ]


def test_bootstrap_intervals_stay_non_negative_on_many_skewed_samples():
    rng = np.random.default_rng(7)
    for n in (2, 3, 5, 10, 30):
        for _ in range(20):
            values = rng.lognormal(-4, 3, n)  # >= 0, very skewed
            s = summarize(values, metric="train_loss")
            assert values.min() <= s["ci_low"] <= s["ci_high"] <= values.max()


def test_a_bootstrap_summary_repeats_bit_for_bit():
    first = summarize(HEAVY_TAIL, metric="test_mse")
    again = summarize(HEAVY_TAIL.copy(), metric="test_mse")
    assert json.dumps(first) == json.dumps(again)
    # nothing else moves it: not a draw from the global stream, not an earlier summary
    np.random.seed(123)
    summarize(HEAVY_TAIL[::-1], metric="test_nll")
    assert json.dumps(summarize(HEAVY_TAIL, metric="test_mse")) == json.dumps(first)
    curves = np.tile(HEAVY_TAIL, (3, 1))
    b = band(curves, metric="train_loss")
    assert (b["low"] == first["ci_low"]).all() and (b["high"] == first["ci_high"]).all()


def test_degenerate_samples_have_a_point_interval():
    for metric in ("test_accuracy", "test_mse"):
        for values in ([0.5], [0.7, 0.7, 0.7]):
            s = summarize(values, metric=metric)
            assert s["ci_low"] == s["mean"] == s["ci_high"]


def test_band_per_epoch_and_range_flag():
    curves = np.array([[0.1, 0.3], [0.5, 0.5]])
    b = band(curves, metric="test_accuracy")
    np.testing.assert_allclose(b["mean"], [0.2, 0.5])
    assert b["low"][0] < 0.2 < b["high"][0] and b["low"][1] == b["high"][1] == 0.5
    s = summarize([0.7, 0.9], metric="test_accuracy")
    assert within_range(Published("0.8"), s) and not within_range(Published("0.95"), s)


def test_a_loss_band_stays_within_its_replicas():
    curves = np.array([HEAVY_TAIL, HEAVY_TAIL / 2, [0.5] * HEAVY_TAIL.size])
    b = band(curves, metric="test_loss")
    assert (b["low"] >= curves.min(axis=1)).all() and (b["high"] <= curves.max(axis=1)).all()
    assert b["low"][2] == b["high"][2] == 0.5
    t = band(curves, metric="test_accuracy")  # the same curves read as accuracies
    assert t["low"][0] < 0 < b["low"][0]


def test_diverged_repeats_are_left_out_and_counted():
    s = summarize([0.1, np.nan, 0.3, np.inf], metric="test_accuracy")
    assert s["n"] == 2 and s["diverged"] == 2 and s["mean"] == pytest.approx(0.2)
    assert s["ci_low"] < 0.2 < s["ci_high"] and (s["min"], s["max"]) == (0.1, 0.3)
    assert "diverged" not in summarize([0.1, 0.3], metric="test_accuracy")
    none = summarize([np.nan, np.nan], metric="test_accuracy")
    assert none["n"] == 0 and none["diverged"] == 2 and np.isnan(none["mean"])
    error = summarize([np.nan, np.inf], metric="test_mse")
    assert error["n"] == 0 and np.isnan(error["median"]) and np.isnan(error["q3"])


def test_a_band_over_diverged_replicas_uses_the_others():
    curves = np.array([[0.2, 0.4, np.nan], [0.5, 0.5, np.nan]])
    b = band(curves, metric="test_accuracy")
    np.testing.assert_allclose(b["mean"], [0.3, 0.5])
    assert b["low"][0] < 0.3 < b["high"][0] and b["low"][1] == b["high"][1] == 0.5
    assert np.isnan(band(np.array([[np.nan, np.inf]]), metric="test_accuracy")["mean"][0])


# -- published numbers and their printed precision -----------------------------------------


def test_a_published_number_keeps_what_was_printed():
    p = Published("0.000")
    assert p == 0.0 and p.text == "0.000" and p.decimals == 3 and p.half_unit == 0.0005
    assert Published("2.5").decimals == 1 and Published("12").half_unit == 0.5
    with pytest.raises(TypeError):
        Published(0.0)  # a float has already lost its printed precision
    table = as_printed({"a": {2: "0.830"}, "b": ("0.807", "0.818")})
    assert table["a"][2].text == "0.830" and [p.text for p in table["b"]] == ["0.807", "0.818"]


def test_within_range_reads_the_printed_precision():
    errors = {"min": 0.0004, "max": 0.0096}
    assert within_range(Published("0.000"), errors)  # 0.0004 rounds to 0.000
    assert not within_range(Published("0.000"), {**errors, "min": 0.0006})
    assert within_range(Published("0.0"), {**errors, "min": 0.04})  # 0.0 is anything < 0.05
    assert within_range(Published("0.010"), errors)  # 0.0095 .. 0.0105 meets ..0.0096
    assert not within_range(Published("0.011"), errors)
    assert not within_range(Published("0.0100"), errors)  # a fourth decimal narrows it


def test_within_range_for_ranges_and_for_a_ci():
    s = {"min": 0.80, "max": 0.8106, "ci_low": 0.802, "ci_high": 0.8066}
    assert within_range((Published("0.811"), Published("0.820")), s)  # from 0.8105
    assert not within_range((Published("0.812"), Published("0.820")), s)
    assert not within_range((Published("0.790"), Published("0.799")), s)  # ends at 0.7995
    assert within_range(Published("0.807"), s, ("ci_low", "ci_high"))  # from 0.8065
    assert not within_range(Published("0.808"), s, ("ci_low", "ci_high"))
    with pytest.raises(TypeError, match="printed precision"):
        within_range(0.805, s)
