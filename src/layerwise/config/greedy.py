"""The greedy study's section of the configuration, and its cross-field rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from layerwise.pipeline.budget import check_replicas
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.schema import (
    list_field,
    number_field,
)


@dataclass
class GreedySupervisedConfig:
    """Supervised greedy layer-wise training from the baseline, with controls
    (docs/studies.md#greedy-supervised)."""

    additions: int = number_field(10, low=0)  # hidden layers added one at a time
    epochs: int = number_field(100, low=1)  # epochs per added layer
    batch_size: int = number_field(32, low=1)
    control: bool = True  # same architecture at each depth, end to end, same total epochs
    fine_tune: bool = True  # after the last addition: unfreeze all, train at a smaller rate
    fine_tune_epochs: int = number_field(100, low=1)
    fine_tune_learning_rate: float = number_field(0.001, low=0.0, low_open=True)


@dataclass
class GreedyUnsupervisedConfig:
    """Greedy autoencoder pretraining, scored by a classifier head per depth
    (docs/studies.md#greedy-unsupervised)."""

    repeats: int = number_field(30, low=1)
    additions: int = number_field(5, low=0)
    epochs: int = number_field(100, low=1)  # autoencoder epochs per depth
    classifier_epochs: int = number_field(100, low=1)  # classifier head on the frozen encoder
    batch_size: int = number_field(32, low=1)


@dataclass
class GreedyActivationsConfig:
    """Greedy vs end-to-end per hidden activation, and gradient norms at initialisation."""

    enabled: bool = True
    names: list[str] = list_field(
        ["relu", "sigmoid", "tanh"], choices=("relu", "sigmoid", "tanh"), unique=True
    )
    repeats: int = number_field(10, low=1)
    additions: int = number_field(5, low=0)
    epochs: int = number_field(100, low=1)  # for the base network and for each round
    batch_size: int = number_field(32, low=1)
    control: bool = True
    gradient_depth: int = number_field(10, low=1)  # hidden layers of the network whose gradients


@dataclass
class GreedyDepthConfig:
    """Depth selection (the TensorFlow tutorial's settings) on validation data only."""

    enabled: bool = True
    repeats: int = number_field(30, low=1)
    patience: int = number_field(3, low=1)  # stop after this many rounds without improvement
    max_additions: int = number_field(10, low=0)
    epochs: int = number_field(100, low=1)  # for the base network and for each round
    batch_size: int = number_field(32, low=1)
    validation_fraction: float = number_field(0.2, low=0.0, high=0.9, low_open=True)
    subsample_fraction: float = number_field(0.3, low=0.0, high=1.0, low_open=True)


@dataclass
class GreedyFewLabelsConfig:
    """Autoencoder pretraining on every training input, classifiers on n labelled rows."""

    enabled: bool = True
    datasets: list[str] = list_field(["blobs", "digits"])  # keys of `datasets`, one stage each
    n_labelled: list[int] = list_field([10, 30, 100, 300, 0], low=0)  # 0 = every training row
    repeats: int = number_field(10, low=1)
    pretrain_additions: int = number_field(1, low=0)  # greedy autoencoder rounds before the heads
    epochs: int = number_field(100, low=1)  # autoencoder rounds and every classifier fit
    batch_size: int = number_field(32, low=1)


def check_few_labels(cfg, shapes) -> None:
    """Every few-labels dataset exists and has at least as many training rows as asked for."""
    f = cfg.greedy.few_labels
    for name in f.datasets:
        if name not in cfg.datasets:
            raise UserError(
                f"greedy.few_labels.datasets: {name!r} is not a dataset "
                f"(allowed: {', '.join(sorted(cfg.datasets))})"
            )
        if name not in shapes:  # a csv file not read here: the check stage bounded it
            continue
        n_train = shapes[name].n_train
        for n in f.n_labelled:
            if n > n_train:
                raise UserError(
                    f"greedy.few_labels.n_labelled = {n} is larger than the {n_train} training "
                    f"rows of dataset {name} (allowed: 1..{n_train}, or 0 for all)"
                )


@dataclass
class GreedyConfig:
    supervised: GreedySupervisedConfig = field(default_factory=GreedySupervisedConfig)
    unsupervised: GreedyUnsupervisedConfig = field(default_factory=GreedyUnsupervisedConfig)
    activations: GreedyActivationsConfig = field(default_factory=GreedyActivationsConfig)
    depth_selection: GreedyDepthConfig = field(default_factory=GreedyDepthConfig)
    few_labels: GreedyFewLabelsConfig = field(default_factory=GreedyFewLabelsConfig)


def check_greedy_memory(cfg, shapes) -> None:
    """Every greedy stage's replicas, at their deepest, fit in memory side by side."""
    g, ds = cfg.greedy, shapes.get(cfg.data.name)
    if ds is None:  # a csv file not read here: the check stage bounded it
        return
    hidden = list(cfg.model.hidden_units)
    width = hidden[-1]
    sup = g.supervised
    check_replicas(  # the baseline's replicas, grown, beside their end-to-end controls
        "baseline.repeats",
        cfg.baseline.repeats,
        cfg.baseline.repeats * (2 if sup.control else 1),
        ds,
        hidden + [width] * sup.additions,
    )
    un = g.unsupervised
    features = ds.features
    check_replicas(
        "greedy.unsupervised.repeats",
        un.repeats,
        un.repeats,
        ds,
        [width] * (1 + un.additions),
        output=features,
    )
    act = g.activations
    if act.enabled:
        check_replicas(
            "greedy.activations.repeats",
            act.repeats,
            act.repeats * len(act.names) * 2,
            ds,
            [width] * (1 + max(act.additions, act.gradient_depth)),
        )
    dep = g.depth_selection
    if dep.enabled:
        check_replicas(
            "greedy.depth_selection.repeats",
            dep.repeats,
            dep.repeats,
            ds,
            [width] * (1 + dep.max_additions),
        )
    few = g.few_labels
    if few.enabled:
        for name in few.datasets:
            if name not in shapes:
                continue
            check_replicas(
                "greedy.few_labels.repeats",
                few.repeats,
                few.repeats * 3,  # frozen, tuned and from-scratch arms
                shapes[name],
                [width] * (1 + few.pretrain_additions),
                output=shapes[name].features,
            )
