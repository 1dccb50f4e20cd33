"""Layer specs and their weights: `Dense` (one fully connected layer, with one activation
for every replica or one per replica), `Head` (an output layer taken off a model), fresh
initial weights, and the per-layer trainable flags.

Weights are laid out per layer as a kernel [R, in, out] and a bias [R, out], R being the
number of replicas; a model's weights are the flat list [W0, b0, W1, b1, ...].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear", "softmax")
INITIALIZERS = ("he_uniform", "glorot_uniform")


def per_replica(activation: str | tuple[str, ...]) -> tuple[str, ...]:
    """An activation spec as a tuple of names: (name,) for a shared one, else one per replica."""
    return (activation,) if isinstance(activation, str) else tuple(activation)


def one_or_many(names) -> str | tuple[str, ...]:
    """One name when every replica has it, else the tuple of names."""
    names = tuple(names)
    return names[0] if len(set(names)) == 1 else names


@dataclass(frozen=True)
class Dense:
    """One fully connected layer: `units` outputs, an activation and a kernel initialiser.

    `activation` may also be a tuple with one name per replica, so that arms differing
    only in their activation train in one program (see `ReplicaMLP.concat`).
    """

    units: int
    activation: str | tuple[str, ...] = "relu"
    initializer: str = "glorot_uniform"

    def __post_init__(self):
        if self.units < 1:
            raise ValueError(f"Dense.units must be >= 1, got {self.units}")
        for name in per_replica(self.activation):
            if name not in ACTIVATIONS:
                raise ValueError(f"activation {name!r} not in {ACTIVATIONS}")
        if self.initializer not in INITIALIZERS:
            raise ValueError(f"initializer {self.initializer!r} not in {INITIALIZERS}")

    def activation_of(self, replica: int) -> str:
        """The activation name of one replica."""
        if isinstance(self.activation, str):
            return self.activation
        return self.activation[replica]

    def for_replicas(self, replicas) -> Dense:
        """This layer's spec for the chosen replicas (indices, in that order)."""
        if isinstance(self.activation, str):
            return self
        return replace(self, activation=one_or_many([self.activation[r] for r in replicas]))


@dataclass
class Head:
    """An output layer taken off a model: its spec and every replica's weights."""

    layer: Dense
    kernel: np.ndarray  # [R, in, out]
    bias: np.ndarray  # [R, out]


def initial_weights(
    input_dim: int, layers: Sequence[Dense], n_replicas: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Fresh float32 weights [W0, b0, W1, b1, ...] for `layers` fed `input_dim` features.

    Kernel i has shape [n_replicas, fan_in, units], drawn uniformly per replica with the
    layer's initialiser (he_uniform or glorot_uniform limits, as Keras); biases
    [n_replicas, units] are zero. Draws from `rng` layer by layer, in order.
    """
    params = []
    fan_in = input_dim
    for layer in layers:
        if layer.initializer == "he_uniform":
            limit = math.sqrt(6.0 / fan_in)
        else:  # glorot_uniform
            limit = math.sqrt(6.0 / (fan_in + layer.units))
        kernel = rng.uniform(-limit, limit, size=(n_replicas, fan_in, layer.units))
        params += [kernel.astype(np.float32), np.zeros((n_replicas, layer.units), np.float32)]
        fan_in = layer.units
    return params


# -- trainable flags ---------------------------------------------------------------------
# A model keeps one flag per layer: a bool for every replica, or a boolean array [R] when
# replicas freeze that layer differently (several experiment arms in one model).


def layer_flags(trainable: Sequence) -> list[bool]:
    """Per layer, whether any replica trains it."""
    return [bool(np.any(t)) for t in trainable]


def replica_flags(trainable: Sequence, n_replicas: int) -> np.ndarray:
    """The flags spelled out per replica: a boolean array [R, layers]."""
    R = n_replicas
    return np.stack([np.broadcast_to(np.asarray(t, bool), (R,)) for t in trainable], 1)


def frozen_prefix(trainable: Sequence) -> int:
    """How many leading layers no replica trains (their output is fixed during a fit)."""
    flags = layer_flags(trainable)
    return flags.index(True) if True in flags else len(flags)


def simplify_flags(flags) -> list:
    """Flags with a per-replica array collapsed to a bool where all replicas agree."""
    out = []
    for t in flags:
        t = np.asarray(t, bool)
        out.append(bool(t.all()) if t.all() or not t.any() else t.copy())
    return out
