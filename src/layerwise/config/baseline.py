"""The baseline study's section of the configuration, and its bound from the machine."""

from __future__ import annotations

from dataclasses import dataclass

from layerwise.pipeline.budget import check_replicas
from layerwise.pipeline.schema import (
    number_field,
)


@dataclass
class BaselineConfig:
    repeats: int = number_field(30, low=1)
    epochs: int = number_field(100, low=1)
    batch_size: int = number_field(32, low=1)


def check_baseline(cfg, shapes) -> None:
    """The replicas trained side by side fit in memory."""
    n = cfg.baseline.repeats
    check_replicas("baseline.repeats", n, n, shapes.get(cfg.data.name), cfg.model.hidden_units)
