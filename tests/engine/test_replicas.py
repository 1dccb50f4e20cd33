"""The training engine: equivalence with Keras, replica independence, export, determinism."""

import keras
import numpy as np
import pytest

from layerwise.engine import SGD, Adam, Dense, Optimizer, ReplicaMLP
from layerwise.engine.parallel import default_threads, replica_groups
from layerwise.engine.program import (
    MIN_PLACES,
    Program,
    epochs_function,
    epochs_per_call,
    padded_length,
)
from layerwise.pipeline.data import blobs

pytestmark = pytest.mark.train  # trains networks: `make test` runs it, `make check` does not

LAYERS = [Dense(10, "relu", "he_uniform"), Dense(8, "tanh"), Dense(3, "softmax")]


@pytest.fixture(scope="module")
def problem():
    x, y = blobs(200, random_state=2)
    return x[:100].astype(np.float32), np.eye(3, dtype=np.float32)[y[:100]]


def keras_optimizer(opt: Optimizer):
    if opt.name == "adam":
        return keras.optimizers.Adam(opt.learning_rate)
    return keras.optimizers.SGD(opt.learning_rate, momentum=opt.momentum)


@pytest.mark.parametrize(
    "opt",
    # plain SGD is momentum 0 of the same update: make test-all
    [SGD(0.01, momentum=0.9), Adam(0.001), pytest.param(SGD(0.05), marks=pytest.mark.slow)],
    ids=["sgd-momentum", "adam", "sgd"],
)
def test_replica_matches_keras_fit(problem, opt):
    """Same initial weights + same minibatches => the weights Keras' own fit reaches."""
    x, y = problem
    R, epochs, batch = 3, 4, 32  # 100 rows: 3 full batches and a last one of 4, as Keras does
    model = ReplicaMLP.create(2, LAYERS, R, seed=3)
    initial = model.get_weights()
    rng = np.random.default_rng(0)
    orders = [rng.permuted(np.tile(np.arange(len(x)), (R, 1)), axis=1) for _ in range(epochs)]
    model.fit(x, y, epochs=epochs, optimizer=opt, batch_orders=orders, batch_size=batch)
    trained = model.get_weights()
    for r in range(R):
        reference = ReplicaMLP(2, LAYERS, initial).to_keras(r)
        reference.compile(optimizer=keras_optimizer(opt), loss="categorical_crossentropy")
        for order in orders:  # one optimizer, one epoch at a time, in the replica's order
            reference.fit(
                x[order[r]], y[order[r]], batch_size=batch, epochs=1, shuffle=False, verbose=0
            )
        for ours, theirs in zip([w[r] for w in trained], reference.get_weights()):
            np.testing.assert_allclose(ours, theirs, atol=1e-5)
        assert not np.allclose(trained[0][r], initial[0][r])  # it did train


def test_frozen_leading_layers_match_keras(problem):
    """A fit with the first layer frozen trains the layers above it on that layer's output,
    computed once; Keras, which recomputes it every step, reaches the same weights."""
    x, y = problem
    opt = SGD(0.01, momentum=0.9)
    model = ReplicaMLP.create(2, LAYERS, 2, seed=6)
    initial = model.get_weights()
    model.freeze([0])
    assert model.frozen_prefix() == 1
    rng = np.random.default_rng(1)
    orders = [rng.permuted(np.tile(np.arange(len(x)), (2, 1)), axis=1) for _ in range(3)]
    index = np.tile(np.arange(len(x)), (2, 1))  # a per-replica sample takes the same path
    model.fit(x, y, epochs=3, optimizer=opt, batch_orders=orders, train_index=index)
    trained = model.get_weights()
    np.testing.assert_array_equal(trained[0], initial[0])
    for r in range(2):
        reference = ReplicaMLP(2, LAYERS, initial).to_keras(r)
        reference.layers[0].trainable = False
        reference.compile(optimizer=keras_optimizer(opt), loss="categorical_crossentropy")
        for order in orders:
            reference.fit(
                x[order[r]], y[order[r]], batch_size=32, epochs=1, shuffle=False, verbose=0
            )
        for ours, theirs in zip([w[r] for w in trained], reference.get_weights()):
            np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_mse_loss_matches_keras(problem):
    x, _ = problem
    layers = [Dense(6, "relu", "he_uniform"), Dense(2, "linear")]
    model = ReplicaMLP.create(2, layers, 2, seed=1)
    initial = model.get_weights()
    order = [np.tile(np.arange(len(x)), (2, 1))]
    model.fit(x, x, epochs=1, optimizer=SGD(0.01, 0.9), loss="mse", batch_orders=order)
    reference = ReplicaMLP(2, layers, initial).to_keras(1)
    reference.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="mse")
    reference.fit(x, x, batch_size=32, epochs=1, shuffle=False, verbose=0)
    for ours, theirs in zip([w[1] for w in model.get_weights()], reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_replicas_do_not_influence_each_other(problem):
    """Changing replica 1's training sample leaves replicas 0 and 2 bit-identical."""
    x, y = problem
    base_index = np.tile(np.arange(50), (3, 1))
    changed = base_index.copy()
    changed[1] = np.arange(50, 100)
    results = []
    for index in (base_index, changed):
        model = ReplicaMLP.create(2, LAYERS, 3, seed=5)
        model.fit(x, y, epochs=3, optimizer=Adam(0.01), train_index=index, seed=9)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a[[0, 2]], b[[0, 2]])
        assert not np.array_equal(a[1], b[1])


def test_each_replica_has_its_own_initialisation_and_order(problem):
    x, y = problem
    model = ReplicaMLP.create(2, LAYERS, 2, seed=0)
    w0 = model.get_weights()[0]
    assert not np.array_equal(w0[0], w0[1])
    same_start = ReplicaMLP(2, LAYERS, [np.repeat(w[:1], 2, axis=0) for w in model.get_weights()])
    same_start.fit(x, y, epochs=1, optimizer=SGD(0.05), seed=1)
    w = same_start.get_weights()[0]
    assert not np.array_equal(w[0], w[1])  # same start, different minibatch order


def test_training_is_deterministic(problem):
    x, y = problem
    runs = []
    for _ in range(2):
        model = ReplicaMLP.create(2, LAYERS, 4, seed=11)
        h = model.fit(x, y, epochs=3, optimizer=SGD(0.01, 0.9), seed=2, validation=(x, y))
        runs.append((model.get_weights(), h.curves))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    for key in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][key], runs[1][1][key])


@pytest.mark.parametrize(
    "opt, first_layer",
    [
        (SGD(0.01, 0.9), np.array([True, False] * 3)),  # per-replica flags
        # frozen for all: trained on its output. make test-all; the default tier holds Adam
        # against Keras and the frozen prefix against Keras (tests above), on one thread
        pytest.param(Adam(0.001), False, marks=pytest.mark.slow),
    ],
)
def test_threads_do_not_change_results(problem, opt, first_layer):
    """Replica groups on threads train bit-identically to one group: same weights, curves,
    kept epochs, and per-replica samples, validation and freezing flags carried along."""
    x, y = problem
    R = 6
    rng = np.random.default_rng(4)
    index = np.stack([rng.choice(len(x), 60) for _ in range(R)])
    val = (np.repeat(x[None, :30], R, axis=0), np.repeat(y[None, :30], R, axis=0))
    runs = []
    for threads in (1, 2, 4):  # two groups of 3; 4 does not divide 6: three groups of 2
        model = ReplicaMLP.create(2, LAYERS, R, seed=5)
        model.trainable[0] = first_layer
        h = model.fit(
            x,
            y,
            epochs=3,
            optimizer=opt,
            seed=7,
            train_index=index,
            validation=val,
            keep_epochs=[1],
            threads=threads,
        )
        runs.append((model.get_weights(), h))
    for weights, h in runs[1:]:
        for a, b in zip(runs[0][0], weights, strict=True):
            np.testing.assert_array_equal(a, b)
        for key, curve in runs[0][1].curves.items():
            np.testing.assert_array_equal(curve, h.curves[key])
        for a, b in zip(runs[0][1].kept[1], h.kept[1], strict=True):
            np.testing.assert_array_equal(a, b)


def test_replica_groups_are_equal_and_cover_every_replica():
    assert replica_groups(30, 2) == [slice(0, 15), slice(15, 30)]
    assert replica_groups(5, 2) == [slice(0, 5)]  # unequal groups would compile twice
    assert replica_groups(6, 4) == [slice(0, 2), slice(2, 4), slice(4, 6)]
    assert replica_groups(2, 8) == [slice(0, 1), slice(1, 2)]


def test_sample_sizes_up_to_min_places_share_one_compiled_program():
    """Samples of 10 to 1000 rows (one short batch to 32 batches) run one program."""
    x, labels = blobs(1000, random_state=2)
    x, y = x.astype(np.float32), np.eye(3, dtype=np.float32)[labels]
    model = ReplicaMLP.create(2, [Dense(7, "relu"), Dense(3, "softmax")], 2, seed=0)
    opt = SGD(0.0123)

    def fit(n):  # without curves: scoring the training sample would trace per size
        index = np.tile(np.arange(n), (2, 1))
        model.fit(x, y, epochs=1, optimizer=opt, train_index=index, curves=False)

    program = Program.build(model.layers, model.trainable, "categorical_crossentropy", opt, 32)
    run_epochs = epochs_function(program)
    # (another test in this process may have traced the same program already)
    before = run_epochs.experimental_get_tracing_count()
    fit(10)
    traces = run_epochs.experimental_get_tracing_count()
    assert traces - before <= 1
    for n in (40, 300, 1000):
        fit(n)
    assert run_epochs.experimental_get_tracing_count() == traces >= 1
    # the learning rate is fed at run time, not compiled in: another rate, same program
    other_rate = Program.build(
        model.layers, model.trainable, "categorical_crossentropy", SGD(0.5), 32
    )
    assert epochs_function(other_rate) is run_epochs
    assert padded_length(1000, 32) == MIN_PLACES and padded_length(1025, 32) == 2048


# without kept epochs: make test-all (the kept case splits the calls at more places)
@pytest.mark.parametrize(
    "keep", [pytest.param((), marks=pytest.mark.slow), (0, 5, 6)], ids=["no-kept", "kept"]
)
def test_epochs_per_call_do_not_change_the_results(problem, monkeypatch, keep):
    """A fit runs several epochs per compiled call (fewer with a progress callback, and
    ending after kept epochs); weights, curves and kept weights are the same bit for bit
    as one epoch per call."""
    x, y = problem
    runs = []
    for per_call, on_epoch in ((1, None), (64, None), (64, lambda e: None), (3, None)):
        monkeypatch.setattr("layerwise.engine.program.EPOCHS_PER_CALL", per_call)
        model = ReplicaMLP.create(2, LAYERS, 3, seed=4)
        h = model.fit(
            x,
            y,
            epochs=7,
            optimizer=Adam(0.01),
            validation=(x[:50], y[:50]),
            keep_epochs=keep,
            on_epoch=on_epoch,
            seed=5,
        )
        runs.append((model.get_weights(), h))
    (weights, history), others = runs[0], runs[1:]
    assert history.curves["val_score"].shape == (7, 3) and sorted(history.kept) == list(keep)
    for other_weights, other in others:
        for a, b in zip(weights, other_weights, strict=True):
            np.testing.assert_array_equal(a, b)
        for name, curve in history.curves.items():
            np.testing.assert_array_equal(curve, other.curves[name])
        for epoch, kept in history.kept.items():
            for a, b in zip(kept, other.kept[epoch], strict=True):
                np.testing.assert_array_equal(a, b)


def test_epochs_per_call_fit_the_order_memory():
    assert epochs_per_call(30, 1024) == 64
    assert epochs_per_call(3, 2000 * 256) == 2  # CIFAR-10 sized: 2 epochs of orders
    assert epochs_per_call(1000, 1 << 20) == 1


def test_scoring_agrees_with_predictions_whatever_the_freezing(problem):
    """evaluate's accuracy is the argmax accuracy of predict, per replica, and freezing
    (which changes the training program) leaves both unchanged."""
    x, y = problem
    model = ReplicaMLP.create(2, LAYERS, 3, seed=0)
    scores = model.evaluate(x, y)
    hits = model.predict(x).argmax(-1) == y.argmax(-1)
    np.testing.assert_allclose(scores["score"], hits.mean(axis=1))
    model.freeze([0, 1])
    frozen = model.evaluate(x, y)
    for key in ("loss", "score"):
        np.testing.assert_array_equal(frozen[key], scores[key])


def test_default_threads_reads_the_environment(monkeypatch):
    monkeypatch.setenv("LAYERWISE_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("LAYERWISE_THREADS", "0")
    with pytest.raises(ValueError, match="LAYERWISE_THREADS"):
        default_threads()
    monkeypatch.delenv("LAYERWISE_THREADS")
    assert default_threads() >= 1


def test_fit_without_curves_trains_the_same_weights(problem):
    x, y = problem
    runs = []
    for curves in (True, False):
        model = ReplicaMLP.create(2, LAYERS, 4, seed=8)
        h = model.fit(x, y, epochs=3, optimizer=SGD(0.01, 0.9), curves=curves)
        runs.append((model.get_weights(), h))
    assert runs[1][1].curves == {} and runs[0][1].curves["loss"].shape == (3, 4)
    for a, b in zip(runs[0][0], runs[1][0], strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="validation"):
        ReplicaMLP.create(2, LAYERS, 2, seed=0).fit(
            x, y, epochs=1, optimizer=SGD(), validation=(x, y), curves=False
        )


def test_history_and_kept_epochs(problem):
    x, y = problem
    model = ReplicaMLP.create(2, LAYERS, 2, seed=0)
    lrs = []
    h = model.fit(
        x,
        y,
        epochs=4,
        optimizer=SGD(0.01),
        validation=(x, y),
        keep_epochs=[1, 3],
        lr_schedule=lambda e: lrs.append(e) or 0.01 / (e + 1),
    )
    assert lrs == [0, 1, 2, 3]
    assert set(h.curves) == {"loss", "score", "val_loss", "val_score"}
    assert h.curves["score"].shape == (4, 2)
    assert sorted(h.kept) == [1, 3]
    for kept, now in zip(h.kept[3], model.get_weights()):
        np.testing.assert_array_equal(kept, now)
    # scored on the same rows, train and validation curves agree
    np.testing.assert_allclose(h.curves["score"], h.curves["val_score"])


def test_frozen_layer_is_not_updated(problem):
    x, y = problem
    model = ReplicaMLP.create(2, LAYERS, 2, seed=0)
    before = model.get_weights()
    model.trainable = [False, True, True]
    model.fit(x, y, epochs=2, optimizer=Adam(0.01))
    after = model.get_weights()
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert not np.array_equal(before[2], after[2])


def test_keras_export_round_trip(tmp_path, problem):
    """A replica saved as .keras and loaded back predicts exactly what the replica predicts."""
    x, y = problem
    model = ReplicaMLP.create(2, LAYERS, 3, seed=4)
    model.fit(x, y, epochs=2, optimizer=SGD(0.01, 0.9))
    path = tmp_path / "replica.keras"
    model.to_keras(2).save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x)[2], atol=1e-6)
    restacked = ReplicaMLP.from_keras([model.to_keras(r) for r in range(3)])
    for a, b in zip(restacked.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_npz_round_trip_and_damaged_file(tmp_path):
    from layerwise.pipeline.errors import UserError
    from layerwise.pipeline.models import load_replicas, save_replicas

    model = ReplicaMLP.create(2, LAYERS, 2, seed=4)
    model.trainable = [False, True, True]
    save_replicas(model, tmp_path / "m.npz")
    loaded = load_replicas(tmp_path / "m.npz")
    assert loaded.layers == model.layers and loaded.trainable == model.trainable
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="bad.npz: not a valid replica file"):
        load_replicas(tmp_path / "bad.npz")
    with pytest.raises(UserError, match="missing.npz: file not found"):
        load_replicas(tmp_path / "missing.npz")
    (tmp_path / "noise.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(UserError, match="noise.npz: not a valid replica file") as refused:
        load_replicas(tmp_path / "noise.npz")
    assert "pickle" not in str(refused.value) and "dvc checkout" in str(refused.value)
    # the engine itself raises plain Python errors; the pipeline words them for users
    with pytest.raises(ValueError, match="bad.npz: not a valid replica file"):
        ReplicaMLP.load(tmp_path / "bad.npz")


def test_predict_accepts_per_replica_inputs(problem):
    x, _ = problem
    model = ReplicaMLP.create(2, LAYERS, 2, seed=4)
    shared = model.predict(x)
    per_replica = model.predict(np.stack([x, x]))
    np.testing.assert_allclose(shared, per_replica, atol=1e-6)
    assert shared.shape == (2, len(x), 3)
    np.testing.assert_allclose(shared.sum(-1), 1.0, atol=1e-5)


def test_fewer_rows_than_the_batch_size_is_one_batch(problem):
    """As in Keras, a sample smaller than batch_size trains as a single batch."""
    x, y = problem
    model = ReplicaMLP.create(2, LAYERS, 2, seed=0)
    initial = model.get_weights()
    order = [np.tile(np.arange(10), (2, 1))]
    model.fit(x[:10], y[:10], epochs=1, optimizer=SGD(0.1), batch_orders=order)
    reference = ReplicaMLP(2, LAYERS, initial).to_keras(0)
    reference.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
    reference.fit(x[:10], y[:10], batch_size=32, epochs=1, shuffle=False, verbose=0)
    for ours, theirs in zip([w[0] for w in model.get_weights()], reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_arms_with_different_activations_train_in_one_program(tmp_path, problem):
    """relu, sigmoid and tanh arms concatenated train to the weights each reaches alone on
    the same minibatches (to float rounding: XLA may fuse sigmoid and tanh with the split
    and concatenation that apply them arm by arm); the per-replica activation survives
    select, export to Keras and the .npz round trip."""
    x, y = problem
    arms = [
        ReplicaMLP.create(2, [Dense(6, name, "he_uniform"), Dense(3, "softmax")], 2, seed=i)
        for i, name in enumerate(("relu", "sigmoid", "tanh"))
    ]
    rng = np.random.default_rng(0)
    orders = [rng.permuted(np.tile(np.arange(len(x)), (6, 1)), axis=1) for _ in range(3)]
    both = ReplicaMLP.concat(arms)
    assert both.layers[0].activation == ("relu",) * 2 + ("sigmoid",) * 2 + ("tanh",) * 2
    both.fit(x, y, epochs=3, optimizer=SGD(0.1, 0.9), batch_orders=orders)
    for i, arm in enumerate(arms):
        rows = slice(2 * i, 2 * i + 2)
        arm.fit(
            x,
            y,
            epochs=3,
            optimizer=SGD(0.1, 0.9),
            batch_orders=[o[rows] for o in orders],
        )
        alone = arm.get_weights()
        for a, b in zip(alone, both.select(np.arange(6)[rows]).get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
        assert both.select(np.arange(6)[rows]).layers == arm.layers
    np.testing.assert_allclose(
        both.to_keras(3).predict(x, verbose=0), both.predict(x)[3], atol=1e-6
    )
    both.save(tmp_path / "mixed.npz")
    loaded = ReplicaMLP.load(tmp_path / "mixed.npz")
    assert loaded.layers == both.layers
    np.testing.assert_array_equal(loaded.predict(x), both.predict(x))
    with pytest.raises(ValueError, match="activations for"):
        ReplicaMLP(2, [Dense(6, ("relu", "tanh")), Dense(3, "softmax")], both.get_weights())


@pytest.mark.parametrize(
    "spec, message",
    [
        (dict(units=0), "units must be >= 1"),
        (dict(units=3, activation="swish"), "activation 'swish'"),
        (dict(units=3, activation=("relu", "gelu")), "activation 'gelu'"),
        (dict(units=3, initializer="zeros"), "initializer 'zeros'"),
    ],
)
def test_dense_refuses_unknown_settings(spec, message):
    with pytest.raises(ValueError, match=message):
        Dense(**spec)
