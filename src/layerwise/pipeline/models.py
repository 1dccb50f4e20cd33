"""Between the configuration and the engine: configured layers and optimizers as engine
objects, and replica models as files (atomic writes, one-line errors)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from layerwise.engine import Dense, Optimizer, ReplicaMLP, optimizer, optimizer_constants
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import atomic_path, restore_hint
from layerwise.pipeline.schema import ModelConfig


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


def make_optimizer(
    section: object, *, name: str | None = None, learning_rate: float | None = None
) -> Optimizer:
    """The one way a configuration becomes an engine optimizer.

    section: the config section holding the optimizer's settings (the `optimizer` group,
    an ensemble method's members, the transfer study); name: the optimizer (default: the
    section's `name`); learning_rate: default the section's `learning_rate`. Of the
    constants the named optimizer takes (`engine.optimizer_constants`: sgd momentum, adam
    beta_1, beta_2, epsilon) each is read from the section where it has that key, Keras'
    default where it has not; the section's other keys (an `optimizer` group carries them
    all, whichever optimizer it names) are not the named optimizer's and are left out.
    """
    name = section.name if name is None else name
    learning_rate = section.learning_rate if learning_rate is None else learning_rate
    constants = {c: getattr(section, c) for c in optimizer_constants(name) if hasattr(section, c)}
    return optimizer(name, learning_rate, **constants)


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
