"""Baseline training: N sequential keras `model.fit` runs against N replicas in the engine.

    python benchmarks/bench_engine.py            # N = 30, every sequential fit timed
    python benchmarks/bench_engine.py --n 100 --sequential 10   # time 10 fits, per-model rate

Both sides train the baseline of docs/studies.md#baseline (2-10-3 MLP, SGD 0.01/0.9, batch 32,
100 epochs, scored on the test split every epoch) from a cold start in this process, so
the engine's tracing and XLA compilation are included. Last line: `speedup: <ratio>x`.
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

EPOCHS, BATCH = 100, 32


def problem():
    x, y = blobs(1000, random_state=2)
    onehot = np.eye(3, dtype=np.float32)[y]
    x = x.astype(np.float32)
    return x[:500], onehot[:500], x[500:], onehot[500:]


def keras_model():
    return keras.Sequential(
        [
            keras.Input(shape=(2,)),
            keras.layers.Dense(10, activation="relu", kernel_initializer="he_uniform"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def sequential(n: int, data) -> tuple[float, float]:
    """Seconds per model and mean test accuracy of n plain keras fits, one after another."""
    x, y, xt, yt = data
    accuracies = []
    start = time.perf_counter()
    for i in range(n):
        keras.utils.set_random_seed(i)
        model = keras_model()
        model.compile(
            optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(x, y, validation_data=(xt, yt), epochs=EPOCHS, batch_size=BATCH, verbose=0)
        accuracies.append(model.evaluate(xt, yt, verbose=0)[1])
    return (time.perf_counter() - start) / n, float(np.mean(accuracies))


def replicas(n: int, data) -> tuple[float, float]:
    """Seconds per model and mean test accuracy of n replicas trained together."""
    x, y, xt, yt = data
    start = time.perf_counter()
    model = ReplicaMLP.create(
        2, [Dense(10, "relu", "he_uniform"), Dense(3, "softmax", "glorot_uniform")], n, seed=0
    )
    history = model.fit(
        x,
        y,
        epochs=EPOCHS,
        batch_size=BATCH,
        optimizer=SGD(0.01, momentum=0.9),
        validation=(xt, yt),
    )
    seconds = time.perf_counter() - start
    return seconds / n, float(history.curves["val_score"][-1].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="models to train (default 30)")
    parser.add_argument(
        "--sequential", type=int, default=None, help="keras fits to time (default: all n)"
    )
    args = parser.parse_args()
    data = problem()
    n_seq = args.sequential or args.n
    engine_per_model, engine_acc = replicas(args.n, data)
    print(
        f"engine, {args.n} replicas in one program: {engine_per_model:.3f} s/model, "
        f"mean test accuracy {engine_acc:.4f}"
    )
    seq_per_model, seq_acc = sequential(n_seq, data)
    print(
        f"keras, {n_seq} sequential model.fit runs: {seq_per_model:.3f} s/model, "
        f"mean test accuracy {seq_acc:.4f}"
    )
    print(f"accuracy difference (engine - keras): {engine_acc - seq_acc:+.4f}")
    print(f"speedup: {seq_per_model / engine_per_model:.0f}x")


if __name__ == "__main__":
    main()
