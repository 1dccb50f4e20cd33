"""The baseline study's section of the configuration."""

from __future__ import annotations

from dataclasses import dataclass

from layerwise.pipeline.schema import (
    number_field,
)


@dataclass
class BaselineConfig:
    n_replicas: int = number_field(30, low=1)
    epochs: int = number_field(100, low=1)
    batch_size: int = number_field(32, low=1)
