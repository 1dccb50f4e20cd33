"""Summaries over repeats: mean, standard deviation, 95% confidence interval, range, and
for the metrics that need it the median and quartiles; the published numbers set beside
them and the one rule that says whether a published number is within ours."""

from __future__ import annotations

import hashlib
import math
import warnings

import numpy as np
from scipy import stats

T = "t"  # Student's t interval of the mean
BOOTSTRAP = "bootstrap"  # BCa bootstrap interval of the mean, plus median and quartiles

# Which interval each metric's mean gets: the one place this is decided. Every caller of
# `summarize` and `band` names its metric; a name missing here is refused.
# - An accuracy (and what is built from accuracies) averages hundreds of right/wrong rows,
#   so over repeats it is close to normal: the t interval fits.
# - A loss, reconstruction error or NLL is >= 0 and heavy-tailed over repeats (a few
#   replicas that train badly lie far above the rest): a t interval can reach below zero
#   and the mean alone misleads, so these get a bootstrap interval (inside the range of
#   the values, hence never below 0) and the median and quartiles beside the mean.
INTERVALS = {
    "train_accuracy": T,
    "test_accuracy": T,
    "base_test_accuracy": T,  # greedy depth selection: the base network's accuracy
    "single_accuracy": T,  # ensembles: one member on its own
    "ensemble_accuracy": T,
    "best_single": T,  # ensembles: the best member's accuracy
    "accuracy_difference": T,  # paired difference of two accuracies, repeat by repeat
    "diversity": T,  # mean pairwise disagreement of members: a share of rows, like accuracy
    "diverged": T,  # 0/1 per replica: its mean is the share of replicas that diverged
    "epochs_to_reach": T,  # transfer: epochs until a share of the final accuracy
    "train_loss": BOOTSTRAP,
    "test_loss": BOOTSTRAP,
    "train_mse": BOOTSTRAP,
    "test_mse": BOOTSTRAP,
    "test_nll": BOOTSTRAP,
}
N_RESAMPLES = 9999
ROBUST_KEYS = ("median", "q1", "q3")  # the keys a bootstrap summary adds


def interval_of(metric: str) -> str:
    """T or BOOTSTRAP: how the summaries of `metric` are made (see INTERVALS)."""
    try:
        return INTERVALS[metric]
    except KeyError:
        raise ValueError(
            f"no summary is defined for metric {metric!r}: add it to "
            "layerwise.pipeline.stats.INTERVALS"
        ) from None


def _rng(v: np.ndarray) -> np.random.Generator:
    """A generator seeded from the sample's own bytes: the same values resample the same
    way in every run and process, and different samples draw independently."""
    digest = hashlib.sha256(np.ascontiguousarray(v, dtype=np.float64).tobytes()).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype=np.uint32))


def _bootstrap_interval(v: np.ndarray, confidence: float) -> tuple[float, float]:
    """BCa bootstrap interval of the mean of `v` (at least two distinct values). Every
    resampled mean lies within min(v)..max(v), and so does the interval (held there
    against rounding: a mean of n copies of max(v) can exceed it by one ulp)."""
    with warnings.catch_warnings():  # scipy warns on small samples; the interval stands
        warnings.simplefilter("ignore")
        for method in ("BCa", "percentile"):  # BCa is undefined in rare tiny samples
            ci = stats.bootstrap(
                (v,),
                np.mean,
                n_resamples=N_RESAMPLES,
                confidence_level=confidence,
                method=method,
                rng=_rng(v),
            ).confidence_interval
            if math.isfinite(ci.low) and math.isfinite(ci.high):
                break
    low, high = np.clip([ci.low, ci.high], v.min(), v.max())
    return float(low), float(high)


def summarize(values, *, metric: str, confidence: float = 0.95) -> dict[str, float]:
    """Mean, sample std, CI of the mean, min and max of one metric over repeats; for a
    metric summarised by the bootstrap (see INTERVALS) also the median and the quartiles
    (`q1`, `q3`), and the CI is a BCa bootstrap interval instead of the t interval.

    A value that is not finite is a repeat that diverged (its loss went to inf/NaN, and
    the engine scores its accuracy NaN): it is left out of every statistic, `n` counts
    the repeats summarised and `diverged` (present only when some did) the ones left out.
    When none is finite every statistic is NaN, written to metrics.json as null. The
    bootstrap's resampling is seeded from the values, so a summary repeats bit for bit."""
    robust = interval_of(metric) == BOOTSTRAP
    v = np.asarray(values, dtype=np.float64).ravel()
    finite = np.isfinite(v)
    diverged = int(v.size - finite.sum())
    v = v[finite]
    n = v.size
    if n == 0:
        keys = ("mean", "std", "ci_low", "ci_high", *(ROBUST_KEYS if robust else ()), "min", "max")
        out = {**dict.fromkeys(keys, float("nan")), "n": 0}
        return {**out, "diverged": diverged} if diverged else out
    mean = float(v.mean())
    spread = n > 1 and np.ptp(v) > 0  # equal values: rounding must not invent an interval
    std = float(v.std(ddof=1)) if spread else 0.0
    if not spread:
        low = high = mean
    elif robust:
        low, high = _bootstrap_interval(v, confidence)
    else:
        low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=std / np.sqrt(n))
    out = {"mean": mean, "std": std, "ci_low": float(low), "ci_high": float(high)}
    if robust:
        q1, median, q3 = np.percentile(v, [25, 50, 75])
        out.update(median=float(median), q1=float(q1), q3=float(q3))
    out.update({"min": float(v.min()), "max": float(v.max()), "n": int(n)})
    return {**out, "diverged": diverged} if diverged else out


def band(curves: np.ndarray, *, metric: str) -> dict[str, np.ndarray]:
    """Per-epoch mean and 95% CI of curves shaped [epochs, replicas] (at an epoch where some
    replicas have diverged, over the others), with the metric's interval (INTERVALS)."""
    curves = np.asarray(curves, dtype=np.float64)
    if interval_of(metric) == BOOTSTRAP or not np.isfinite(curves).all():
        rows = [summarize(row, metric=metric) for row in curves]  # epoch by epoch
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


# -- published numbers --------------------------------------------------------------------


class Published(float):
    """A number as a reference printed it: `Published("0.000")` is the float 0.0 that
    remembers its text, so the rule below knows the printed 0.000 stands for anything that
    rounds to it (below 0.0005). Build it from the printed string, never from a float."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> Published:
        if not isinstance(text, str):
            raise TypeError(f"Published takes the number as printed (a string), not {text!r}")
        number = super().__new__(cls, text)
        number.text = text.strip()
        return number

    @property
    def decimals(self) -> int:
        """Digits printed after the decimal point."""
        return len(self.text.partition(".")[2])

    @property
    def half_unit(self) -> float:
        """Half a unit in the last printed place: how far the true value may lie."""
        return 0.5 * 10.0**-self.decimals

    def __repr__(self) -> str:
        return f"Published({self.text!r})"


def printed_span(published) -> tuple[float, float]:
    """The values a published number (or a published (low, high) range) stands for: every
    number that rounds to what was printed."""
    low, high = published if isinstance(published, tuple) else (published, published)
    for p in (low, high):
        if not isinstance(p, Published):
            raise TypeError(f"a published number needs its printed precision: {p!r}")
    return float(low) - low.half_unit, float(high) + high.half_unit


def within_range(published, summary: dict, bounds: tuple[str, str] = ("min", "max")) -> bool:
    """Whether a published number is within our repeats: the values it stands for (its
    printed precision) meet summary[bounds[0]]..summary[bounds[1]] (min..max by default;
    ("ci_low", "ci_high") for a published mean against our CI). A published (low, high)
    range is within when it overlaps ours. Every table and paragraph asks this function."""
    low, high = printed_span(published)
    return low <= summary[bounds[1]] and summary[bounds[0]] <= high


def as_printed(numbers):
    """Published numbers from the strings a reference printed, through nested dicts and
    tuples (ranges, mean and std): {"a": "0.830", "b": ("0.807", "0.818")} -> Published."""
    if isinstance(numbers, str):
        return Published(numbers)
    if isinstance(numbers, dict):
        return {key: as_printed(value) for key, value in numbers.items()}
    if isinstance(numbers, tuple):
        return tuple(as_printed(value) for value in numbers)
    raise TypeError(f"a published number is written as printed (a string), not {numbers!r}")
