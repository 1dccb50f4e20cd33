"""P(A>B) across settings and its stratified bootstrap interval."""

import numpy as np
import pytest
from scipy import stats

from layerwise.sweeps.improvement import Arms, improvement, probability, wins


def test_a_always_better_is_one_with_no_doubt():
    result = improvement([Arms([0.9, 0.8, 0.85], [0.1, 0.2]), Arms([2.0], [1.0, 1.5])], "c")
    assert result.probability == 1.0
    assert (result.low, result.high) == (1.0, 1.0)
    assert result.per_setting == (1.0, 1.0)


def test_identical_arms_are_a_coin_toss():
    values = [0.7, 0.8, 0.9]
    result = improvement([Arms(values, values), Arms([0.5] * 4, [0.5] * 4)], "c")
    assert result.per_setting == (0.5, 0.5)  # ties count half
    assert result.probability == 0.5
    assert result.low < 0.5 < result.high or result.low == result.high == 0.5


def test_b_always_better_is_zero():
    assert improvement([Arms([0.1, 0.2], [0.3, 0.4])], "c").probability == 0.0


def test_one_setting_is_mann_whitney_u_over_all_pairs():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.1, 1, 17).round(1), rng.normal(0, 1, 12).round(1)  # ties too
    u = stats.mannwhitneyu(a, b).statistic
    assert probability(a, b) == pytest.approx(u / (17 * 12))
    assert wins(a, b).mean() == pytest.approx(u / (17 * 12))
    assert probability([1, 2], [2, 3]) == pytest.approx((0 + 0 + 0.5 + 0) / 4)


def test_settings_weigh_equally_whatever_their_repeats():
    result = improvement([Arms([1.0] * 30, [0.0] * 30), Arms([0.0], [1.0])], "c")
    assert result.probability == 0.5


def test_the_same_inputs_give_the_same_numbers_and_another_stream_others():
    rng = np.random.default_rng(2)
    settings = [Arms(rng.normal(0.2, 1, 10), rng.normal(0, 1, 10)) for _ in range(3)]
    first = improvement(settings, "transfer.forward.frozen_0")
    again = improvement(settings, "transfer.forward.frozen_0")
    other = improvement(settings, "transfer.forward.frozen_1")
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.probability == other.probability
    assert first.low <= first.probability <= first.high


def test_resampling_settings_widens_the_interval_when_settings_disagree():
    # A wins every pair in one setting and loses every pair in the other: within the two
    # settings nothing varies; as a sample of settings, anything from 0 to 1 can come out
    settings = [Arms([1.0, 1.1, 1.2], [0.0, 0.1]), Arms([0.0, 0.1], [1.0, 1.1, 1.2])]
    fixed = improvement(settings, "c")
    sampled = improvement(settings, "c", resample_settings=True)
    assert (fixed.low, fixed.probability, fixed.high) == (0.5, 0.5, 0.5)
    assert sampled.probability == 0.5
    assert (sampled.low, sampled.high) == (0.0, 1.0)


def test_a_paired_setting_resamples_its_pairs_together():
    # every pair has A just above B; across pairs the spread is large. Resampled as pairs
    # the diagonal stays in; the bootstrap distribution differs from independent resampling
    b = np.linspace(0, 10, 8)
    a = b + 0.5
    paired = improvement([Arms(a, b, paired=True)], "c", n_resamples=4000)
    independent = improvement([Arms(a, b, paired=False)], "c", n_resamples=4000)
    assert paired.probability == independent.probability
    assert paired.high - paired.low < independent.high - independent.low


def test_settings_without_repeats_on_one_side_are_refused():
    with pytest.raises(ValueError, match="at least one repeat"):
        improvement([Arms([1.0], [])], "c")
    with pytest.raises(ValueError, match="at least one repeat"):
        improvement([], "c")
    with pytest.raises(ValueError, match="as many repeats"):
        improvement([Arms([1.0, 2.0], [1.0], paired=True)], "c")
