"""What the five greedy studies share (docs/studies.md#greedy-layer-wise-pretraining):
growing a network one hidden layer at a time, its end-to-end control, fitting with the
configured optimizer, the greedily grown autoencoder, scoring, running independent
trainings side by side, and the per-replica rows and their summaries.

Depth counts layers with weights, the output layer included (the references' "model
size": the baseline is depth 2).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.engine import Dense, Optimizer, ReplicaMLP, side_by_side
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.models import make_optimizer, mlp_layers
from layerwise.pipeline.seeds import seed_for
from layerwise.pipeline.stats import summarize


@dataclass
class StudyResult:
    """What a study that scores every depth returns (supervised, unsupervised, each
    activation arm)."""

    replicas: pd.DataFrame  # one row per (method, depth, replica)
    depths: pd.DataFrame  # per (method, depth): mean and 95% band of each score
    metrics: dict


# -- rows and their summaries -------------------------------------------------------------

ROW_KEYS = ("method", "depth", "replica")


def score_rows(method: str, depth: int, scores: dict[str, np.ndarray]) -> list[dict]:
    """One row per replica: the method, the depth, the replica and each score [R]."""
    n = len(next(iter(scores.values())))
    return [
        {
            "method": method,
            "depth": depth,
            "replica": r,
            **{k: float(v[r]) for k, v in scores.items()},
        }
        for r in range(n)
    ]


def summaries(
    replicas: pd.DataFrame, by: Sequence[str], scores: Sequence[str] | None = None
) -> Iterator[tuple[tuple, int, dict[str, dict]]]:
    """Per group of the columns `by`, in order of appearance: the group's key, its number
    of replicas and each score column's summary over them (`summarize`: mean, std, 95% CI
    of the finite values, n and the count diverged). scores: default every column but
    the method, depth and replica."""
    if scores is None:
        scores = [c for c in replicas.columns if c not in ROW_KEYS]
    for key, group in replicas.groupby(list(by), sort=False):
        yield key, len(group), {col: summarize(group[col], metric=col) for col in scores}


def depth_table(replicas: pd.DataFrame) -> pd.DataFrame:
    """Per method and depth: mean, std and 95% CI over replicas of every score column."""
    out = []
    for (method, depth), n, scores in summaries(replicas, ["method", "depth"]):
        row = {"method": method, "depth": depth, "n_replicas": n}
        for col, s in scores.items():
            row[col] = s["mean"]
            row[f"{col}_std"] = s["std"]
            row[f"{col}_low"] = s["ci_low"]
            row[f"{col}_high"] = s["ci_high"]
        out.append(row)
    return pd.DataFrame(out)


def depth_metrics(replicas: pd.DataFrame) -> dict:
    """metrics.json: {method: {depth_<d>: {score: summary}}} (dvc exp show columns)."""
    metrics: dict = {}
    for (method, depth), _, scores in summaries(replicas, ["method", "depth"]):
        metrics.setdefault(method, {})[f"depth_{depth}"] = {
            col: {k: v for k, v in s.items() if k != "n"} for col, s in scores.items()
        }
    return metrics


def wide_table(depths: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """One row per depth, one column per (method, score) mean: what `dvc plots` draws."""
    wide = depths.pivot(index="depth", columns="method", values=list(columns))
    wide.columns = [
        f"{method.replace(' + ', '_').replace('-', '_')}_{col}" for col, method in wide.columns
    ]
    return wide.reset_index()


def accuracies(model: ReplicaMLP, data: Dataset) -> dict[str, np.ndarray]:
    """Per replica: accuracy on the training and on the test split."""
    train = model.evaluate(data.x_train, data.onehot(data.y_train))["score"]
    test = model.evaluate(data.x_test, data.onehot(data.y_test))["score"]
    return {"train_accuracy": train, "test_accuracy": test}


# -- growing and fitting ------------------------------------------------------------------


def grown(
    model: ReplicaMLP,
    hidden: Dense,
    additions: int,
    fit: Callable[[ReplicaMLP, int], object],
    seed: Callable[[int], int],
) -> Iterator[ReplicaMLP]:
    """The greedy procedure as a sequence: `model`, then the model after each addition.

    Round k inserts `hidden` before the kept output layer (earlier hidden layers
    frozen) and calls `fit(model, k)`. A generator, so a caller can stop early.
    """
    yield model
    for k in range(1, additions + 1):
        model = model.insert_hidden(hidden, seed=seed(k))
        fit(model, k)
        yield model


def control_model(
    input_dim: int,
    layers: list[Dense],
    hidden: Dense,
    k: int,
    n_replicas: int,
    fit: Callable[[ReplicaMLP, int], object],
    seed: Callable[[int], int],
) -> ReplicaMLP:
    """The end-to-end control at one depth: a fresh model of the base architecture
    `layers` with `k` copies of `hidden` added before the output, all layers learning,
    fitted by `fit(model, k)`."""
    deeper = list(layers[:-1]) + [hidden] * k + [layers[-1]]
    model = ReplicaMLP.create(input_dim, deeper, n_replicas, seed=seed(k))
    fit(model, k)
    return model


def run_side_by_side(tasks: dict) -> dict:
    """Run {key: (estimated cost, task)} side by side, costliest first: {key: result}."""
    order = sorted(tasks, key=lambda key: -tasks[key][0])
    return dict(zip(order, side_by_side([tasks[key][1] for key in order]), strict=True))


def fitter(
    cfg: Config,
    data: Dataset,
    epochs: Callable[[int], int],
    batch_size: int,
    stream: str,
    optimizer: Optimizer | None = None,
    *,
    autoencoder: bool = False,
    **fit_args,
):
    """fit(model, k) on the training split with the configured optimizer (or
    `optimizer`); round k draws its minibatches from the stream (`stream`, k).
    autoencoder: fit the inputs themselves with the squared error; else the one-hot
    labels with cross entropy."""
    optimizer = optimizer or make_optimizer(cfg.optimizer)
    if autoencoder:
        y, fit_args = data.x_train, {"loss": "mse", **fit_args}
    else:
        y = data.onehot(data.y_train)

    def fit(model: ReplicaMLP, k: int):
        return model.fit(
            data.x_train,
            y,
            epochs=epochs(k),
            optimizer=optimizer,
            batch_size=batch_size,
            seed=seed_for(cfg.seed, stream, k),
            curves=False,  # the greedy studies score the final weights only
            **fit_args,
        )

    return fit


# -- the greedy autoencoder -----------------------------------------------------------------


def autoencoder_layers(cfg: Config, n_features: int) -> list[Dense]:
    """The base autoencoder: the model's hidden layers, then a linear reconstruction layer."""
    m = cfg.model
    return mlp_layers(m.hidden_units, m.activation, m.initializer, n_features, output="linear")


def grown_autoencoders(
    cfg: Config,
    data: Dataset,
    n_replicas: int,
    additions: int,
    epochs: int,
    batch_size: int,
    stream: str,
) -> Iterator[ReplicaMLP]:
    """The greedy autoencoder (inputs -> inputs, squared error, never a label) fitted at
    every depth: the base network (`autoencoder_layers`), then after each of `additions`
    rounds that insert a copy of its last hidden layer before the reconstruction layer.
    Weights from the streams `stream`.init and .add, minibatches from .fit."""
    layers = autoencoder_layers(cfg, data.n_features)
    autoencoder = ReplicaMLP.create(
        data.n_features, layers, n_replicas, seed=seed_for(cfg.seed, f"{stream}.init")
    )
    fit = fitter(cfg, data, lambda k: epochs, batch_size, f"{stream}.fit", autoencoder=True)
    fit(autoencoder, 0)
    add_seed = functools.partial(seed_for, cfg.seed, f"{stream}.add")
    yield from grown(autoencoder, layers[-2], additions, fit, add_seed)


def reconstruction_error(autoencoder: ReplicaMLP, x: np.ndarray) -> np.ndarray:
    """Per replica: the autoencoder's mean squared error on x."""
    return autoencoder.evaluate(x, x, "mse")["loss"]


def diverged(reconstruction: np.ndarray) -> np.ndarray:
    """Per replica: whether its reconstruction error went to inf/NaN. SGD with momentum
    sends some initialisations there within an epoch or two; such an encoder is
    meaningless, so what is built on it is left out (`without`) and counted."""
    return ~np.isfinite(reconstruction)


def without(scores: dict[str, np.ndarray], left_out: np.ndarray) -> dict[str, np.ndarray]:
    """The scores with the replicas `left_out` (a boolean [R]) set to NaN."""
    return {k: np.where(left_out, np.nan, v) for k, v in scores.items()}
