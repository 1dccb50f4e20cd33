"""Greedy layer-wise pretraining (STUDY.md section 3), supervised and unsupervised.

Supervised: start from the baseline's fitted replicas; repeatedly insert a new
hidden layer before the kept output layer, freeze every earlier hidden layer and
refit, scoring every depth. Controls: the same architecture trained end to end from
scratch with the epochs the greedy network received in total, and fine-tuning of
all layers at a smaller learning rate after the last addition.

Unsupervised: an autoencoder grown the same way (input -> input, MSE); at every
depth a softmax head is fitted on the frozen encoder to score it as a classifier,
and the reconstruction layer is put back for the next round.

Depth counts layers with weights, the output layer included (the references'
"model size": the baseline is depth 2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from layerwise.cli import Progress
from layerwise.config import Config
from layerwise.core import Dense, ReplicaMLP
from layerwise.data import Dataset
from layerwise.models import make_optimizer
from layerwise.stats import summarize

GREEDY = "greedy"
CONTROL = "end-to-end"
FINE_TUNED = "greedy + fine-tune"


@dataclass
class StudyResult:
    replicas: pd.DataFrame  # one row per (method, depth, replica)
    depths: pd.DataFrame  # per (method, depth): mean and 95% band of each score
    metrics: dict


def _seed(cfg: Config, stream: int, round_: int) -> int:
    """Distinct, reproducible seeds for each purpose (stream) and round."""
    return cfg.seed * 100_003 + stream * 1_009 + round_


def _rows(method: str, depth: int, scores: dict[str, np.ndarray]) -> list[dict]:
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


def depth_table(replicas: pd.DataFrame) -> pd.DataFrame:
    """Per method and depth: mean, std and 95% CI over replicas of every score column."""
    scores = [c for c in replicas.columns if c not in ("method", "depth", "replica")]
    out = []
    for (method, depth), group in replicas.groupby(["method", "depth"], sort=False):
        row = {"method": method, "depth": depth, "n_replicas": len(group)}
        for col in scores:
            s = summarize(group[col])
            row[col] = s["mean"]
            row[f"{col}_std"] = s["std"]
            row[f"{col}_low"] = s["ci_low"]
            row[f"{col}_high"] = s["ci_high"]
        out.append(row)
    return pd.DataFrame(out)


def wide_table(depths: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """One row per depth, one column per (method, score) mean: what `dvc plots` draws."""
    wide = depths.pivot(index="depth", columns="method", values=list(columns))
    wide.columns = [
        f"{method.replace(' + ', '_').replace('-', '_')}_{col}" for col, method in wide.columns
    ]
    return wide.reset_index()


def _metrics(replicas: pd.DataFrame) -> dict:
    """metrics.json: {method: {depth_<d>: {score: summary}}} (dvc exp show columns)."""
    scores = [c for c in replicas.columns if c not in ("method", "depth", "replica")]
    metrics: dict = {}
    for (method, depth), group in replicas.groupby(["method", "depth"], sort=False):
        metrics.setdefault(method, {})[f"depth_{depth}"] = {
            col: {k: v for k, v in summarize(group[col]).items() if k != "n"} for col in scores
        }
    return metrics


def _accuracies(model: ReplicaMLP, data: Dataset) -> dict[str, np.ndarray]:
    train = model.evaluate(data.x_train, data.onehot(data.y_train))["score"]
    test = model.evaluate(data.x_test, data.onehot(data.y_test))["score"]
    return {"train_accuracy": train, "test_accuracy": test}


# -- supervised ---------------------------------------------------------------------------


def supervised(cfg: Config, data: Dataset, base: ReplicaMLP, progress: bool = True) -> StudyResult:
    """Greedy supervised layer addition from the fitted baseline, plus its controls."""
    g = cfg.greedy.supervised
    if g.additions < 0:  # the schema rejects it too; the function is also called directly
        from layerwise.errors import UserError

        raise UserError(f"greedy.supervised.additions = {g.additions} (allowed: >= 0)")
    optimizer = make_optimizer(cfg.optimizer)
    x, y = data.x_train, data.onehot(data.y_train)
    base_epochs = cfg.baseline.epochs
    hidden = base.layers[-2] if len(base.layers) > 1 else None
    if hidden is None:
        from layerwise.errors import UserError

        raise UserError("greedy.supervised: the baseline has no hidden layer to grow from")
    steps = g.additions + (g.additions + 1 if g.control else 0) + int(g.fine_tune)
    tick = Progress("greedy supervised rounds", steps) if progress else None
    done = 0

    rows = _rows(GREEDY, len(base.layers), _accuracies(base, data))
    model = base
    for k in range(1, g.additions + 1):
        model = model.insert_hidden(hidden, seed=_seed(cfg, 1, k))
        model.fit(
            x,
            y,
            epochs=g.epochs,
            optimizer=optimizer,
            batch_size=g.batch_size,
            seed=_seed(cfg, 2, k),
        )
        rows += _rows(GREEDY, len(model.layers), _accuracies(model, data))
        done += 1
        if tick:
            tick(done)

    if g.fine_tune:
        tuned = model.select(np.arange(model.n_replicas))
        tuned.unfreeze()
        tuned.fit(
            x,
            y,
            epochs=g.fine_tune_epochs,
            batch_size=g.batch_size,
            optimizer=replace(optimizer, learning_rate=g.fine_tune_learning_rate),
            seed=_seed(cfg, 3, 0),
        )
        rows += _rows(FINE_TUNED, len(tuned.layers), _accuracies(tuned, data))
        done += 1
        if tick:
            tick(done)

    if g.control:
        # the greedy network at depth d was trained for the baseline's epochs plus
        # g.epochs per added layer: the control gets that many epochs, all layers learning
        n_base_hidden = len(base.layers) - 1
        for k in range(0, g.additions + 1):
            layers = list(base.layers[:-1]) + [hidden] * k + [base.layers[-1]]
            control = ReplicaMLP.create(
                base.input_dim, layers, base.n_replicas, seed=_seed(cfg, 4, k)
            )
            control.fit(
                x,
                y,
                epochs=base_epochs + k * g.epochs,
                optimizer=optimizer,
                batch_size=g.batch_size,
                seed=_seed(cfg, 5, k),
            )
            rows += _rows(CONTROL, n_base_hidden + k + 1, _accuracies(control, data))
            done += 1
            if tick:
                tick(done)

    replicas = pd.DataFrame(rows)
    metrics = {"dataset": cfg.data.name, "n_replicas": base.n_replicas, **_metrics(replicas)}
    return StudyResult(replicas, depth_table(replicas), metrics)


# -- unsupervised -------------------------------------------------------------------------


def autoencoder_layers(cfg: Config, n_features: int) -> list[Dense]:
    """The base autoencoder: the model's hidden layers, then a linear reconstruction layer."""
    m = cfg.model
    hidden = [Dense(u, m.activation, m.initializer) for u in m.hidden_units]
    return hidden + [Dense(n_features, "linear", "glorot_uniform")]


def classifier_head_scores(
    encoder: ReplicaMLP, data: Dataset, cfg: Config, round_: int, train_index=None
) -> dict[str, np.ndarray]:
    """Fit a softmax head on the frozen encoder; return its train/test accuracy.

    `encoder` is any model whose output layer is to be replaced (the autoencoder:
    its reconstruction layer stays where it is, on `encoder` itself).
    train_index: [R, n] labelled rows per replica (few labels); default: all rows.
    """
    g = cfg.greedy.unsupervised
    head = Dense(data.n_classes, "softmax", "glorot_uniform")
    classifier = encoder.with_head(head, seed=_seed(cfg, 11, round_))
    y = data.onehot(data.y_train)
    classifier.fit(
        data.x_train,
        y,
        epochs=g.classifier_epochs,
        batch_size=g.batch_size,
        optimizer=make_optimizer(cfg.optimizer),
        train_index=train_index,
        seed=_seed(cfg, 12, round_),
    )
    return _accuracies(classifier, data)


def unsupervised(cfg: Config, data: Dataset, progress: bool = True) -> StudyResult:
    """Greedy autoencoder growth; reconstruction MSE and classifier-head accuracy per depth."""
    g = cfg.greedy.unsupervised
    optimizer = make_optimizer(cfg.optimizer)
    x = data.x_train
    tick = Progress("greedy unsupervised depths", g.additions + 1) if progress else None
    autoencoder = ReplicaMLP.create(
        data.n_features,
        autoencoder_layers(cfg, data.n_features),
        g.n_replicas,
        seed=_seed(cfg, 10, 0),
    )
    hidden = autoencoder.layers[-2]
    rows = []
    for k in range(g.additions + 1):
        if k > 0:
            autoencoder = autoencoder.insert_hidden(hidden, seed=_seed(cfg, 10, k))
        autoencoder.fit(
            x,
            x,
            epochs=g.epochs,
            optimizer=optimizer,
            loss="mse",
            batch_size=g.batch_size,
            seed=_seed(cfg, 13, k),
        )
        scores = {
            "train_mse": autoencoder.evaluate(x, x, "mse")["loss"],
            "test_mse": autoencoder.evaluate(data.x_test, data.x_test, "mse")["loss"],
            **classifier_head_scores(autoencoder, data, cfg, k),
        }
        rows += _rows("autoencoder", len(autoencoder.layers), scores)
        if tick:
            tick(k + 1)
    replicas = pd.DataFrame(rows)
    metrics = {"dataset": cfg.data.name, "n_replicas": g.n_replicas, **_metrics(replicas)}
    return StudyResult(replicas, depth_table(replicas), metrics)
