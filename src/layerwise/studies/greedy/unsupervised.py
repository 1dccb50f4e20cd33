"""Greedy unsupervised pretraining (docs/studies.md#greedy-layer-wise-pretraining): an
autoencoder (input -> input, squared error) grown greedily; at every depth a softmax head
is fitted on the frozen encoder to score it as a classifier, and the reconstruction layer
stays in place for the next round.
"""

from __future__ import annotations

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
    depth_metrics,
    depth_table,
    diverged,
    fitter,
    grown_autoencoders,
    reconstruction_error,
    score_rows,
    without,
)


def classifier_head_scores(
    encoder: ReplicaMLP, data: Dataset, cfg: Config, round_: int
) -> dict[str, np.ndarray]:
    """Fit a softmax head on the frozen encoder; return its train/test accuracy.

    `encoder` is any model whose output layer is to be replaced (the autoencoder:
    its reconstruction layer stays where it is, on `encoder` itself).
    """
    g = cfg.greedy.unsupervised
    head = Dense(data.n_classes, "softmax", "glorot_uniform")
    classifier = encoder.with_head(
        head, seed=seed_for(cfg.seed, "greedy.unsupervised.head.init", round_)
    )
    fit = fitter(
        cfg, data, lambda k: g.classifier_epochs, g.batch_size, "greedy.unsupervised.head.fit"
    )
    fit(classifier, round_)
    return accuracies(classifier, data)


def run(cfg: Config, data: Dataset, progress: bool = True) -> StudyResult:
    """Greedy autoencoder growth; reconstruction MSE and classifier-head accuracy per depth."""
    g = cfg.greedy.unsupervised
    step = Progress("greedy unsupervised depths", g.additions + 1, show=progress).advance
    autoencoders = grown_autoencoders(
        cfg,
        data,
        g.repeats,
        g.additions,
        g.epochs,
        g.batch_size,
        "greedy.unsupervised.autoencoder",
    )
    rows = []
    for k, autoencoder in enumerate(autoencoders):
        train_mse = reconstruction_error(autoencoder, data.x_train)
        left_out = diverged(train_mse)  # a diverged encoder's head scores are left out
        scores = {
            "train_mse": train_mse,
            "test_mse": reconstruction_error(autoencoder, data.x_test),
            **without(classifier_head_scores(autoencoder, data, cfg, k), left_out),
            "diverged": left_out.astype(float),
        }
        rows += score_rows("autoencoder", len(autoencoder.layers), scores)
        step()
    replicas = pd.DataFrame(rows)
    metrics = {"dataset": cfg.data.name, "n_replicas": g.repeats, **depth_metrics(replicas)}
    return StudyResult(replicas, depth_table(replicas), metrics)
