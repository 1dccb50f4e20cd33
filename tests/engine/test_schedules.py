"""Learning-rate schedules: cosine annealing with warm restarts and its cycle ends."""

from __future__ import annotations

import math

import pytest

from layerwise.engine import cosine_annealing, cycle_ends


def test_cosine_annealing_schedule():
    schedule = cosine_annealing(epochs=500, cycles=10, lr_max=0.01)
    assert schedule(0) == pytest.approx(0.01)
    assert schedule(25) == pytest.approx(0.005)
    assert schedule(50) == pytest.approx(0.01)  # warm restart
    assert schedule(49) == pytest.approx(0.005 * (math.cos(math.pi * 49 / 50) + 1))
    assert cycle_ends(500, 10) == [49, 99, 149, 199, 249, 299, 349, 399, 449, 499]
    with pytest.raises(ValueError, match="cycles = 0"):
        cosine_annealing(epochs=500, cycles=0, lr_max=0.01)
