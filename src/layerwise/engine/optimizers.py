"""Optimizers, one class each: its constants, its slot set-up and its update step together.

An optimizer is a frozen (hashable) dataclass. Its constants (momentum, betas, epsilon)
are compiled into the training program, which is cached by them; the learning rate is
not: it is fed to the program per epoch (so that schedules and learning-rate sweeps
share one program), and `update` receives it as an argument.

The update rules follow Keras 3's `SGD` and `Adam` operation for operation, so that a
replica reaches the weights Keras reaches. To add an optimizer, subclass `Optimizer`
with its `name`, constants, `slots` and `update`, and list it in `_OPTIMIZERS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import ClassVar

import tensorflow as tf


@dataclass(frozen=True)
class Optimizer(ABC):
    """The common type of the optimizers: a learning rate and an update rule.

    `slots` gives the fresh optimizer state for a list of trainable tensors and `update`
    applies one step to them; both work on whole replica-stacked tensors (kernels
    [R, in, out], biases [R, out]), and replicas never mix.
    """

    learning_rate: float | None = 0.01
    name: ClassVar[str]

    @abstractmethod
    def slots(self, params: Sequence[tf.Tensor]) -> list[tf.Tensor]:
        """Fresh state for the trainable tensors `params`: a flat list of tensors."""

    @abstractmethod
    def update(self, lr, step, params, grads, slots) -> tuple[list, list]:
        """One update of the trainable tensors; returns (new params, new slots).

        lr: the learning rate (a float32 scalar tensor, fed at run time); step: the int64
        count of updates made so far; params, grads: lists of the same shapes; slots: as
        made by `slots` (and returned by the previous update).
        """

    def constants(self) -> Optimizer:
        """This optimizer with its learning rate blanked (None): what a compiled program
        depends on, and so its cache key."""
        return replace(self, learning_rate=None)


@dataclass(frozen=True)
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as Keras 3's `SGD`:
    without momentum p <- p - lr * g; with it m <- momentum * m - lr * g, p <- p + m."""

    momentum: float = 0.0
    name: ClassVar[str] = "sgd"

    def __post_init__(self):
        # compiled in as a Python float, whatever number type was given
        object.__setattr__(self, "momentum", float(self.momentum))

    def slots(self, params: Sequence[tf.Tensor]) -> list[tf.Tensor]:
        """One velocity per tensor (zeros of its shape); without momentum SGD keeps no
        state, and float32 scalars hold the places."""
        if self.momentum != 0:
            return [tf.zeros_like(p) for p in params]
        return [tf.zeros((), tf.float32) for _ in params]

    def update(self, lr, step, params, grads, slots) -> tuple[list, list]:
        """One SGD step (`step` is unused); returns (new params, new velocities)."""
        momentum = self.momentum
        new_params, new_slots = [], []
        for p, g, m in zip(params, grads, slots):
            if momentum != 0.0:
                m = m * momentum - g * lr
                p = p + m
            else:
                p = p - g * lr
            new_params.append(p)
            new_slots.append(m)
        return new_params, new_slots


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam, as Keras 3's `Adam` (bias correction folded into the step size):
    m <- m + (g - m)(1 - beta_1), v <- v + (g^2 - v)(1 - beta_2),
    p <- p - m * lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) / (sqrt(v) + epsilon)."""

    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    name: ClassVar[str] = "adam"

    def __post_init__(self):
        # compiled in as Python floats, whatever number type was given
        for constant in ("beta_1", "beta_2", "epsilon"):
            object.__setattr__(self, constant, float(getattr(self, constant)))

    def slots(self, params: Sequence[tf.Tensor]) -> list[tf.Tensor]:
        """First moments of every tensor, then second moments: 2 * len(params) zeros."""
        return [tf.zeros_like(p) for p in params] * 2

    def update(self, lr, step, params, grads, slots) -> tuple[list, list]:
        """One Adam step at update number `step` + 1; returns (new params, new moments)."""
        beta_1, beta_2, eps = self.beta_1, self.beta_2, self.epsilon
        local_step = tf.cast(step + 1, tf.float32)
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, local_step)) / (1 - tf.pow(beta_1, local_step))
        half = len(slots) // 2
        new_params, new_slots = [], []
        for p, g, m, v in zip(params, grads, slots[:half], slots[half:]):
            m = m + (g - m) * (1 - beta_1)
            v = v + (tf.square(g) - v) * (1 - beta_2)
            new_params.append(p - (m * alpha) / (tf.sqrt(v) + eps))
            new_slots.append((m, v))
        return new_params, [m for m, _ in new_slots] + [v for _, v in new_slots]


_OPTIMIZERS = {cls.name: cls for cls in (SGD, Adam)}
OPTIMIZERS = tuple(_OPTIMIZERS)


def optimizer(
    name: str = "sgd",
    learning_rate: float = 0.01,
    momentum: float | None = None,
    beta_1: float | None = None,
    beta_2: float | None = None,
    epsilon: float | None = None,
) -> Optimizer:
    """The optimizer called `name` (one of OPTIMIZERS), as a configuration spells it.

    Each optimizer takes the constants it has (SGD: momentum; Adam: beta_1, beta_2,
    epsilon) and ignores the others; a constant left at None takes the class's default
    (Keras 3's).
    """
    if name not in _OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} not in {OPTIMIZERS}")
    cls = _OPTIMIZERS[name]
    given = {"momentum": momentum, "beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon}
    own = {f.name for f in fields(cls)}
    constants = {k: v for k, v in given.items() if k in own and v is not None}
    return cls(learning_rate=learning_rate, **constants)
