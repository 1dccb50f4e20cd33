"""Summaries over repeats."""

import numpy as np
import pytest
from scipy import stats

from layerwise.pipeline.stats import band, summarize, within_range


def test_summary_matches_textbook_formulas():
    values = np.array([0.80, 0.82, 0.81, 0.85, 0.79])
    s = summarize(values)
    half = stats.t.ppf(0.975, 4) * values.std(ddof=1) / np.sqrt(5)
    assert np.isclose(s["mean"], values.mean()) and np.isclose(s["std"], values.std(ddof=1))
    assert np.isclose(s["ci_low"], values.mean() - half)
    assert np.isclose(s["ci_high"], values.mean() + half)
    assert (s["min"], s["max"], s["n"]) == (0.79, 0.85, 5)


def test_degenerate_samples_have_a_point_interval():
    for values in ([0.5], [0.7, 0.7, 0.7]):
        s = summarize(values)
        assert s["ci_low"] == s["mean"] == s["ci_high"]


def test_band_per_epoch_and_range_flag():
    curves = np.array([[0.1, 0.3], [0.5, 0.5]])
    b = band(curves)
    np.testing.assert_allclose(b["mean"], [0.2, 0.5])
    assert b["low"][0] < 0.2 < b["high"][0] and b["low"][1] == b["high"][1] == 0.5
    assert within_range(0.8, summarize([0.7, 0.9])) and not within_range(
        0.95, summarize([0.7, 0.9])
    )


def test_diverged_repeats_are_left_out_and_counted():
    s = summarize([0.1, np.nan, 0.3, np.inf])
    assert s["n"] == 2 and s["diverged"] == 2 and s["mean"] == pytest.approx(0.2)
    assert s["ci_low"] < 0.2 < s["ci_high"] and (s["min"], s["max"]) == (0.1, 0.3)
    assert "diverged" not in summarize([0.1, 0.3])
    none = summarize([np.nan, np.nan])
    assert none["n"] == 0 and none["diverged"] == 2 and np.isnan(none["mean"])


def test_a_band_over_diverged_replicas_uses_the_others():
    curves = np.array([[0.2, 0.4, np.nan], [0.5, 0.5, np.nan]])
    b = band(curves)
    np.testing.assert_allclose(b["mean"], [0.3, 0.5])
    assert b["low"][0] < 0.3 < b["high"][0] and b["low"][1] == b["high"][1] == 0.5
    assert np.isnan(band(np.array([[np.nan, np.inf]]))["mean"][0])
