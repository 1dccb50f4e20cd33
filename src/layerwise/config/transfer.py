"""The transfer study's section of the configuration, and its cross-field rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from layerwise.pipeline.budget import check_replicas
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.schema import (
    ACTIVATION_CHOICES,
    INITIALIZER_CHOICES,
    choice_field,
    list_field,
    number_field,
)

TRANSFER_EXTENSIONS = ("new_hidden", "reinit_top")

TRANSFER_PROTOCOLS = ("same_source", "fresh_source")


@dataclass
class TransferProblemConfig:
    """A classification problem for the transfer study: a dataset, maybe fewer classes."""

    dataset: str = "transfer_p1"  # a key of `datasets` (the file data/<dataset>.npz)
    # the classes kept, relabelled 0..k-1 in this order; [] = all classes
    classes: list[int] = list_field([], low=0, nonempty=False)


@dataclass
class TransferSourceConfig:
    """The source models (stage transfer_source): network, training and source problems."""

    problems: dict[str, TransferProblemConfig] = field(default_factory=dict)
    hidden_units: list[int] = list_field([5, 5], low=1)
    activation: str = choice_field("relu", ACTIVATION_CHOICES)
    initializer: str = choice_field("he_uniform", INITIALIZER_CHOICES)
    epochs: int = number_field(100, low=1)
    batch_size: int = number_field(32, low=1)
    learning_rate: float = number_field(0.01, low=0.0, low_open=True)
    momentum: float = number_field(0.0, low=0.0, high=1.0)


@dataclass
class TransferCaseConfig:
    """One comparison: a source problem's model transferred to a target problem."""

    source: str = "p1"  # a key of transfer.source.problems
    dataset: str = "transfer_p2"  # the target: a key of `datasets`
    classes: list[int] = list_field([], low=0, nonempty=False)


@dataclass
class TransferConfig:
    """The transfer study: standalone vs transfer arms over repeats
    (docs/studies.md#transfer-learning)."""

    source: TransferSourceConfig = field(default_factory=TransferSourceConfig)
    cases: dict[str, TransferCaseConfig] = field(default_factory=dict)
    repeats: int = number_field(30, low=2)
    epochs: int = number_field(100, low=1)
    batch_size: int = number_field(32, low=1)
    learning_rate: float = number_field(0.01, low=0.0, low_open=True)
    momentum: float = number_field(0.0, low=0.0, high=1.0)
    frozen_layers: list[int] = list_field([0, 1, 2], low=0)
    extensions: list[str] = list_field(
        list(TRANSFER_EXTENSIONS), choices=TRANSFER_EXTENSIONS, nonempty=False
    )
    reinit_keep: int = number_field(1, low=1)  # reinit_top: source hidden layers kept (frozen)
    protocols: list[str] = list_field(list(TRANSFER_PROTOCOLS), choices=TRANSFER_PROTOCOLS)
    reach_fraction: float = number_field(0.95, low=0.0, high=1.0, low_open=True)

    def arm_names(self) -> list[str]:
        """The compared arms in reading order: standalone, fixed_k..., extensions."""
        return ["standalone"] + [f"fixed_{k}" for k in self.frozen_layers] + list(self.extensions)


def check_transfer(cfg, shapes) -> None:
    """The transfer section's names must exist, and no arm may freeze a layer the source lacks."""
    t = cfg.transfer
    n_hidden = len(t.source.hidden_units)
    for name, problem in t.source.problems.items():
        if problem.dataset not in cfg.datasets:
            raise UserError(
                f"transfer.source.problems.{name}.dataset = {problem.dataset!r} is not a "
                f"dataset (allowed: {', '.join(sorted(cfg.datasets))})"
            )
    for name, case in t.cases.items():
        if case.source not in t.source.problems:
            raise UserError(
                f"transfer.cases.{name}.source = {case.source!r} is not a source problem "
                f"(allowed: {', '.join(sorted(t.source.problems))})"
            )
        if case.dataset not in cfg.datasets:
            raise UserError(
                f"transfer.cases.{name}.dataset = {case.dataset!r} is not a dataset "
                f"(allowed: {', '.join(sorted(cfg.datasets))})"
            )
    for i, frozen in enumerate(t.frozen_layers):
        if frozen > n_hidden:
            raise UserError(
                f"transfer.frozen_layers[{i}] = {frozen} freezes more layers than the source "
                f"has hidden layers (allowed: 0 to {n_hidden})"
            )
    if "reinit_top" in t.extensions and t.reinit_keep > n_hidden:
        raise UserError(
            f"transfer.reinit_keep = {t.reinit_keep} keeps more layers than the source has "
            f"hidden layers (allowed: 1 to {n_hidden})"
        )


def check_transfer_memory(cfg, shapes) -> None:
    """Every case's arms x repeats x protocols, trained side by side, fit in memory."""
    t = cfg.transfer
    arms = 1 + len(t.frozen_layers) + len(t.extensions)
    for case in t.cases.values():
        check_replicas(
            "transfer.repeats",
            t.repeats,
            t.repeats * arms * len(t.protocols),
            shapes.get(case.dataset),
            t.source.hidden_units,
        )
