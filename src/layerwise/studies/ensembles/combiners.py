"""Ensemble combiners on arrays of member probabilities (no training happens here).

Member outputs are computed once, as probabilities shaped [M, N, C] (members,
rows, classes), optionally with leading repeat axes ([R, M, N, C]). Every combiner
works on those arrays: plain and weighted averaging, the size sweep, weights found
by an exhaustive grid or by differential evolution, stacking with a scikit-learn
meta-learner, averaging of checkpoint weights, diversity and log-likelihood.

The ensemble prediction is the argmax of the (weighted) summed member
probabilities, as in the references.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

import numpy as np

from layerwise.config.ensembles import META_LEARNERS, WEIGHT_SCHEMES

EPS = 1e-7  # probabilities are clipped here before the log, as Keras does


# -- scoring ----------------------------------------------------------------------------


def accuracy(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of rows whose argmax matches the label; probs [..., N, C] -> [...].

    NaN where the probabilities are not all finite (a diverged member, or an ensemble
    holding one): an argmax over NaN would read as a guess of class 0."""
    hits = (np.argmax(probs, axis=-1) == labels).mean(axis=-1)
    return np.where(np.isfinite(probs).all(axis=(-2, -1)), hits, np.nan)


def nll(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean negative log-likelihood of the labels; probs [..., N, C] -> [...].

    Rows are renormalised first, so summed (not averaged) outputs score the same.
    """
    probs = probs / probs.sum(axis=-1, keepdims=True)
    index = np.broadcast_to(np.asarray(labels)[..., None], (*probs.shape[:-1], 1))
    picked = np.take_along_axis(probs, index, axis=-1)[..., 0]
    return -np.log(np.clip(picked, EPS, 1.0)).mean(axis=-1)


def disagreement(probs: np.ndarray) -> np.ndarray:
    """Mean pairwise disagreement of the members' predicted classes.

    probs [..., M, N, C] -> [...]: the fraction of (member, member) pairs and rows
    where the two members predict different classes. Counting, per row, how many
    members vote for each class gives the agreeing pairs without a loop over pairs.
    """
    n_members, n_classes = probs.shape[-3], probs.shape[-1]
    if n_members < 2:
        return np.zeros(probs.shape[:-3])
    votes = np.argmax(probs, axis=-1)  # [..., M, N]
    counts = np.stack([(votes == c).sum(axis=-2) for c in range(n_classes)], axis=-1)
    agreeing = (counts * (counts - 1)).sum(axis=-1)  # ordered pairs, per row
    pairs = 1.0 - (agreeing / (n_members * (n_members - 1))).mean(axis=-1)
    return np.where(np.isfinite(probs).all(axis=(-3, -2, -1)), pairs, np.nan)  # as accuracy


# -- averaging --------------------------------------------------------------------------


def normalise(weights: np.ndarray) -> np.ndarray:
    """L1-normalise weight vectors along the last axis (all-zero stays all-zero)."""
    weights = np.asarray(weights, dtype=np.float64)
    total = np.abs(weights).sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def average(probs: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(Weighted) mean of member probabilities: [..., M, N, C] -> [..., N, C]."""
    if weights is None:
        return probs.mean(axis=-3)
    weights = normalise(weights)
    if weights.shape[-1] != probs.shape[-3]:
        raise ValueError(f"{weights.shape[-1]} weights for {probs.shape[-3]} members")
    return np.einsum("...m,...mnc->...nc", weights, probs)


def check_size(size: int, available: int, what: str = "ensemble size") -> None:
    """An ensemble cannot hold more members than were trained."""
    if not 1 <= size <= available:
        raise ValueError(
            f"{what} = {size} is not possible with {available} members (allowed: 1 to {available})"
        )


def size_sweep(probs: np.ndarray, labels: np.ndarray, max_size: int | None = None) -> dict:
    """Accuracy of the first n members' average for n = 1..max_size, and each member's own.

    probs [..., M, N, C] -> {"ensemble": [..., n], "single": [..., n], "nll": [..., n]}.
    Cumulative sums make all sizes one pass over the members.
    """
    n_members = probs.shape[-3]
    max_size = n_members if max_size is None else max_size
    check_size(max_size, n_members)
    head = probs[..., :max_size, :, :]
    sizes = np.arange(1, max_size + 1).reshape(-1, 1, 1)
    running = np.cumsum(head, axis=-3) / sizes
    return {
        "ensemble": accuracy(running, labels),
        "single": accuracy(head, labels),
        "nll": nll(running, labels),
    }


def choose_size(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per repeat, the ensemble size n whose first-n average scores best on (probs, labels).

    probs [R, M, N, C], labels [R, N] -> sizes [R] (1..M). Ties in accuracy go to the
    lower NLL, then to the smaller size: a small validation split often ties.
    """
    sweep = size_sweep(probs, labels[:, None])
    best = sweep["ensemble"] == sweep["ensemble"].max(axis=-1, keepdims=True)
    nll_among_best = np.where(best, sweep["nll"], np.inf)
    return np.argmin(nll_among_best, axis=-1) + 1


def average_first(probs: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per repeat r, the mean of its first sizes[r] members: [R, M, N, C] -> [R, N, C]."""
    return np.stack([probs[r, :n].mean(axis=0) for r, n in enumerate(sizes)])


# -- weights: grid search and differential evolution -------------------------------------


def weight_grid(n_members: int, step: float = 0.1) -> np.ndarray:
    """Every vector of {0, step, ..., 1}^M except the all-equal ones, L1-normalised: [V, M].

    All-equal vectors (including all-zero) are skipped: after normalisation they
    are plain averaging (or undefined). Built once per (M, step); read-only.
    """
    return _weight_grid(int(n_members), float(step))


@functools.lru_cache(maxsize=8)
def _weight_grid(n_members: int, step: float) -> np.ndarray:
    levels = 1.0 / step if step > 0 else math.inf
    if not (step > 0 and abs(levels - round(levels)) < 1e-9):
        raise ValueError(
            f"weight grid step = {step} does not divide 1 into whole steps "
            "(allowed: 1/k for a whole number k, e.g. 0.1, 0.25, 0.5)"
        )
    values = np.linspace(0.0, 1.0, int(round(levels)) + 1)
    grid = np.array(list(itertools.product(values, repeat=n_members)))
    grid = normalise(grid[~np.all(grid == grid[:, :1], axis=1)])
    grid.flags.writeable = False
    return grid


def score_weights(
    probs: np.ndarray, labels: np.ndarray, weights: np.ndarray, chunk: int = 2048
) -> np.ndarray:
    """Accuracy of every weight vector: probs [M, N, C], weights [V, M] -> [V].

    Where all members predict the same class, every convex combination predicts it
    too, so only the contested rows are scored per vector. A row is right when the
    true class's weighted score beats every other class's: with the margins
    D_c = p_c - p_true precomputed per member, that is C - 1 matrix products per chunk
    of vectors ([V, M] @ [M, N]) and sign tests (ties go to the lower class, as argmax).
    """
    n_members, n_rows, n_classes = probs.shape
    votes = np.argmax(probs, axis=-1)
    unanimous = np.all(votes == votes[:1], axis=0)
    fixed_hits = int(np.sum(unanimous & (votes[0] == labels)))
    hits = np.full(len(weights), fixed_hits, np.int64)
    contested = np.flatnonzero(~unanimous)
    if contested.size == 0:
        return hits / n_rows
    sub, truth = probs[:, contested], labels[contested]
    rows = np.arange(contested.size)
    true_p = sub[:, rows, truth]
    margins, ties_lose = [], []
    for k in range(1, n_classes):  # the k-th other class of each row
        other = (truth + k) % n_classes
        margins.append(np.ascontiguousarray(sub[:, rows, other] - true_p, np.float32))
        ties_lose.append(other < truth)  # a tie with a lower class goes to that class
    weights = np.asarray(weights, np.float32)
    for start in range(0, len(weights), chunk):
        w = weights[start : start + chunk]
        right = np.ones((len(w), contested.size), bool)
        for margin, tie_loses in zip(margins, ties_lose, strict=True):
            d = w @ margin
            right &= (d < 0) | ((d == 0) & ~tie_loses)
        hits[start : start + chunk] += right.sum(axis=-1)
    return hits / n_rows


def grid_search_weights(
    probs: np.ndarray, labels: np.ndarray, step: float = 0.1
) -> tuple[np.ndarray, float]:
    """The grid vector with the best accuracy on (probs, labels); ties go to the lower NLL.

    Returns (weights [M], accuracy). probs [M, N, C].
    """
    grid = weight_grid(probs.shape[0], step)
    acc = score_weights(probs, labels, grid)
    tied = np.flatnonzero(acc == acc.max())
    true_probs = probs[:, np.arange(probs.shape[1]), labels]  # [M, N]
    losses = -np.log(np.clip(grid[tied] @ true_probs, EPS, 1.0)).mean(axis=-1)
    best = tied[np.argmin(losses)]
    return grid[best], float(acc[best])


def de_weights(
    probs: np.ndarray,
    labels: np.ndarray,
    *,
    maxiter: int = 1000,
    tol: float = 1e-7,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Weights in [0, 1]^M minimising 1 - accuracy with scipy's differential evolution.

    The whole population is scored at once (vectorized=True). No gradient polish:
    accuracy is piecewise constant, so a gradient step cannot improve it.
    """
    from scipy.optimize import differential_evolution

    n_members = probs.shape[0]

    def error(population):  # population [M, S] (scipy's vectorized layout)
        return 1.0 - score_weights(probs, labels, np.atleast_2d(population.T))

    result = differential_evolution(
        error,
        bounds=[(0.0, 1.0)] * n_members,
        maxiter=maxiter,
        tol=tol,
        rng=seed,
        vectorized=True,
        updating="deferred",
        polish=False,
    )
    weights = normalise(result.x)
    if not np.any(weights):  # all-zero found: fall back to plain averaging
        weights = np.full(n_members, 1.0 / n_members)
    return weights, float(1.0 - result.fun)


# -- stacking ---------------------------------------------------------------------------


def stack_features(probs: np.ndarray) -> np.ndarray:
    """Members' probabilities side by side, one row per sample: [M, N, C] -> [N, M*C]."""
    n_members, n_rows, n_classes = probs.shape
    return probs.transpose(1, 0, 2).reshape(n_rows, n_members * n_classes)


def fit_meta_learner(
    features: np.ndarray, labels: np.ndarray, kind: str = "logistic", seed: int = 0
):
    """A scikit-learn meta-learner fitted on stacked member outputs."""
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=1000)
    elif kind == "forest":
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(n_estimators=100, random_state=seed)
    else:
        raise ValueError(f"meta-learner {kind!r} not in {META_LEARNERS}")
    return model.fit(features, labels)


def meta_probabilities(model, features: np.ndarray, n_classes: int) -> np.ndarray:
    """[N, C] probabilities, with a zero column for a class the meta-learner never saw."""
    out = np.zeros((len(features), n_classes))
    out[:, model.classes_] = model.predict_proba(features)
    return out


# -- weight averaging -------------------------------------------------------------------


def checkpoint_coefficients(n: int, scheme: str = "equal", decay: float = 0.5) -> np.ndarray:
    """Normalised coefficients of the n newest checkpoints, newest first.

    equal: 1 each; linear: n, n-1, ..., 1 (newest largest); exponential: exp(-decay * i).
    """
    if n < 1:
        raise ValueError(f"number of checkpoints = {n} (allowed: >= 1)")
    i = np.arange(n, dtype=np.float64)
    if scheme == "equal":
        raw = np.ones(n)
    elif scheme == "linear":
        raw = n - i
    elif scheme == "exponential":
        raw = np.exp(-decay * i)
    else:
        raise ValueError(f"weight scheme {scheme!r} not in {WEIGHT_SCHEMES}")
    return raw / raw.sum()


def average_checkpoints(
    checkpoints: Sequence[Sequence[np.ndarray]], coefficients: np.ndarray
) -> list[np.ndarray]:
    """Weighted average, tensor by tensor, of checkpoints (each a list of weight arrays)."""
    if len(checkpoints) != len(coefficients):
        raise ValueError(f"{len(coefficients)} coefficients for {len(checkpoints)} checkpoints")
    return [
        np.tensordot(coefficients, np.stack(tensors), axes=1).astype(tensors[0].dtype)
        for tensors in zip(*checkpoints, strict=True)
    ]
