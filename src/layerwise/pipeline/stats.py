"""Summaries over repeats: mean, standard deviation, 95% confidence interval, range."""

from __future__ import annotations

import numpy as np
from scipy import stats


def summarize(values, confidence: float = 0.95) -> dict[str, float]:
    """Mean, sample std, t-based CI of the mean, min and max of one metric over repeats."""
    v = np.asarray(values, dtype=np.float64).ravel()
    n = v.size
    mean = float(v.mean())
    spread = n > 1 and np.ptp(v) > 0  # equal values: rounding must not invent an interval
    std = float(v.std(ddof=1)) if spread else 0.0
    if spread:
        low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=std / np.sqrt(n))
    else:
        low = high = mean
    return {
        "mean": mean,
        "std": std,
        "ci_low": float(low),
        "ci_high": float(high),
        "min": float(v.min()),
        "max": float(v.max()),
        "n": int(n),
    }


def band(curves: np.ndarray) -> dict[str, np.ndarray]:
    """Per-epoch mean and 95% CI of curves shaped [epochs, replicas]."""
    curves = np.asarray(curves, dtype=np.float64)
    mean = curves.mean(axis=1)
    n = curves.shape[1]
    if n > 1:
        half = stats.t.ppf(0.975, n - 1) * curves.std(axis=1, ddof=1) / np.sqrt(n)
    else:
        half = np.zeros_like(mean)
    return {"mean": mean, "low": mean - half, "high": mean + half}


def within_range(published: float, summary: dict[str, float]) -> bool:
    """Whether a published single-run number falls inside our repeats' min..max."""
    return summary["min"] <= published <= summary["max"]


def finite_summary(values) -> dict[str, float]:
    """`summarize` over the finite values only (a diverged replica's loss is inf/NaN),
    with `n` the number summarised; every field NaN when none is finite."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        keys = ("mean", "std", "ci_low", "ci_high", "min", "max")
        return {**dict.fromkeys(keys, float("nan")), "n": 0}
    return summarize(v)
