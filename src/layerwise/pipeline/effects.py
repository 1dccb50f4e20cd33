"""Effects: the difference between two arms (A minus B), or between our runs and a
published number, with the 95% interval and two-sided p-value that fit the design.

- `paired`: the same replicas (or repeats) measured under both arms, e.g. a network
  before and after fine-tuning: the interval of the mean of the per-replica differences.
- `welch`: independent repeats: the difference of the two means with Welch's
  unequal-variance interval.
- `single_run_vs_published`: a published single run is one draw, not a mean: our mean
  minus the published number, with the 95% prediction interval of one new run of ours.
- `mean_vs_published`: a published mean over repeats, compared mean to mean.

Each metric gets the interval `pipeline.stats.INTERVALS` names for it: a t interval for
accuracies, a bootstrap one for heavy-tailed losses. Repeats that diverged (non-finite
values) are left out; a paired difference needs both of its values.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from layerwise.pipeline.stats import BOOTSTRAP, N_RESAMPLES, Published, _rng, interval_of

CONFIDENCE = 0.95

PAIRED = "paired"
WELCH = "welch"
PREDICTION = "prediction"
PUBLISHED_MEAN = "published_mean"


@dataclass(frozen=True)
class Effect:
    """A minus B with its 95% interval; NaN statistics where too few repeats are left."""

    estimate: float
    low: float
    high: float
    p: float  # two-sided p-value of "no difference" (NaN where the design has none)
    n: int  # pairs (paired), A's repeats (welch, published)
    n_b: int | None  # B's repeats (welch only)
    design: str
    interval: str  # "t" or "bootstrap"
    a_values: np.ndarray
    b_values: np.ndarray | None

    @property
    def defined(self) -> bool:
        return math.isfinite(self.estimate) and math.isfinite(self.low)


def _finite(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    return v[np.isfinite(v)]


def _undefined(design, interval, n, n_b, a, b) -> Effect:
    nan = float("nan")
    return Effect(nan, nan, nan, nan, n, n_b, design, interval, a, b)


def _constant(estimate: float) -> tuple[float, float, float]:
    """Interval and p of a difference that does not vary: no noise, so no interval to
    invent; it differs from zero exactly when its value does."""
    return estimate, estimate, (1.0 if estimate == 0 else 0.0)


def _bootstrap(samples: tuple, statistic, seed_values: np.ndarray) -> tuple[float, float, float]:
    """BCa interval (percentile where BCa is undefined) and a two-sided bootstrap p-value
    (twice the smaller share of resampled statistics on either side of zero), seeded
    from the values so that a rerun gives the same bytes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("BCa", "percentile"):
            result = stats.bootstrap(
                samples,
                statistic,
                n_resamples=N_RESAMPLES,
                confidence_level=CONFIDENCE,
                method=method,
                rng=_rng(seed_values),
                vectorized=True,
            )
            ci = result.confidence_interval
            if math.isfinite(ci.low) and math.isfinite(ci.high):
                break
    dist = result.bootstrap_distribution
    p = min(1.0, 2 * min(np.mean(dist <= 0), np.mean(dist >= 0)))
    return float(ci.low), float(ci.high), float(p)


def _mean(x, axis=-1):
    return np.mean(x, axis=axis)


def _mean_difference(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def paired(a, b, *, metric: str) -> Effect:
    """Mean of the per-replica differences a[i] - b[i] (pairs with a non-finite side are
    left out) with a t interval (paired t-test) or a bootstrap interval of that mean."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired arms need as many values each ({a.size} vs {b.size})")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    d = a - b
    interval = interval_of(metric)
    if d.size < 2:
        return _undefined(PAIRED, interval, int(d.size), None, a, b)
    estimate = float(d.mean())
    if np.ptp(d) == 0:
        low, high, p = _constant(estimate)
    elif interval == BOOTSTRAP:
        low, high, p = _bootstrap((d,), _mean, d)
    else:
        sem = d.std(ddof=1) / math.sqrt(d.size)
        low, high = stats.t.interval(CONFIDENCE, d.size - 1, loc=estimate, scale=sem)
        p = float(stats.ttest_1samp(d, 0.0).pvalue)
    return Effect(estimate, float(low), float(high), p, int(d.size), None, PAIRED, interval, a, b)


def welch(a, b, *, metric: str) -> Effect:
    """Difference of the means of two independent samples, with Welch's interval
    (Welch-Satterthwaite degrees of freedom) or a bootstrap that resamples each arm."""
    a, b = _finite(a), _finite(b)
    interval = interval_of(metric)
    if a.size < 2 or b.size < 2:
        return _undefined(WELCH, interval, int(a.size), int(b.size), a, b)
    estimate = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if va + vb == 0:
        low, high, p = _constant(estimate)
    elif interval == BOOTSTRAP:
        low, high, p = _bootstrap((a, b), _mean_difference, np.concatenate([a, b]))
    else:
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
        low, high = stats.t.interval(CONFIDENCE, df, loc=estimate, scale=se)
        p = float(2 * stats.t.sf(abs(estimate) / se, df))
    return Effect(
        estimate, float(low), float(high), p, int(a.size), int(b.size), WELCH, interval, a, b
    )


def single_run_vs_published(values, published: Published, *, metric: str) -> Effect:
    """Our runs against one published run: our mean minus the published number, and the
    95% prediction interval of one new run of ours minus it (t: mean ± t·s·sqrt(1 + 1/n);
    bootstrap metrics: the 2.5% and 97.5% quantiles of our runs), widened by half a unit
    of the published number's last printed digit. No p-value: a single published draw
    is placed within our distribution, not tested against our mean."""
    v = _finite(values)
    interval = interval_of(metric)
    if v.size < 2:
        return _undefined(PREDICTION, interval, int(v.size), None, v, None)
    target, slack = float(published), published.half_unit
    if interval == BOOTSTRAP:
        low, high = np.quantile(v, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    else:
        half = stats.t.ppf((1 + CONFIDENCE) / 2, v.size - 1) * v.std(ddof=1)
        half *= math.sqrt(1 + 1 / v.size)
        low, high = v.mean() - half, v.mean() + half
    return Effect(
        float(v.mean() - target),
        float(low - target - slack),
        float(high - target + slack),
        float("nan"),
        int(v.size),
        None,
        PREDICTION,
        interval,
        v,
        None,
    )


def mean_vs_published(values, mean: Published, std: Published, n: int, *, metric: str) -> Effect:
    """Our mean minus a published mean over `n` repeats (with its published std): Welch's
    interval from both samples' standard errors, widened by half a unit of the published
    mean's last printed digit."""
    v = _finite(values)
    interval = interval_of(metric)
    if v.size < 2:
        return _undefined(PUBLISHED_MEAN, interval, int(v.size), n, v, None)
    estimate = float(v.mean() - float(mean))
    va, vb = v.var(ddof=1) / v.size, float(std) ** 2 / n
    se = math.sqrt(va + vb)
    if se == 0:
        low, high, p = _constant(estimate)
    else:
        df = (va + vb) ** 2 / (va**2 / (v.size - 1) + vb**2 / (n - 1))
        low, high = stats.t.interval(CONFIDENCE, df, loc=estimate, scale=se)
        p = float(2 * stats.t.sf(abs(estimate) / se, df))
    slack = mean.half_unit
    return Effect(
        estimate,
        float(low - slack),
        float(high + slack),
        p,
        int(v.size),
        n,
        PUBLISHED_MEAN,
        interval,
        v,
        None,
    )


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment: adjusted p-values that control the family-wise error
    rate at any level (a p-value of NaN, an effect that could not be computed, stays NaN
    and does not count towards the family's size)."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = valid.size
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out
