"""Ensembles: the weight grid search, and one method's members trained by the engine vs Keras.

    python benchmarks/bench_ensembles.py [--keras-members 2] [--repeats 10]

1. Grid search over all 161,040 weight vectors of {0, 0.1, ..., 1}^5 (all-equal vectors
   skipped) on 1,000 test rows: the vectorised search, beside a per-vector Python loop
   (the reference's way; timed on a slice of the grid and scaled to the whole grid).
2. The weighted-average method's members (h=25, Adam, 500 epochs, 100 rows, 10 members
   x `repeats`): the engine trains them all as replicas of one program; plain Keras fits one
   `Sequential` after another (timed on `--keras-members` of them, scaled to all).
The last line is the members' speedup.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from layerwise.pipeline.data import blobs  # noqa: E402
from layerwise.studies.ensembles import combiners as comb  # noqa: E402

N_MEMBERS, HIDDEN, EPOCHS, N_TRAIN = 10, 25, 500, 100


def member_like_probs(rng, n_members: int, n_rows: int, contested: float):
    """Probabilities where members agree on most rows, like trained members do."""
    base = rng.dirichlet(np.full(3, 0.5), size=n_rows)
    probs = np.repeat(base[None], n_members, axis=0)
    noisy = rng.random(n_rows) < contested
    probs[:, noisy] = rng.dirichlet(np.ones(3), size=(n_members, int(noisy.sum())))
    return probs, rng.integers(0, 3, n_rows)


def bench_grid(rng) -> None:
    grid = comb.weight_grid(5, 0.1)
    for contested in (0.1, 1.0):
        probs, labels = member_like_probs(rng, 5, 1000, contested)
        start = time.perf_counter()
        comb.grid_search_weights(probs, labels, 0.1)
        vectorised = time.perf_counter() - start
        sample = grid[:2000]
        start = time.perf_counter()
        for w in sample:  # the plain way: one weighted sum, argmax and score per vector
            mixed = np.tensordot(w, probs, axes=((0,), (0,)))
            np.mean(np.argmax(mixed, axis=1) == labels)
        looped = (time.perf_counter() - start) * len(grid) / len(sample)
        print(
            f"grid search, {len(grid):,} vectors, 1,000 rows, {contested:.0%} contested: "
            f"vectorised {vectorised:.2f}s, per-vector loop ~{looped:.1f}s (scaled from "
            f"{len(sample):,})"
        )


def bench_members(n_replicas: int, keras_members: int) -> tuple[float, float]:
    import keras

    from layerwise.engine import Adam, Dense, ReplicaMLP

    x, y = blobs(1100, 2)
    x, y = x[:N_TRAIN].astype(np.float32), np.eye(3, dtype=np.float32)[y[:N_TRAIN]]
    layers = [Dense(HIDDEN, "relu", "glorot_uniform"), Dense(3, "softmax")]
    start = time.perf_counter()
    model = ReplicaMLP.create(2, layers, n_replicas, seed=0)
    model.fit(x, y, epochs=EPOCHS, optimizer=Adam(0.001), batch_size=32, seed=1)
    engine = time.perf_counter() - start
    print(f"engine: {n_replicas} members x {EPOCHS} epochs as replicas: {engine:.1f}s")

    start = time.perf_counter()
    for i in range(keras_members):
        keras.utils.set_random_seed(i)
        net = keras.Sequential(
            [
                keras.Input(shape=(2,)),
                keras.layers.Dense(HIDDEN, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        net.compile(
            optimizer=keras.optimizers.Adam(0.001),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        net.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0)
    per_member = (time.perf_counter() - start) / keras_members
    plain = per_member * n_replicas
    print(
        f"plain keras: {per_member:.1f}s per member (measured on {keras_members}), "
        f"~{plain:.0f}s for {n_replicas} members"
    )
    return engine, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras-members", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    bench_grid(np.random.default_rng(0))
    engine, plain = bench_members(N_MEMBERS * args.repeats, args.keras_members)
    print(f"speedup: {plain / engine:.1f}x")


if __name__ == "__main__":
    main()
