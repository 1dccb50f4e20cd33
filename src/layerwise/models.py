"""Builders that turn configuration into the core's layer lists and optimizers."""

from __future__ import annotations

from layerwise.config import ModelConfig, OptimizerConfig
from layerwise.core import Dense, Optimizer


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
