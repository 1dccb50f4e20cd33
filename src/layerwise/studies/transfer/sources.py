"""The source side of the transfer study (docs/studies.md#transfer-learning): the problems
(a dataset, or some of its classes), the study's network and its fit, and the source
models the `transfer_source` stage fits once per source problem and `transfer` loads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.config.transfer import TransferConfig, TransferSourceConfig
from layerwise.engine import Dense, History, ReplicaMLP
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import load_keras
from layerwise.pipeline.models import make_optimizer, mlp_layers
from layerwise.pipeline.seeds import seed_for


@dataclass
class Problem(Dataset):
    """A classification problem: a dataset, possibly restricted to some of its classes
    (labels renumbered 0..n_classes-1), with the name the report uses."""

    name: str = ""


def make_problem(name: str, dataset: Dataset, classes: list[int]) -> Problem:
    """The dataset's rows of `classes` (all rows for []), labels renumbered 0..k-1 in order."""
    if not classes:
        return Problem(
            dataset.x_train,
            dataset.y_train,
            dataset.x_test,
            dataset.y_test,
            dataset.n_classes,
            name=name,
        )
    bad = [c for c in classes if c >= dataset.n_classes]
    if bad or len(set(classes)) != len(classes):
        raise UserError(
            f"{name}: classes = {list(classes)} is not a list of distinct labels "
            f"(allowed: 0 to {dataset.n_classes - 1})"
        )
    relabel = np.full(dataset.n_classes, -1)
    relabel[list(classes)] = np.arange(len(classes))
    keep_train = relabel[dataset.y_train] >= 0
    keep_test = relabel[dataset.y_test] >= 0
    return Problem(
        dataset.x_train[keep_train],
        relabel[dataset.y_train[keep_train]],
        dataset.x_test[keep_test],
        relabel[dataset.y_test[keep_test]],
        len(classes),
        name=name,
    )


def network(source: TransferSourceConfig, n_classes: int) -> list[Dense]:
    """The study's MLP: the configured hidden layers, then a softmax output (Keras' default
    initialiser, as the reference's Dense(3, softmax))."""
    return mlp_layers(source.hidden_units, source.activation, source.initializer, n_classes)


def fit(model: ReplicaMLP, problem: Problem, section, *, epochs, batch_size, seed) -> History:
    """Fit on the problem's training rows, scored on its test rows every epoch, with SGD
    at the learning rate and momentum of `section` (the source's or the target's)."""
    return model.fit(
        problem.x_train,
        problem.onehot(problem.y_train),
        epochs=epochs,
        batch_size=batch_size,
        optimizer=make_optimizer(section, name="sgd"),
        seed=seed,
        validation=(problem.x_test, problem.onehot(problem.y_test)),
    )


def train_sources(cfg: Config, problem: Problem, n_replicas: int, seed: int):
    """`n_replicas` independently initialised source networks fitted on `problem`: weights
    drawn from `seed`, minibatch orders from its "order" stream."""
    s = cfg.transfer.source
    model = ReplicaMLP.create(problem.n_features, network(s, problem.n_classes), n_replicas, seed)
    history = fit(
        model,
        problem,
        s,
        epochs=s.epochs,
        batch_size=s.batch_size,
        seed=seed_for(seed, "order"),
    )
    return model, history


@dataclass
class SourceResult:
    models: dict[str, ReplicaMLP]  # one replica per source problem
    metrics: dict
    curves: pd.DataFrame  # per epoch: <problem>-<train|test>_<accuracy|loss>


def run_source(cfg: Config, problems: dict[str, Problem]) -> SourceResult:
    """Fit the source network once on every configured source problem."""
    models, metrics, curves = {}, {}, {"epoch": np.arange(1, cfg.transfer.source.epochs + 1)}
    for name in cfg.transfer.source.problems:
        model, history = train_sources(
            cfg, problems[name], 1, seed_for(cfg.seed, "transfer.source", name)
        )
        models[name] = model
        labels = {
            "score": "train_accuracy",
            "val_score": "test_accuracy",
            "loss": "train_loss",
            "val_loss": "test_loss",
        }
        metrics[name] = {label: history.curves[key][-1, 0] for key, label in labels.items()}
        metrics[name]["n_classes"] = problems[name].n_classes
        for key, label in labels.items():
            curves[f"{name}-{label}"] = history.curves[key][:, 0]
    return SourceResult(models, metrics, pd.DataFrame(curves))


def check_source(
    source: ReplicaMLP, layers: list[Dense], n_inputs: int, t: TransferConfig, where: str
) -> None:
    """The source must fit the target network and have every layer the arms freeze."""
    n_hidden = len(source.layers) - 1
    deepest = max([*t.frozen_layers, t.reinit_keep if "reinit_top" in t.extensions else 0])
    if deepest > n_hidden:
        raise UserError(
            f"{where}: the source model has {n_hidden} hidden layers; transfer.frozen_layers / "
            f"reinit_keep ask to keep {deepest} (allowed: 0 to {n_hidden})"
        )
    shapes = [(layer.units,) for layer in source.layers]
    if shapes != [(layer.units,) for layer in layers] or source.input_dim != n_inputs:
        raise UserError(
            f"{where}: the source model's layers {[s[0] for s in shapes]} do not match the "
            f"target network {[layer.units for layer in layers]} (transfer.source.hidden_units "
            "and the target's number of classes)"
        )


def load_source(path) -> ReplicaMLP:
    """A saved source model as a one-replica ReplicaMLP; missing or damaged -> UserError."""
    keras_model = load_keras(path)
    try:
        return ReplicaMLP.from_keras([keras_model])
    except (ValueError, IndexError, KeyError, AttributeError) as err:
        raise UserError(f"{path}: not a dense MLP the transfer study can use ({err})") from err
