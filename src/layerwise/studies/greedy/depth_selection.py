"""Depth selection (docs/studies.md#greedy-layer-wise-pretraining), the tutorial's two
settings: stop adding layers after `patience` rounds without gain on a validation split
carved from the training rows, or search the depth that way on a subsample and train it
on every row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.engine import Dense, ReplicaMLP, side_by_side
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.models import classifier_layers
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.pipeline.stats import summarize
from layerwise.studies.greedy.common import fitter, grown


@dataclass
class DepthSelectionResult:
    replicas: pd.DataFrame  # per setting and replica: the chosen depth, test accuracy there
    metrics: dict


def split_rows(n_rows: int, n_replicas: int, sample: int, n_val: int, rng) -> tuple:
    """Per replica: a random sample of `sample` rows, its first `n_val` for validation."""
    picks = np.stack([rng.permutation(n_rows)[:sample] for _ in range(n_replicas)])
    return picks[:, n_val:], picks[:, :n_val]


def greedy_depth_search(
    cfg: Config,
    data: Dataset,
    fit_index: np.ndarray,
    val_index: np.ndarray | None,
    max_additions: int,
    stream: str,
    patience: int | None = None,
) -> dict[str, np.ndarray]:
    """Greedy supervised growth on each replica's own rows, scored after every round.

    fit_index: [R, n] training rows per replica; val_index: [R, m] validation rows per
    replica (None: no selection). With validation, each replica's chosen depth is its
    best validation accuracy before `patience` rounds pass without improvement; rounds
    continue until every replica has stopped or `max_additions` is reached.
    Returns per depth [D, R] test accuracies, validation accuracies, and per replica
    the chosen depth.
    """
    d = cfg.greedy.depth_selection
    n_replicas = fit_index.shape[0]
    hidden = Dense(cfg.model.hidden_units[-1], cfg.model.activation, cfg.model.initializer)
    layers = classifier_layers(cfg.model, data.n_classes)
    base = ReplicaMLP.create(
        data.n_features, layers, n_replicas, seed=seed_for(cfg.seed, stream, "init")
    )
    fit = fitter(
        cfg, data, lambda k: d.epochs, d.batch_size, f"{stream}.fit", train_index=fit_index
    )
    fit(base, 0)
    y = data.onehot(data.y_train)
    val = None if val_index is None else (data.x_train[val_index], y[val_index])
    best = np.full(n_replicas, -1.0)
    chosen = np.full(n_replicas, len(base.layers))
    waited = np.zeros(n_replicas, dtype=int)
    depths, tests, vals = [], [], []
    add_seed = functools.partial(seed_for, cfg.seed, f"{stream}.add")
    for model in grown(base, hidden, max_additions, fit, add_seed):
        depth = len(model.layers)
        depths.append(depth)
        tests.append(model.evaluate(data.x_test, data.onehot(data.y_test))["score"])
        if val is None:
            continue
        score = model.evaluate(*val)["score"]
        vals.append(score)
        active = waited < patience
        improved = active & (score > best)
        chosen[improved], best[improved] = depth, score[improved]
        waited[improved] = 0
        waited[active & ~improved] += 1
        if not np.any(waited < patience):
            break
    return {
        "depth": np.array(depths),
        "test_accuracy": np.array(tests),
        "validation_accuracy": np.array(vals),
        "chosen_depth": chosen,
    }


def run(cfg: Config, data: Dataset, progress: bool = True) -> DepthSelectionResult:
    """The tutorial's two settings, with validation rows carved from the training split.

    "validation": grow greedily on each replica's training rows minus its validation
    rows; stop after `patience` rounds without improvement; keep the best depth.
    "subsample": search the depth the same way on a `subsample_fraction` sample of the
    training rows, then train that depth greedily on the full training split.
    Reported per replica: the chosen depth and the test accuracy there.
    """
    d = cfg.greedy.depth_selection
    n_rows = len(data.x_train)
    rng = np.random.default_rng(seed_for(cfg.seed, "greedy.depth_selection.splits"))
    step = Progress("depth selection settings", 3, show=progress).advance

    def split(sample: int):
        n_val = int(round(sample * d.validation_fraction))
        if n_val < 1 or sample - n_val < 1:
            raise UserError(
                f"greedy.depth_selection: {sample} rows with validation_fraction = "
                f"{d.validation_fraction} leave no validation or no training rows "
                "(allowed: a fraction leaving at least one of each)"
            )
        return split_rows(n_rows, d.repeats, sample, n_val, rng)

    full_split = split(n_rows)
    small_split = split(max(2, int(round(n_rows * d.subsample_fraction))))

    def ticked(result):
        step()
        return result

    def validation_setting() -> list[dict]:
        search = greedy_depth_search(
            cfg, data, *full_split, d.max_additions, "greedy.depth_selection.validation", d.patience
        )
        return ticked(_selection_rows("validation", search, search))

    def subsample_setting() -> list[dict]:
        small = ticked(
            greedy_depth_search(
                cfg,
                data,
                *small_split,
                d.max_additions,
                "greedy.depth_selection.subsample.search",
                d.patience,
            )
        )
        every = np.broadcast_to(np.arange(n_rows), (d.repeats, n_rows))
        rounds = int(small["chosen_depth"].max()) - len(cfg.model.hidden_units) - 1
        full = greedy_depth_search(
            cfg, data, every, None, rounds, "greedy.depth_selection.subsample.train"
        )
        return ticked(_selection_rows("subsample", small, full))

    # the two settings are independent trainings: side by side
    validation_rows, subsample_rows = side_by_side([validation_setting, subsample_setting])
    rows = validation_rows + subsample_rows
    replicas = pd.DataFrame(rows)
    metrics = {"dataset": cfg.data.name, "n_replicas": d.repeats}
    for setting, group in replicas.groupby("setting", sort=False):
        counts = group["chosen_depth"].value_counts().sort_index()
        metrics[setting] = {
            "chosen_depth": {f"depth_{k}": int(v) for k, v in counts.items()},
            "chosen_depth_mean": float(group["chosen_depth"].mean()),
            "test_accuracy": summarize(group["test_accuracy"], metric="test_accuracy"),
            "base_test_accuracy": summarize(
                group["base_test_accuracy"], metric="base_test_accuracy"
            ),
        }
    return DepthSelectionResult(replicas, metrics)


def _selection_rows(setting: str, search: dict, trained: dict) -> list[dict]:
    """Per replica: chosen depth (from `search`), test accuracy there (from `trained`)."""
    position = {int(depth): i for i, depth in enumerate(trained["depth"])}
    rows = []
    for r, depth in enumerate(search["chosen_depth"]):
        rows.append(
            {
                "setting": setting,
                "replica": r,
                "chosen_depth": int(depth),
                "rounds_run": int(len(search["depth"]) - 1),
                "test_accuracy": float(trained["test_accuracy"][position[int(depth)], r]),
                "base_test_accuracy": float(trained["test_accuracy"][0, r]),
            }
        )
    return rows
