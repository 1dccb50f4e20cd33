"""Optimizers, one class each: its constants, its typed state and its update step together.

An optimizer is a frozen (hashable) dataclass. Its constants (momentum, betas, epsilon)
are compiled into the training program, which is cached by them; the learning rate is
not: it is fed to the program per epoch (so that schedules and learning-rate sweeps
share one program), and `update` receives it as an argument. Every constant is checked
where the optimizer is made, against the range its update is defined on (a ValueError
naming the constant and what is allowed).

The state is a NamedTuple per optimizer (`SGDState`, `AdamState`), as optax keeps it:
the count of updates made and the slots, whole replica-stacked tensors. `init` makes it
and `update` returns the next one; the compiled program carries it from step to step.

The update rules follow Keras 3's `SGD` and `Adam` operation for operation, so that a
replica reaches the weights Keras reaches. To add an optimizer, subclass `Optimizer`
with its `name`, constants (checked in `__post_init__`), state type, `init` and
`update`, and list it in `_OPTIMIZERS`.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import ClassVar, NamedTuple

import tensorflow as tf


def _number(owner: str, name: str, value, *, high: float | None = None, below: bool = False):
    """`value` as a Python float, checked: finite, >= 0 and (with `high`) <= high, or
    < high with `below`. A ValueError (TypeError for a non-number) names the constant."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} = {value!r} is not a number")
    value = float(value)
    if high is None:
        allowed = "a finite number >= 0"
    else:
        allowed = f"a number >= 0 and {'<' if below else '<='} {high:g}"
    out_of_range = high is not None and (value > high or (below and value == high))
    if not math.isfinite(value) or value < 0 or out_of_range:
        raise ValueError(f"{owner}: {name} = {value!r} is out of range (allowed: {allowed})")
    return value


@dataclass(frozen=True)
class Optimizer(ABC):
    """The common type of the optimizers: a learning rate and an update rule.

    `init` gives the fresh state for a list of trainable tensors and `update` applies one
    step to them; both work on whole replica-stacked tensors (kernels [R, in, out],
    biases [R, out]), and replicas never mix. learning_rate None is the optimizer's
    constants alone (`constants`), the compiled program's cache key.
    """

    learning_rate: float | None = 0.01
    name: ClassVar[str]

    def __post_init__(self):
        if self.learning_rate is not None:
            lr = _number(self.name, "learning_rate", self.learning_rate)
            object.__setattr__(self, "learning_rate", lr)

    @classmethod
    def constant_names(cls) -> tuple[str, ...]:
        """The constants this optimizer takes besides the learning rate."""
        return tuple(f.name for f in fields(cls) if f.name != "learning_rate")

    @abstractmethod
    def init(self, params: Sequence[tf.Tensor]) -> tuple:
        """The fresh state for the trainable tensors `params`: no update made yet."""

    @abstractmethod
    def update(self, lr, params, grads, state) -> tuple[list, tuple]:
        """One update of the trainable tensors; returns (new params, new state).

        lr: the learning rate (a float32 scalar tensor, fed at run time); params, grads:
        lists of the same shapes; state: as made by `init` (or returned by the previous
        update).
        """

    def constants(self) -> Optimizer:
        """This optimizer with its learning rate blanked (None): what a compiled program
        depends on, and so its cache key."""
        return replace(self, learning_rate=None)


class SGDState(NamedTuple):
    """count: the int64 number of updates made; velocity: one tensor per trainable
    tensor with momentum, none without."""

    count: tf.Tensor
    velocity: tuple


@dataclass(frozen=True)
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as Keras 3's `SGD`:
    without momentum p <- p - lr * g; with it m <- momentum * m - lr * g, p <- p + m.
    momentum: from 0 to 1 (Keras' range)."""

    momentum: float = 0.0
    name: ClassVar[str] = "sgd"

    def __post_init__(self):
        super().__post_init__()
        # compiled in as a Python float, whatever number type was given
        object.__setattr__(self, "momentum", _number(self.name, "momentum", self.momentum, high=1))

    def init(self, params: Sequence[tf.Tensor]) -> SGDState:
        """A zero velocity per tensor (none without momentum: plain SGD keeps no slots)."""
        velocity = tuple(tf.zeros_like(p) for p in params) if self.momentum != 0 else ()
        return SGDState(tf.constant(0, tf.int64), velocity)

    def update(self, lr, params, grads, state: SGDState) -> tuple[list, SGDState]:
        """One SGD step; returns (new params, new state)."""
        momentum = self.momentum
        if momentum == 0.0:
            new_params = [p - g * lr for p, g in zip(params, grads, strict=True)]
            return new_params, SGDState(state.count + 1, ())
        new_params, velocity = [], []
        for p, g, m in zip(params, grads, state.velocity, strict=True):
            m = m * momentum - g * lr
            new_params.append(p + m)
            velocity.append(m)
        return new_params, SGDState(state.count + 1, tuple(velocity))


class AdamState(NamedTuple):
    """count: the int64 number of updates made; mu, nu: the first and second moments,
    one tensor per trainable tensor."""

    count: tf.Tensor
    mu: tuple
    nu: tuple


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam, as Keras 3's `Adam` (bias correction folded into the step size):
    m <- m + (g - m)(1 - beta_1), v <- v + (g^2 - v)(1 - beta_2),
    p <- p - m * lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) / (sqrt(v) + epsilon).
    beta_1, beta_2: from 0 up to, not including, 1 (at 1 the correction divides by
    zero or the step vanishes); epsilon >= 0."""

    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    name: ClassVar[str] = "adam"

    def __post_init__(self):
        super().__post_init__()
        # compiled in as Python floats, whatever number type was given
        for beta in ("beta_1", "beta_2"):
            value = _number(self.name, beta, getattr(self, beta), high=1, below=True)
            object.__setattr__(self, beta, value)
        object.__setattr__(self, "epsilon", _number(self.name, "epsilon", self.epsilon))

    def init(self, params: Sequence[tf.Tensor]) -> AdamState:
        """Zero first and second moments of every tensor."""
        zeros = tuple(tf.zeros_like(p) for p in params)
        return AdamState(tf.constant(0, tf.int64), zeros, zeros)

    def update(self, lr, params, grads, state: AdamState) -> tuple[list, AdamState]:
        """One Adam step, update number count + 1; returns (new params, new state)."""
        beta_1, beta_2, eps = self.beta_1, self.beta_2, self.epsilon
        local_step = tf.cast(state.count + 1, tf.float32)
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, local_step)) / (1 - tf.pow(beta_1, local_step))
        new_params, mu, nu = [], [], []
        for p, g, m, v in zip(params, grads, state.mu, state.nu, strict=True):
            m = m + (g - m) * (1 - beta_1)
            v = v + (tf.square(g) - v) * (1 - beta_2)
            new_params.append(p - (m * alpha) / (tf.sqrt(v) + eps))
            mu.append(m)
            nu.append(v)
        return new_params, AdamState(state.count + 1, tuple(mu), tuple(nu))


_OPTIMIZERS = {cls.name: cls for cls in (SGD, Adam)}
OPTIMIZERS = tuple(_OPTIMIZERS)


def _optimizer_class(name: str) -> type[Optimizer]:
    if name not in _OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} is unknown (allowed: {', '.join(OPTIMIZERS)})")
    return _OPTIMIZERS[name]


def optimizer_constants(name: str) -> tuple[str, ...]:
    """The constants the optimizer called `name` takes besides the learning rate
    (sgd: momentum; adam: beta_1, beta_2, epsilon)."""
    return _optimizer_class(name).constant_names()


def optimizer(name: str, learning_rate: float, **constants: float) -> Optimizer:
    """The optimizer called `name` (one of OPTIMIZERS) with its learning rate and the
    constants given (`optimizer_constants(name)`; one not given takes Keras 3's default).

    A constant the optimizer does not have is refused, as Keras refuses an argument it
    does not know: ValueError naming it and the optimizer's own."""
    cls = _optimizer_class(name)
    own = cls.constant_names()
    for constant in constants:
        if constant not in own:
            raise ValueError(
                f"optimizer {name!r} takes no constant {constant!r} "
                f"(allowed: learning_rate, {', '.join(own)})"
            )
    return cls(learning_rate, **constants)
