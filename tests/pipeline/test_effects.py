"""Effects and verdicts on constructed data whose true difference is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from layerwise.pipeline import effects
from layerwise.pipeline.claims import (
    AGREE,
    DIFFERS,
    HOLDS,
    INCONCLUSIVE,
    MIXED,
    REVERSES,
    Claim,
    Claims,
    Family,
)
from layerwise.pipeline.stats import Published

ACC = "test_accuracy"


def claim(effect, **kw) -> Claim:
    return Claim("study.x", "a beats b", "a", "b", ACC, effect, **kw)


def sample(mean, sd, n, seed):
    return np.random.default_rng(seed).normal(mean, sd, n)


def test_a_true_difference_holds_and_a_reversed_one_reverses():
    a, b = sample(0.85, 0.01, 30, 1), sample(0.80, 0.01, 30, 2)
    assert claim(effects.welch(a, b, metric=ACC)).verdict == HOLDS
    assert claim(effects.welch(b, a, metric=ACC)).verdict == REVERSES
    same = sample(0.80, 0.01, 30, 3)
    assert claim(effects.welch(same, b, metric=ACC)).verdict == INCONCLUSIVE


def test_welch_matches_scipy():
    a, b = sample(0.85, 0.02, 12, 4), sample(0.80, 0.05, 30, 5)
    e = effects.welch(a, b, metric=ACC)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert e.estimate == pytest.approx(a.mean() - b.mean())
    assert (e.low, e.high) == pytest.approx((ci.low, ci.high))
    assert e.p == pytest.approx(ref.pvalue)
    assert (e.n, e.n_b, e.design) == (12, 30, effects.WELCH)


def test_pairing_finds_a_shift_that_welch_cannot_see():
    """Replicas differ a lot from one another, a step adds 0.01 to each: paired holds,
    the same numbers treated as independent do not."""
    before = sample(0.80, 0.05, 20, 6)
    after = before + 0.01 + sample(0, 0.001, 20, 7)
    p = effects.paired(after, before, metric=ACC)
    w = effects.welch(after, before, metric=ACC)
    assert claim(p).verdict == HOLDS
    assert claim(w).verdict == INCONCLUSIVE
    assert p.estimate == pytest.approx(w.estimate)
    ref = stats.ttest_rel(after, before)
    assert p.p == pytest.approx(ref.pvalue)
    assert (p.low, p.high) == pytest.approx(tuple(ref.confidence_interval(0.95)))


def test_paired_drops_pairs_with_a_diverged_side_and_refuses_unequal_lengths():
    a = np.array([0.8, np.nan, 0.82, 0.81])
    b = np.array([0.7, 0.7, np.inf, 0.72])
    e = effects.paired(a, b, metric=ACC)
    assert e.n == 2 and e.estimate == pytest.approx(0.095)
    with pytest.raises(ValueError, match="as many values"):
        effects.paired([1, 2, 3], [1, 2], metric=ACC)


def test_too_few_repeats_is_inconclusive_not_an_error():
    e = effects.welch([0.8], [0.7, 0.71], metric=ACC)
    assert not e.defined and claim(e).verdict == INCONCLUSIVE
    assert Claim("s.x", "", "a", "b", ACC, e).detail()["effect"] is None


def test_constant_differences_need_no_interval():
    e = effects.paired([0.5, 0.75], [0.25, 0.5], metric=ACC)
    assert (e.low, e.high, e.p) == (0.25, 0.25, 0.0)
    assert claim(e).verdict == HOLDS


def test_heavy_tailed_metrics_get_a_bootstrap_interval_that_repeats_bit_for_bit():
    a = np.r_[np.full(18, 0.3), 5.0, 9.0]  # losses: a long upper tail
    b = np.full(20, 0.2) + np.linspace(0, 0.01, 20)
    e1 = effects.welch(a, b, metric="test_loss")
    e2 = effects.welch(a, b, metric="test_loss")
    assert e1.interval == "bootstrap" and (e1.low, e1.high, e1.p) == (e2.low, e2.high, e2.p)
    assert e1.low < e1.estimate < e1.high
    p = effects.paired(a, b, metric="test_loss")
    assert p.interval == "bootstrap" and p.low < p.estimate < p.high


def test_a_published_single_run_is_set_against_one_run_of_ours_not_our_mean():
    ours = sample(0.80, 0.02, 30, 8)
    within_one_run = Published(f"{ours.mean() + 0.03:.3f}")  # beyond our mean's CI
    e = effects.single_run_vs_published(ours, within_one_run, metric=ACC)
    assert claim(e, direction=AGREE).verdict == HOLDS
    mean_ci = stats.t.interval(0.95, 29, ours.mean(), ours.std(ddof=1) / np.sqrt(30))
    assert float(within_one_run) > mean_ci[1]  # a CI-of-the-mean test would have said no
    far = Published(f"{ours.mean() + 0.2:.3f}")
    assert claim(
        effects.single_run_vs_published(ours, far, metric=ACC), direction=AGREE
    ).verdict == (DIFFERS)


def test_the_printed_precision_of_a_published_number_widens_the_interval():
    ours = np.full(10, 0.8004) + np.linspace(0, 1e-5, 10)
    e = effects.single_run_vs_published(ours, Published("0.80"), metric=ACC)
    assert e.low <= 0 <= e.high  # 0.80 stands for anything in [0.795, 0.805]


def test_a_published_mean_is_compared_mean_to_mean():
    ours = sample(0.805, 0.004, 30, 9)
    e = effects.mean_vs_published(ours, Published("0.805"), Published("0.004"), 30, metric=ACC)
    assert claim(e, direction=AGREE).verdict == HOLDS
    off = effects.mean_vs_published(ours, Published("0.750"), Published("0.014"), 30, metric=ACC)
    assert claim(off, direction=AGREE).verdict == DIFFERS and off.estimate > 0


def test_holm_matches_the_step_down_definition():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert effects.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(effects.holm([0.01, np.nan])[1])
    assert effects.holm([0.01, np.nan])[0] == pytest.approx(0.01)  # NaN does not count


def test_a_family_applies_holm_to_its_members():
    """Each member alone has p < 0.05; with four at once only the strongest survives."""

    def exact(mean, seed):  # 30 values with exactly this mean and a std of 0.01
        z = np.random.default_rng(seed).normal(size=30)
        return mean + 0.01 * (z - z.mean()) / z.std(ddof=1)

    members = [
        Claim(
            f"s.f.m{i}",
            "",
            "a",
            "b",
            ACC,
            effects.welch(exact(0.8 + shift, i), exact(0.8, 9 + i), metric=ACC),
        )
        for i, shift in enumerate((0.012, 0.0055, 0.0053, 0.0052))
    ]
    raw = [c.effect.p for c in members]
    assert all(p < 0.05 for p in raw)
    family = Family("s.f", "some a beats b", members)
    assert [c.p_adjusted for c in members] == pytest.approx(list(effects.holm(raw)))
    verdicts = [c.verdict for c in members]
    assert verdicts[0] == HOLDS and INCONCLUSIVE in verdicts
    assert family.verdict == HOLDS and family.count(HOLDS) == verdicts.count(HOLDS)


def test_family_verdicts():
    def member(i, shift):
        a, b = np.linspace(0.8, 0.81, 30) + shift, np.linspace(0.8, 0.81, 30)[::-1]
        return Claim(f"s.f.m{i}", "", "a", "b", ACC, effects.welch(a, b, metric=ACC))

    assert Family("s.f", "", [member(0, 0.1), member(1, -0.1)]).verdict == MIXED
    assert Family("s.f", "", [member(0, -0.1), member(1, 0)]).verdict == REVERSES
    assert Family("s.f", "", [member(0, 0), member(1, 0)]).verdict == INCONCLUSIVE


def test_headlines_hold_two_leaves_per_claim_nested_by_name():
    e = effects.welch([0.9, 0.91, 0.92], [0.8, 0.81, 0.8], metric=ACC)
    out = Claims()
    out.add(Claim("greedy.supervised.deepest", "", "a", "b", ACC, e))
    out.add(Claim("greedy.supervised.hidden", "", "a", "b", ACC, e, headline=False))
    out.add_family(
        Family("greedy.depths", "", [Claim("greedy.d2", "", "a", "b", ACC, e, headline=False)])
    )
    heads = out.headlines()
    assert heads == {
        "greedy": {
            "supervised": {"deepest": {"effect": round(e.estimate, 4), "verdict": HOLDS}},
            "depths": {"verdict": HOLDS, "tally": "1 hold, 0 reverse, 0 inconclusive of 1"},
        }
    }
    detail = out.detail()
    assert detail["claims"]["greedy.d2"]["family"] == "greedy.depths"
    assert detail["families"]["greedy.depths"]["members"] == ["greedy.d2"]
    out.add(Claim("greedy.d2", "", "a", "b", ACC, e))
    with pytest.raises(ValueError, match="unique"):
        out.detail()
