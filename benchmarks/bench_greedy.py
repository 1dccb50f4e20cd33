"""Supervised greedy layer-wise training: the replica engine against plain Keras.

The procedure (docs/studies.md#greedy-supervised): fit the baseline 2-10-3 MLP for 100
epochs, then 10 times remove the output layer, freeze the rest, add Dense(10, relu,
he_uniform), put the output layer back and fit 100 epochs, scoring train/test accuracy
at every depth.

The engine runs it for R replicas at once; Keras runs it the ordinary way
(Sequential.pop, trainable=False, add, compile, fit) for a few replicas, and its
time per replica is extrapolated to R.

    python benchmarks/bench_greedy.py [--replicas 30] [--keras-replicas 2]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from layerwise.engine import SGD, Dense, ReplicaMLP  # noqa: E402
from layerwise.pipeline.data import blobs  # noqa: E402


def problem():
    x, y = blobs(1000, 2)
    x = x.astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[y]
    return x[:500], onehot[:500], x[500:], onehot[500:]


def engine_procedure(data, n_replicas, additions, epochs):
    x, y, x_test, y_test = data
    optimizer = SGD(0.01, 0.9)
    hidden = Dense(10, "relu", "he_uniform")
    model = ReplicaMLP.create(2, [hidden, Dense(3, "softmax")], n_replicas, seed=0)
    model.fit(x, y, epochs=epochs, optimizer=optimizer, seed=1)
    scores = [model.evaluate(x_test, y_test)["score"]]
    for k in range(additions):
        model = model.insert_hidden(hidden, seed=10 + k)
        model.fit(x, y, epochs=epochs, optimizer=optimizer, seed=100 + k)
        model.evaluate(x, y)
        scores.append(model.evaluate(x_test, y_test)["score"])
    return np.array(scores)


def keras_procedure(data, seed, additions, epochs):
    x, y, x_test, y_test = data
    keras.utils.set_random_seed(seed)

    def compile_(model):
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )

    model = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            keras.layers.Dense(10, activation="relu", kernel_initializer="he_uniform"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    compile_(model)
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    scores = [model.evaluate(x_test, y_test, verbose=0)[1]]
    for _ in range(additions):
        output = model.pop()
        for layer in model.layers:
            layer.trainable = False
        model.add(keras.layers.Dense(10, activation="relu", kernel_initializer="he_uniform"))
        model.add(output)
        compile_(model)
        model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
        model.evaluate(x, y, verbose=0)
        scores.append(model.evaluate(x_test, y_test, verbose=0)[1])
    return np.array(scores)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=30)
    parser.add_argument("--keras-replicas", type=int, default=2)
    parser.add_argument("--additions", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    data = problem()

    start = time.perf_counter()
    engine_scores = engine_procedure(data, args.replicas, args.additions, args.epochs)
    engine_seconds = time.perf_counter() - start
    print(
        f"engine:  {args.replicas} replicas, {args.additions} additions: {engine_seconds:.1f} s "
        f"(final mean test accuracy {engine_scores[-1].mean():.3f})"
    )

    start = time.perf_counter()
    keras_scores = [
        keras_procedure(data, r, args.additions, args.epochs) for r in range(args.keras_replicas)
    ]
    keras_seconds = time.perf_counter() - start
    per_replica = keras_seconds / args.keras_replicas
    extrapolated = per_replica * args.replicas
    print(
        f"keras: {args.keras_replicas} replicas in {keras_seconds:.1f} s = {per_replica:.1f} s "
        f"per replica -> {extrapolated:.1f} s for {args.replicas} (extrapolated; final test "
        f"accuracy {np.mean([s[-1] for s in keras_scores]):.3f})"
    )
    print(f"speedup: {extrapolated / engine_seconds:.1f}x")


if __name__ == "__main__":
    main()
