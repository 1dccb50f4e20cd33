"""Weights between models (what the transfer study builds on): copying from a model or a
Keras file, re-initialising, freezing per replica, stacking arms with `concat`."""

from __future__ import annotations

import numpy as np
import pytest

from layerwise.engine import SGD, Adam, Dense, ReplicaMLP
from layerwise.pipeline.io import load_keras, save_keras

pytestmark = pytest.mark.train  # trains networks: `make test` runs it, `make check` does not

LAYERS = [Dense(5, "relu", "he_uniform"), Dense(5, "relu", "he_uniform"), Dense(3, "softmax")]


PLAIN_SGD = SGD(learning_rate=0.05)


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    return x, y


@pytest.fixture(scope="module")
def source():
    """A one-replica source model, briefly trained so its weights are not an initialisation."""
    model = ReplicaMLP.create(2, LAYERS, 1, seed=11)
    model.fit(*_data(), epochs=2, optimizer=PLAIN_SGD, seed=3)
    return model


def test_copied_layers_equal_the_source_in_every_replica(source):
    target = ReplicaMLP.create(2, LAYERS, 4, seed=5)
    target.copy_weights_from(source, layers=[0, 1])
    for i in (0, 1):
        for mine, theirs in zip(target.layer_weights(i), source.layer_weights(i), strict=True):
            np.testing.assert_array_equal(mine, np.broadcast_to(theirs, mine.shape))
    # the layer not named keeps its own initialisation
    assert not np.allclose(target.layer_weights(2)[0], source.layer_weights(2)[0])


def test_copy_from_a_keras_file_and_per_replica_sources(source, tmp_path):
    path = tmp_path / "source.keras"
    save_keras(source.to_keras(0), path)
    target = ReplicaMLP.create(2, LAYERS, 3, seed=5)
    target.copy_weights_from(load_keras(path))
    for a, b in zip(target.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, np.broadcast_to(b, a.shape))
    # R sources -> R targets: replica r from replica r
    many = ReplicaMLP.create(2, LAYERS, 3, seed=9)
    target.copy_weights_from(many)
    for a, b in zip(target.get_weights(), many.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_copy_by_mapping_into_a_deeper_model(source):
    deeper = LAYERS[:2] + [Dense(5, "relu", "he_uniform"), LAYERS[2]]
    target = ReplicaMLP.create(2, deeper, 2, seed=1)
    target.copy_weights_from(source, {0: 0, 1: 1, 3: 2})
    np.testing.assert_array_equal(target.layer_weights(3)[0][1], source.layer_weights(2)[0][0])
    with pytest.raises(ValueError, match="name the layers"):
        target.copy_weights_from(source)


def test_reinitialised_layers_differ_from_the_source_and_between_replicas(source):
    target = ReplicaMLP.create(2, LAYERS, 3, seed=5)
    target.copy_weights_from(source)
    target.reinitialize([1, 2], seed=21)
    np.testing.assert_array_equal(target.layer_weights(0)[0][2], source.layer_weights(0)[0][0])
    for i in (1, 2):
        kernel, bias = target.layer_weights(i)
        assert not np.allclose(kernel[0], source.layer_weights(i)[0][0])
        assert not np.allclose(kernel[0], kernel[1])  # fresh draws per replica
        np.testing.assert_array_equal(bias, 0.0)
    limit = np.sqrt(6.0 / 5)  # he_uniform bound for fan_in 5
    assert np.abs(target.layer_weights(1)[0]).max() <= limit


def test_frozen_layers_are_bit_identical_after_fit(source):
    target = ReplicaMLP.create(2, LAYERS, 3, seed=5)
    target.copy_weights_from(source)
    target.trainable = [False, False, True]
    before = target.get_weights()
    target.fit(*_data(), epochs=3, optimizer=SGD(0.05, momentum=0.9), seed=2)
    after = target.get_weights()
    for j in range(4):
        np.testing.assert_array_equal(before[j], after[j])
    assert not np.array_equal(before[4], after[4])


def test_concat_stacks_replicas_in_order(source):
    a = ReplicaMLP.create(2, LAYERS, 2, seed=1)
    b = ReplicaMLP.create(2, LAYERS, 3, seed=2)
    both = ReplicaMLP.concat([a, b])
    assert both.n_replicas == 5
    assert both.trainable == [True, True, True]
    np.testing.assert_array_equal(both.layer_weights(0)[0][2:], b.layer_weights(0)[0])
    with pytest.raises(ValueError, match="architecture"):
        ReplicaMLP.concat([a, ReplicaMLP.create(2, LAYERS[1:], 1, seed=0)])


# Adam: make test-all (its per-replica state is the momentum's, one more slot; the default
# tier holds Adam against Keras in tests/engine/test_replicas.py)
@pytest.mark.parametrize(
    "optimizer", [SGD(0.05, momentum=0.9), pytest.param(Adam(), marks=pytest.mark.slow)]
)
def test_arms_frozen_differently_train_as_if_alone(optimizer):
    """Stacked arms with per-replica trainable flags: frozen replicas stay bit-identical and
    every replica ends where its own arm's fit, with the same batches, takes it."""
    x, y = _data()
    arms = []
    for frozen in (0, 1, 2):
        arm = ReplicaMLP.create(2, LAYERS, 2, seed=frozen)
        arm.trainable = [i >= frozen for i in range(3)]
        arms.append(arm)
    stacked = ReplicaMLP.concat(arms)
    assert isinstance(stacked.trainable[0], np.ndarray) and stacked.trainable[2] is True
    rng = np.random.default_rng(4)
    orders = [np.stack([rng.permutation(len(x)) for _ in range(6)]) for _ in range(3)]
    before = stacked.get_weights()
    stacked.fit(x, y, epochs=3, optimizer=optimizer, batch_orders=orders)
    after = stacked.get_weights()
    flags = stacked.replica_trainable()
    for i in range(3):
        for r in range(6):
            same = np.array_equal(before[2 * i][r], after[2 * i][r])
            assert same == (not flags[r, i]), (i, r)
    for k, arm in enumerate(arms):
        rows = slice(2 * k, 2 * k + 2)
        arm.fit(x, y, epochs=3, optimizer=optimizer, batch_orders=[o[rows] for o in orders])
        for mine, alone in zip(after, arm.get_weights(), strict=True):
            np.testing.assert_allclose(mine[rows], alone, rtol=0, atol=1e-6)


def test_per_replica_flags_survive_select_save_and_export(tmp_path):
    arms = [ReplicaMLP.create(2, LAYERS, 1, seed=s) for s in range(2)]
    arms[1].trainable = [False, True, True]
    stacked = ReplicaMLP.concat(arms)
    assert stacked.select([1]).trainable == [False, True, True]
    stacked.save(tmp_path / "m.npz")
    loaded = ReplicaMLP.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.replica_trainable(), stacked.replica_trainable())
    assert stacked.to_keras(1).layers[0].trainable is False
