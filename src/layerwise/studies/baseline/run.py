"""The baseline (docs/studies.md#baseline): one MLP on the configured dataset, R replicas."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.engine import History, ReplicaMLP
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.models import classifier_layers, make_optimizer
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.pipeline.stats import band, summarize


@dataclass
class BaselineResult:
    model: ReplicaMLP
    history: History
    metrics: dict
    curves: pd.DataFrame  # per epoch: mean and 95% band of each curve
    replicas: pd.DataFrame  # per replica: final train/test accuracy and loss


def curve_table(history: History, names: dict[str, str]) -> pd.DataFrame:
    """Per-epoch mean and CI band of the chosen history curves, renamed."""
    table = {"epoch": np.arange(1, history.epochs + 1)}
    for key, label in names.items():
        b = band(history.curves[key], metric=label)
        table[label] = b["mean"]
        table[f"{label}_low"] = b["low"]
        table[f"{label}_high"] = b["high"]
    return pd.DataFrame(table)


def run(cfg: Config, data: Dataset, progress: bool = True) -> BaselineResult:
    b = cfg.baseline
    model = ReplicaMLP.create(
        data.n_features,
        classifier_layers(cfg.model, data.n_classes),
        b.repeats,
        seed_for(cfg.seed, "baseline.init"),
    )
    history = model.fit(
        data.x_train,
        data.onehot(data.y_train),
        epochs=b.epochs,
        batch_size=b.batch_size,
        optimizer=make_optimizer(cfg.optimizer),
        seed=seed_for(cfg.seed, "baseline.fit"),
        validation=(data.x_test, data.onehot(data.y_test)),
        on_epoch=Progress("epochs", b.epochs, show=progress).on_epoch,
    )
    final = {k: v[-1] for k, v in history.curves.items()}
    replicas = pd.DataFrame(
        {
            "replica": np.arange(b.repeats),
            "train_accuracy": final["score"],
            "test_accuracy": final["val_score"],
            "train_loss": final["loss"],
            "test_loss": final["val_loss"],
        }
    )
    metrics = {
        "dataset": cfg.data.name,
        "n_replicas": b.repeats,
        **{col: summarize(replicas[col], metric=col) for col in replicas.columns[1:]},
    }
    curves = curve_table(
        history,
        {
            "score": "train_accuracy",
            "val_score": "test_accuracy",
            "loss": "train_loss",
            "val_loss": "test_loss",
        },
    )
    return BaselineResult(model, history, metrics, curves, replicas)
