"""Between the configuration and the engine: configured layers and optimizers as engine
objects, and replica models as files (atomic writes, one-line errors)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from layerwise.engine import Dense, Optimizer, ReplicaMLP, optimizer
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import atomic_path, restore_hint
from layerwise.pipeline.schema import ModelConfig, OptimizerConfig


def mlp_layers(
    hidden_units: Sequence[int],
    activation: str,
    initializer: str,
    n_outputs: int,
    output: str = "softmax",
) -> list[Dense]:
    """The layer list of every study's MLP: hidden layers of one activation and
    initialiser, then `n_outputs` units with the activation `output` and Keras' default
    initialiser (glorot_uniform)."""
    hidden = [Dense(u, activation, initializer) for u in hidden_units]
    return hidden + [Dense(n_outputs, output, "glorot_uniform")]


def classifier_layers(model: ModelConfig, n_classes: int) -> list[Dense]:
    """Hidden layers as configured, then a softmax output with Keras' default initialiser."""
    return mlp_layers(model.hidden_units, model.activation, model.initializer, n_classes)


def make_optimizer(cfg: OptimizerConfig) -> Optimizer:
    """The configured optimizer (the engine's `optimizer`: sgd takes the momentum, adam
    the betas and epsilon)."""
    return optimizer(
        cfg.name,
        cfg.learning_rate,
        momentum=cfg.momentum,
        beta_1=cfg.beta_1,
        beta_2=cfg.beta_2,
        epsilon=cfg.epsilon,
    )


def save_replicas(model, path: str | Path) -> None:
    """A `ReplicaMLP` as an .npz archive, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        model.save(fh)


def load_replicas(path: str | Path) -> ReplicaMLP:
    """`ReplicaMLP.load`; a missing or damaged file is one clear UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found (it is written by an earlier stage)")
    try:
        return ReplicaMLP.load(path)
    except ValueError as err:
        raise UserError(f"{err}{restore_hint(path)}") from err
