"""The study-agnostic training engine: R independent replicas of one MLP trained together
in one compiled TensorFlow program. It knows nothing of params, stages or studies; it
raises ValueError/TypeError for bad arguments."""

from layerwise.engine.model import (
    Dense,
    Head,
    History,
    Optimizer,
    ReplicaMLP,
    cosine_annealing,
    cycle_ends,
    side_by_side,
)

__all__ = [
    "Dense",
    "Head",
    "History",
    "Optimizer",
    "ReplicaMLP",
    "cosine_annealing",
    "cycle_ends",
    "side_by_side",
]
