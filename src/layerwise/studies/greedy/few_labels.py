"""Few labels (docs/studies.md#greedy-layer-wise-pretraining): autoencoder pretraining
on every training input vs supervised training on n labelled rows only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.engine import Dense, ReplicaMLP
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.models import make_optimizer
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.studies.greedy.common import (
    accuracies,
    diverged,
    grown_autoencoders,
    reconstruction_error,
    run_side_by_side,
    score_rows,
    summaries,
    without,
)
from layerwise.studies.greedy.labels import PRETRAINED_FROZEN, PRETRAINED_TUNED, SCRATCH


@dataclass
class FewLabelsResult:
    replicas: pd.DataFrame  # one row per (labelled rows, method, replica)
    sizes: pd.DataFrame  # per (labelled rows, method): test accuracy, mean and 95% band
    metrics: dict


def labelled_rows(n_rows: int, n_labelled: int, n_replicas: int, seed: int) -> np.ndarray:
    """[R, n] distinct training rows per replica that keep their labels (0 = all rows)."""
    if n_labelled > n_rows:
        raise UserError(
            f"greedy.few_labels.n_labelled = {n_labelled} is larger than the {n_rows} training "
            f"rows (allowed: 1..{n_rows}, or 0 for all)"
        )
    if n_labelled == 0:
        return np.broadcast_to(np.arange(n_rows), (n_replicas, n_rows))
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(n_rows, n_labelled, replace=False) for _ in range(n_replicas)])


def run(cfg: Config, data: Dataset, progress: bool = True) -> FewLabelsResult:
    """Pretraining on every training input vs supervised training on n labels only.

    The autoencoder (the model's hidden layers + `pretrain_additions` greedy rounds)
    sees all training inputs, never a label. For each n, every replica draws n
    labelled rows; on them are fitted (a) a softmax head on the frozen encoder,
    (b) the same network with every layer trained from the pretrained weights, and
    (c) a network of the same shape trained from scratch.
    """
    f = cfg.greedy.few_labels
    if not f.n_labelled:
        raise UserError("greedy.few_labels.n_labelled is empty (allowed: a list of sizes)")
    for n in f.n_labelled:  # fail before any training
        labelled_rows(len(data.x_train), n, 1, 0)
    optimizer = make_optimizer(cfg.optimizer)
    x, y = data.x_train, data.onehot(data.y_train)
    # the last model of the greedy sequence is the pretrained autoencoder
    *_, autoencoder = grown_autoencoders(
        cfg,
        data,
        f.repeats,
        f.pretrain_additions,
        f.epochs,
        f.batch_size,
        "greedy.few_labels.autoencoder",
    )
    head = Dense(data.n_classes, "softmax", "glorot_uniform")
    # as in the unsupervised study, a diverged autoencoder is no encoder: its pretrained
    # arms are left out (NaN) and counted
    left_out = diverged(reconstruction_error(autoencoder, x))
    step = Progress("few-labels fits", 3 * len(f.n_labelled), show=progress).advance

    def arm_rows(method: str, n: int) -> list[dict]:
        """One arm at one size: build, fit on the replicas' n labelled rows, score."""
        index = labelled_rows(len(x), n, f.repeats, seed_for(cfg.seed, "greedy.few_labels.rows", n))
        if method == SCRATCH:
            layers = list(autoencoder.layers[:-1]) + [head]
            model = ReplicaMLP.create(
                data.n_features,
                layers,
                f.repeats,
                seed=seed_for(cfg.seed, "greedy.few_labels.scratch.init", n),
            )
        else:
            model = autoencoder.with_head(
                head, seed=seed_for(cfg.seed, "greedy.few_labels.head.init", n)
            )
            if method == PRETRAINED_TUNED:
                model.unfreeze()
        model.fit(
            x,
            y,
            epochs=f.epochs,
            optimizer=optimizer,
            batch_size=f.batch_size,
            train_index=index,
            seed=seed_for(cfg.seed, "greedy.few_labels.fit", method, n),
            curves=False,
        )
        scores = accuracies(model, data)
        if method != SCRATCH:
            scores = without(scores, left_out)
        step()
        return [
            {
                "n_labelled": index.shape[1],
                "autoencoder_diverged": bool(left_out[row["replica"]]),
                **row,
            }
            for row in score_rows(method, len(model.layers), scores)
        ]

    # every (size, arm) fit is independent: side by side, the largest samples first
    # (costs: labelled rows x trainable layers)
    methods = (PRETRAINED_FROZEN, PRETRAINED_TUNED, SCRATCH)
    tasks = {
        (i, method): (
            (n or len(x)) * (1 if method == PRETRAINED_FROZEN else len(autoencoder.layers)),
            functools.partial(arm_rows, method, n),
        )
        for i, n in enumerate(f.n_labelled)
        for method in methods
    }
    results = run_side_by_side(tasks)
    replicas = pd.DataFrame([row for key in tasks for row in results[key]])
    sizes = []
    metrics: dict = {
        "n_replicas": f.repeats,
        "depth": len(autoencoder.layers),
        "autoencoders_diverged": int(left_out.sum()),
    }
    by_size = summaries(replicas, ["n_labelled", "method"], ["test_accuracy"])
    for (n, method), _, scores in by_size:
        s = scores["test_accuracy"]
        sizes.append(
            {
                "n_labelled": n,
                "method": method,
                "test_accuracy": s["mean"],
                "test_accuracy_low": s["ci_low"],
                "test_accuracy_high": s["ci_high"],
                "test_accuracy_std": s["std"],
            }
        )
        metrics.setdefault(f"n_{n}", {})[method] = s
    return FewLabelsResult(replicas, pd.DataFrame(sizes), metrics)
