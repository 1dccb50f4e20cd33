"""Learning-rate schedules, per epoch, for `ReplicaMLP.fit(lr_schedule=...)`."""

from __future__ import annotations

import math
from collections.abc import Callable


def cosine_annealing(epochs: int, cycles: int, lr_max: float) -> Callable[[int], float]:
    """Cosine annealing with warm restarts: a function epoch (0-based) -> learning rate.

    lr(e) = lr_max / 2 * (cos(pi * (e mod P) / P) + 1) with P = floor(epochs / cycles):
    each cycle starts at lr_max and falls towards 0; `cycle_ends` gives the epochs
    where a snapshot is taken.
    """
    if cycles < 1:
        raise ValueError(f"cycles = {cycles} (allowed: >= 1)")
    if epochs < cycles:
        raise ValueError(f"epochs = {epochs} is fewer than cycles = {cycles}")
    period = epochs // cycles

    def schedule(epoch: int) -> float:
        return lr_max / 2 * (math.cos(math.pi * (epoch % period) / period) + 1)

    return schedule


def cycle_ends(epochs: int, cycles: int) -> list[int]:
    """The last epoch (0-based) of each full cycle of `cosine_annealing`: `cycles` ints."""
    period = epochs // cycles
    return [(k + 1) * period - 1 for k in range(cycles)]
