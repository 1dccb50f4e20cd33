"""Greedy pretraining per hidden activation (docs/studies.md#greedy-layer-wise-pretraining):
relu / sigmoid / tanh arms, each grown greedily beside its end-to-end controls, and the
norm of each layer's gradient at initialisation (does the gradient vanish with depth?).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.engine import Dense, ReplicaMLP
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.studies.greedy.common import (
    StudyResult,
    accuracies,
    control_model,
    depth_metrics,
    depth_table,
    fitter,
    grown,
    run_side_by_side,
    score_rows,
)
from layerwise.studies.greedy.labels import CONTROL, GREEDY


@dataclass
class ActivationsResult:
    study: StudyResult  # greedy and end-to-end per activation and depth
    gradients: pd.DataFrame  # per activation, layer and replica: gradient norm at init


def run(cfg: Config, data: Dataset, progress: bool = True) -> ActivationsResult:
    """Greedy vs end-to-end training per hidden activation, and gradient norms at init.

    Each arm trains its own base network (the baseline's shape with that activation)
    for `epochs`, grows it greedily and, as a control, trains each depth end to end
    for the same total number of epochs. The gradient measurement: for a network of
    `gradient_depth` hidden layers, freshly initialised, the norm of the loss gradient
    with respect to each layer's kernel over the whole training split.
    """
    a = cfg.greedy.activations
    width, init = cfg.model.hidden_units[-1], cfg.model.initializer
    output = Dense(data.n_classes, "softmax", "glorot_uniform")
    names, R = list(a.names), a.repeats
    steps = (a.additions + 1) * (2 if a.control else 1)
    step = Progress("greedy activation rounds", steps, show=progress).advance

    # The arms differ only in the hidden activation, so they train as one model (one
    # compiled program per depth, not one per arm and depth): arm i holds replicas
    # i*R .. (i+1)*R - 1, each arm's base network drawn from its own stream.
    base = ReplicaMLP.concat(
        [
            ReplicaMLP.create(
                data.n_features,
                [Dense(width, name, init), output],
                R,
                seed=seed_for(cfg.seed, "greedy.activations.init", name),
            )
            for name in names
        ]
    )
    hidden = base.layers[0]  # one activation per replica

    def tally(method: str, model: ReplicaMLP) -> list[dict]:
        step()
        scores = accuracies(model, data)
        rows = []
        for i, name in enumerate(names):
            arm = {k: v[i * R : (i + 1) * R] for k, v in scores.items()}
            rows += [
                {"activation": name, **row} for row in score_rows(method, len(model.layers), arm)
            ]
        return rows

    def greedy_rows() -> list[dict]:
        fit = fitter(cfg, data, lambda k: a.epochs, a.batch_size, "greedy.activations.fit")
        fit(base, 0)
        models = grown(
            base,
            hidden,
            a.additions,
            fit,
            lambda k: seed_for(cfg.seed, "greedy.activations.add", k),
        )
        return [row for model in models for row in tally(GREEDY, model)]

    def control_rows(k: int) -> list[dict]:
        budget = fitter(
            cfg, data, lambda k: (k + 1) * a.epochs, a.batch_size, "greedy.activations.control.fit"
        )
        model = control_model(
            data.n_features,
            [hidden, output],
            hidden,
            k,
            base.n_replicas,
            budget,
            lambda k: seed_for(cfg.seed, "greedy.activations.control.init", k),
        )
        return tally(CONTROL, model)

    # the greedy sequence and each control depth are independent trainings: run them
    # side by side, the largest first (costs: epochs x trainable layers)
    tasks = {GREEDY: (a.epochs * (2 + 2 * a.additions), greedy_rows)}
    for k in range(a.additions + 1) if a.control else ():
        tasks[k] = ((k + 1) * a.epochs * (k + 2), functools.partial(control_rows, k))
    results = run_side_by_side(tasks)
    rows = [row for key in tasks for row in results[key]]
    # arm by arm, greedy before its controls (a stable sort keeps depths and replicas)
    rows.sort(key=lambda row: names.index(row["activation"]))
    gradients = gradient_norms(cfg, data, names)
    replicas = pd.DataFrame(rows)
    depths = pd.concat(
        [
            depth_table(group.drop(columns="activation")).assign(activation=name)
            for name, group in replicas.groupby("activation", sort=False)
        ],
        ignore_index=True,
    )
    metrics = {"dataset": cfg.data.name, "n_replicas": a.repeats}
    for name, group in replicas.groupby("activation", sort=False):
        metrics[name] = depth_metrics(group.drop(columns="activation"))
    for name, group in gradients.groupby("activation", sort=False):
        first, last = group[group.layer == 1], group[group.layer == group.layer.max()]
        metrics[name]["gradient_ratio_first_to_last"] = float(
            np.median(first.gradient_norm.to_numpy() / last.gradient_norm.to_numpy())
        )
    return ActivationsResult(StudyResult(replicas, depths, metrics), gradients)


def gradient_norms(cfg: Config, data: Dataset, names: list[str]) -> pd.DataFrame:
    """Per activation, layer (1-based) and replica: the norm of the loss gradient with
    respect to the layer's kernel, for a fresh network of `gradient_depth` hidden layers,
    over the whole training split."""
    a = cfg.greedy.activations
    width, init = cfg.model.hidden_units[-1], cfg.model.initializer
    output = Dense(data.n_classes, "softmax", "glorot_uniform")
    rows = []
    for name in names:
        hidden = Dense(width, name, init)
        deep = ReplicaMLP.create(
            data.n_features,
            [hidden] * a.gradient_depth + [output],
            a.repeats,
            seed=seed_for(cfg.seed, "greedy.activations.gradients", name),
        )
        norms = deep.gradient_norms(data.x_train, data.onehot(data.y_train))
        for r in range(norms.shape[0]):
            for layer in range(norms.shape[1]):
                rows.append(
                    {
                        "activation": name,
                        "layer": layer + 1,
                        "replica": r,
                        "gradient_norm": float(norms[r, layer]),
                    }
                )
    return pd.DataFrame(rows)
