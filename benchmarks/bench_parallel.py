"""Using every engine: one fit's replicas split over threads, and independent fits side by side.

Workload: the end-to-end controls of the supervised greedy study at small scale: fresh
MLPs of 2..`max_depth` hidden Dense(25, relu) layers, R replicas, on 500 blob rows,
each trained for 20 epochs per hidden layer. Three ways, the same weights each time:

    one thread       every fit trains all R replicas on one thread, one fit after another
    replica groups   every fit splits its replicas over the cores (fit's default)
    side by side     the fits run at once, one per engine (greedy.py's way for controls)

    python benchmarks/bench_parallel.py [--replicas 30] [--max-depth 6]

The last line is the speedup of the fastest way over one thread.
"""

from __future__ import annotations

import argparse
import functools
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from layerwise.engine import (  # noqa: E402
    SGD,
    Dense,
    ReplicaMLP,
    default_threads,
    fit_threads,
    side_by_side,
)
from layerwise.pipeline.data import blobs  # noqa: E402


def control(x, y, depth: int, replicas: int, epochs_per_layer: int) -> list[np.ndarray]:
    layers = [Dense(25, "relu", "he_uniform")] * depth + [Dense(3, "softmax")]
    model = ReplicaMLP.create(2, layers, replicas, seed=depth)
    model.fit(
        x,
        y,
        epochs=epochs_per_layer * depth,
        optimizer=SGD(0.01, 0.9),
        seed=depth,
        curves=False,
    )
    return model.get_weights()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=30)
    parser.add_argument("--max-depth", type=int, default=6)
    parser.add_argument("--epochs-per-layer", type=int, default=20)
    args = parser.parse_args()
    x, labels = blobs(500, 2)
    x, y = x.astype(np.float32), np.eye(3, dtype=np.float32)[labels]
    depths = list(range(args.max_depth, 1, -1))  # deepest first
    tasks = [
        functools.partial(control, x, y, d, args.replicas, args.epochs_per_layer) for d in depths
    ]
    print(f"{default_threads()} cores; depths {depths[::-1]}, {args.replicas} replicas")
    for d in depths:  # compile every program (all replicas, and a group's) outside the timings
        with fit_threads(1):
            control(x, y, d, args.replicas, 1)
        control(x, y, d, args.replicas, 1)

    def one_thread():
        with fit_threads(1):
            return [task() for task in tasks]

    ways = {
        "one thread": one_thread,
        "replica groups": lambda: [task() for task in tasks],
        "side by side": lambda: side_by_side(tasks),
    }
    seconds, weights = {}, {}
    for name, run in ways.items():
        start = time.perf_counter()
        weights[name] = run()
        seconds[name] = time.perf_counter() - start
        print(f"{name:15s} {seconds[name]:6.1f} s")
    same = all(
        np.array_equal(a, b)
        for name in ways
        for fit_a, fit_b in zip(weights["one thread"], weights[name], strict=True)
        for a, b in zip(fit_a, fit_b, strict=True)
    )
    print(f"weights identical across the three ways: {same}")
    best = min(seconds, key=seconds.get)
    print(f"speedup: {seconds['one thread'] / seconds[best]:.2f}x ({best} vs one thread)")


if __name__ == "__main__":
    main()
