"""Growing, freezing and head swaps on replicas (what the greedy studies build on):
`insert_hidden`, `with_head`, `output_head`, `gradient_norms`, fits on few rows."""

from __future__ import annotations

import numpy as np
import pytest

from layerwise.engine import SGD, Dense, Head, ReplicaMLP

pytestmark = pytest.mark.train  # trains networks: `make test` runs it, `make check` does not

MOMENTUM_SGD = SGD(0.01, 0.9)


@pytest.fixture(scope="module")
def blobs_xy():
    from layerwise.pipeline.data import blobs

    x, y = blobs(200, 2)
    return x.astype(np.float32), np.eye(3, dtype=np.float32)[y]


def _base(n_replicas=3, seed=0):
    layers = [Dense(10, "relu", "he_uniform"), Dense(3, "softmax")]
    return ReplicaMLP.create(2, layers, n_replicas, seed)


def test_insert_hidden_keeps_every_trained_weight(blobs_xy):
    x, y = blobs_xy
    model = _base()
    model.fit(x, y, epochs=2, optimizer=MOMENTUM_SGD)
    deeper = model.insert_hidden(seed=5)
    assert [layer.units for layer in deeper.layers] == [10, 10, 3]
    assert deeper.trainable == [False, True, True]
    for old, new in ((0, 0), (1, 2)):  # the first hidden layer and the kept output layer
        for a, b in zip(model.layer_weights(old), deeper.layer_weights(new), strict=True):
            np.testing.assert_array_equal(a, b)
    kernel, bias = deeper.layer_weights(1)
    assert kernel.shape == (3, 10, 10) and not np.any(bias)


def test_new_layer_must_match_the_kept_output_width():
    with pytest.raises(ValueError, match="must have 10 units"):
        _base().insert_hidden(Dense(7, "relu", "he_uniform"))


def test_frozen_layers_are_bit_identical_after_a_fit(blobs_xy):
    x, y = blobs_xy
    model = _base()
    model.fit(x, y, epochs=2, optimizer=MOMENTUM_SGD)
    deeper = model.insert_hidden(seed=1).insert_hidden(seed=2)
    assert deeper.trainable == [False, False, True, True]
    before = deeper.get_weights()
    deeper.fit(x, y, epochs=3, optimizer=MOMENTUM_SGD, seed=4)
    after = deeper.get_weights()
    for i in range(4):  # kernels and biases of the two frozen hidden layers
        np.testing.assert_array_equal(before[i], after[i])
    for i in range(4, 8):  # the new hidden layer and the output layer learned
        assert not np.array_equal(before[i], after[i])


def test_output_layer_carries_its_weights_into_the_deeper_network(blobs_xy):
    """The kept output layer starts the next round from where the last one ended."""
    x, y = blobs_xy
    model = _base(n_replicas=2)
    model.fit(x, y, epochs=2, optimizer=MOMENTUM_SGD)
    deeper = model.insert_hidden(seed=3)
    # with the new layer set to the identity (relu of non-negative inputs passes them
    # through), the deeper network computes exactly what the shallow one did
    deeper.set_layer_weights(1, np.eye(10, dtype=np.float32), np.zeros(10, np.float32))
    np.testing.assert_allclose(deeper.predict(x), model.predict(x), rtol=1e-6, atol=1e-7)


def test_replicas_are_independent(blobs_xy):
    """Growing and training 3 replicas together = training each one alone."""
    x, y = blobs_xy
    together = _base(n_replicas=3)
    together.fit(x, y, epochs=1, optimizer=MOMENTUM_SGD, seed=0)
    grown = together.insert_hidden(seed=9)
    rng = np.random.default_rng(1)
    orders = [
        rng.permuted(np.broadcast_to(np.arange(len(x)), (3, len(x))), axis=1) for _ in range(2)
    ]
    grown_copy = grown.select([1])
    grown.fit(x, y, epochs=2, optimizer=MOMENTUM_SGD, batch_orders=orders)
    grown_copy.fit(x, y, epochs=2, optimizer=MOMENTUM_SGD, batch_orders=[o[1:2] for o in orders])
    for a, b in zip(grown.get_weights(), grown_copy.get_weights(), strict=True):
        np.testing.assert_allclose(a[1], b[0], rtol=1e-5, atol=1e-6)
    # each replica's new layer was drawn on its own
    kernel, _ = grown.layer_weights(1)
    assert not np.array_equal(kernel[0], kernel[1])


def test_head_swap_and_restore(blobs_xy):
    x, _ = blobs_xy
    autoencoder = ReplicaMLP.create(
        2, [Dense(10, "relu", "he_uniform"), Dense(2, "linear")], 2, seed=0
    )
    autoencoder.fit(x, x, epochs=2, optimizer=MOMENTUM_SGD, loss="mse")
    reconstruction = autoencoder.output_head()
    assert isinstance(reconstruction, Head) and reconstruction.layer.units == 2
    classifier = autoencoder.with_head(Dense(3, "softmax"), seed=1)
    assert [layer.units for layer in classifier.layers] == [10, 3]
    assert classifier.trainable == [False, True]
    encoder_before = classifier.layer_weights(0)
    classifier.fit(
        x, np.eye(3, dtype=np.float32)[np.arange(len(x)) % 3], epochs=2, optimizer=MOMENTUM_SGD
    )
    for a, b in zip(encoder_before, classifier.layer_weights(0), strict=True):
        np.testing.assert_array_equal(a, b)
    restored = classifier.with_head(reconstruction)
    np.testing.assert_array_equal(restored.predict(x), autoencoder.predict(x))
    restored.unfreeze()
    assert restored.trainable == [True, True]


def test_gradient_norms_shape_and_vanishing_sigmoid(blobs_xy):
    x, y = blobs_xy
    norms = {}
    for activation, init in (("relu", "he_uniform"), ("sigmoid", "glorot_uniform")):
        layers = [Dense(10, activation, init)] * 8 + [Dense(3, "softmax")]
        model = ReplicaMLP.create(2, layers, 4, seed=0)
        norms[activation] = model.gradient_norms(x, y)
        assert norms[activation].shape == (4, 9)
    # sigmoid's gradient shrinks towards the first layer far more than relu's
    ratio = {k: np.median(v[:, 0] / v[:, -2]) for k, v in norms.items()}
    assert ratio["sigmoid"] < ratio["relu"]


def test_fit_on_fewer_rows_than_one_batch(blobs_xy):
    """Few-labels fits train on 10 rows with batch size 32: one short batch per epoch."""
    x, y = blobs_xy
    model = _base(n_replicas=2)
    rows = np.stack([np.arange(10), np.arange(10, 20)])
    before = model.get_weights()
    history = model.fit(x, y, epochs=2, optimizer=MOMENTUM_SGD, train_index=rows)
    assert history.curves["loss"].shape == (2, 2)
    assert not np.array_equal(before[0], model.get_weights()[0])
