"""The probability that arm A beats arm B across the settings of a sweep, with a
stratified bootstrap interval (the statistic of Agarwal et al. 2021, "rliable", and
Bouthillier et al. 2021).

In one setting, P(A>B) = P(X>Y) + 0.5 P(X=Y) for X a repeat of A and Y a repeat of B:
the Mann-Whitney U of A's repeats against B's, over n_a * n_b. Across settings it is the
mean of the per-setting values. The bootstrap resamples repeats within each setting (a
paired claim's repeats as pairs, so that their pairing holds) and, if asked, the settings
themselves; its 95% interval is the percentile interval of the resampled means
(docs/statistics.md#pab-across-settings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from layerwise.pipeline.seeds import seed_for

N_RESAMPLES = 2000  # rliable's default for its stratified bootstrap
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Arms:
    """One setting's repeats of A and B; `paired`: A's i-th repeat goes with B's i-th."""

    a: Sequence[float]
    b: Sequence[float]
    paired: bool = False


@dataclass(frozen=True)
class Improvement:
    probability: float  # P(A>B) averaged over the settings
    low: float  # its 95% stratified bootstrap interval
    high: float
    per_setting: tuple[float, ...]
    resampled_settings: bool


def wins(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """The n_a x n_b matrix of 1 where A's repeat beats B's, 0.5 for a tie, 0 otherwise."""
    x = np.asarray(a, dtype=float)[:, None]
    y = np.asarray(b, dtype=float)[None, :]
    return (x > y) + 0.5 * (x == y)


def probability(a: Sequence[float], b: Sequence[float]) -> float:
    """P(A>B) in one setting: Mann-Whitney's U for A over n_a * n_b."""
    u = stats.mannwhitneyu(a, b, alternative="two-sided").statistic
    return float(u) / (len(a) * len(b))


def _resampled(arms: Arms, rng: np.random.Generator, n: int) -> np.ndarray:
    """P(A>B) of `n` bootstrap resamples of one setting's repeats: with resample weights
    w (how often each repeat is drawn), P = w_a' W w_b / (n_a n_b) for W = wins(a, b)."""
    matrix = wins(arms.a, arms.b)
    n_a, n_b = matrix.shape
    w_a = rng.multinomial(n_a, np.full(n_a, 1 / n_a), size=n)
    w_b = w_a if arms.paired else rng.multinomial(n_b, np.full(n_b, 1 / n_b), size=n)
    return np.einsum("ri,ij,rj->r", w_a, matrix, w_b) / (n_a * n_b)


def improvement(
    settings: Sequence[Arms],
    stream: str,
    *,
    resample_settings: bool = False,
    n_resamples: int = N_RESAMPLES,
) -> Improvement:
    """P(A>B) over `settings` (each with repeats on both sides) and its interval.

    The resampling draws from the named stream `stream` (e.g. the claim's name), so the
    same inputs give the same numbers in every run."""
    if not settings or any(len(s.a) == 0 or len(s.b) == 0 for s in settings):
        raise ValueError("every setting needs at least one repeat of A and one of B")
    for s in settings:
        if s.paired and len(s.a) != len(s.b):
            raise ValueError("a paired setting needs as many repeats of A as of B")
    per_setting = tuple(probability(s.a, s.b) for s in settings)
    rng = np.random.default_rng(seed_for(0, "sweeps", "improvement", stream))
    resampled = np.stack([_resampled(s, rng, n_resamples) for s in settings])  # [S, n]
    n_settings = len(settings)
    if resample_settings:
        counts = rng.multinomial(n_settings, np.full(n_settings, 1 / n_settings), n_resamples)
        means = np.einsum("rs,sr->r", counts, resampled) / n_settings
    else:
        means = resampled.mean(axis=0)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Improvement(
        probability=float(np.mean(per_setting)),
        low=float(low),
        high=float(high),
        per_setting=per_setting,
        resampled_settings=resample_settings,
    )
