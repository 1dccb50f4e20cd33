"""Configured optimizers: one helper turns any config section into the engine's optimizer."""

import pytest

from layerwise.engine import SGD, Adam
from layerwise.pipeline.models import make_optimizer

from ..helpers.config import compose_config


def test_the_optimizer_group_gives_the_named_optimizer_its_own_constants():
    """The group carries every key whichever optimizer it names; each optimizer takes
    its own (sgd: momentum; adam: the betas and epsilon)."""
    sgd = compose_config("optimizer=sgd", "optimizer.beta_1=0.5")
    assert make_optimizer(sgd.optimizer) == SGD(0.01, 0.9)
    adam = compose_config("optimizer=adam", "optimizer.momentum=0.3", "optimizer.beta_2=0.99")
    assert make_optimizer(adam.optimizer) == Adam(0.001, beta_2=0.99)
    assert make_optimizer(sgd.optimizer, learning_rate=0.002) == SGD(0.002, 0.9)


def test_every_section_that_trains_maps_through_the_same_helper():
    cfg = compose_config()
    members = cfg.ensembles.model_averaging  # adam, momentum 0 (sgd only): Keras' defaults
    assert make_optimizer(members, name=members.optimizer) == Adam(members.learning_rate)
    snapshot = cfg.ensembles.snapshot
    assert make_optimizer(snapshot, name="sgd", learning_rate=0.5) == SGD(0.5, snapshot.momentum)
    t = cfg.transfer
    assert make_optimizer(t.source, name="sgd") == SGD(t.source.learning_rate, t.source.momentum)


def test_an_unknown_name_is_refused_by_the_engine():
    with pytest.raises(ValueError, match="optimizer 'rmsprop' is unknown"):
        make_optimizer(compose_config().optimizer, name="rmsprop")
