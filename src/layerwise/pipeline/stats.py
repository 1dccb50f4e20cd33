"""Summaries over repeats: mean, standard deviation, 95% confidence interval, range."""

from __future__ import annotations

import numpy as np
from scipy import stats


def summarize(values, confidence: float = 0.95) -> dict[str, float]:
    """Mean, sample std, t-based CI of the mean, min and max of one metric over repeats.

    A value that is not finite is a repeat that diverged (its loss went to inf/NaN, and
    the engine scores its accuracy NaN): it is left out of every statistic, `n` counts
    the repeats summarised and `diverged` (present only when some did) the ones left out.
    When none is finite every statistic is NaN, written to metrics.json as null."""
    v = np.asarray(values, dtype=np.float64).ravel()
    finite = np.isfinite(v)
    diverged = int(v.size - finite.sum())
    v = v[finite]
    n = v.size
    if n == 0:
        keys = ("mean", "std", "ci_low", "ci_high", "min", "max")
        out = {**dict.fromkeys(keys, float("nan")), "n": 0}
        return {**out, "diverged": diverged} if diverged else out
    mean = float(v.mean())
    spread = n > 1 and np.ptp(v) > 0  # equal values: rounding must not invent an interval
    std = float(v.std(ddof=1)) if spread else 0.0
    if spread:
        low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=std / np.sqrt(n))
    else:
        low = high = mean
    out = {
        "mean": mean,
        "std": std,
        "ci_low": float(low),
        "ci_high": float(high),
        "min": float(v.min()),
        "max": float(v.max()),
        "n": int(n),
    }
    return {**out, "diverged": diverged} if diverged else out


def band(curves: np.ndarray) -> dict[str, np.ndarray]:
    """Per-epoch mean and 95% CI of curves shaped [epochs, replicas] (at an epoch where some
    replicas have diverged, over the others)."""
    curves = np.asarray(curves, dtype=np.float64)
    if not np.isfinite(curves).all():  # diverged replicas: each epoch over the others
        rows = [summarize(row) for row in curves]
        mean = np.array([r["mean"] for r in rows])
        return {
            "mean": mean,
            "low": np.array([r["ci_low"] for r in rows]),
            "high": np.array([r["ci_high"] for r in rows]),
        }
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
