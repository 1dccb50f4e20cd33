"""Between the configuration and the engine: configured layers and optimizers as engine
objects, and replica models as files (atomic writes, one-line errors)."""

from __future__ import annotations

from pathlib import Path

from layerwise.engine import Dense, Optimizer, ReplicaMLP
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import atomic_path
from layerwise.pipeline.schema import ModelConfig, OptimizerConfig


def classifier_layers(model: ModelConfig, n_classes: int) -> list[Dense]:
    """Hidden layers as configured, then a softmax output with Keras' default initialiser."""
    hidden = [Dense(u, model.activation, model.initializer) for u in model.hidden_units]
    return hidden + [Dense(n_classes, "softmax", "glorot_uniform")]


def make_optimizer(cfg: OptimizerConfig) -> Optimizer:
    return Optimizer(
        name=cfg.name,
        learning_rate=cfg.learning_rate,
        momentum=cfg.momentum if cfg.name == "sgd" else 0.0,
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
        raise UserError(str(err)) from err
