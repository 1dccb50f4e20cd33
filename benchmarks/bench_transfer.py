"""Transfer study, Problem 1 -> Problem 2 at the book's settings: the engine against plain Keras.

Engine: `transfer.run` for the reference's case, every arm x R repeats x both protocols
(fresh source models included), arms of one architecture stacked into one program.
Plain Keras: one `keras.Sequential.fit` per network, as the reference does it; a few
fits are timed and the per-fit time is multiplied by the number of fits the same
study needs. Run: python benchmarks/bench_transfer.py [--keras-fits 3]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]


def book_config():
    from layerwise.config import to_config
    from layerwise.config.compose import compose

    cfg = to_config(compose([], ROOT / "conf"), "book preset", ROOT)
    cfg.transfer.cases = {"forward": cfg.transfer.cases["forward"]}
    cfg.transfer.source.problems = {"p1": cfg.transfer.source.problems["p1"]}
    return cfg


def problems(cfg):
    from layerwise.pipeline import data
    from layerwise.studies.transfer import sources

    t = cfg.transfer
    p1 = cfg.datasets[t.source.problems["p1"].dataset]
    p2 = cfg.datasets[t.cases["forward"].dataset]
    return {
        "p1": sources.make_problem("p1", data.build(p1), []),
        "forward": sources.make_problem("forward", data.build(p2), []),
    }


def keras_fit(cfg, problem, source_weights, frozen: int) -> float:
    """One network the plain way: build, copy weights, freeze, compile, fit. Seconds."""
    import keras

    t = cfg.transfer
    start = time.perf_counter()
    model = keras.Sequential(
        [keras.Input(shape=(problem.n_features,))]
        + [
            keras.layers.Dense(u, activation="relu", kernel_initializer="he_uniform")
            for u in t.source.hidden_units
        ]
        + [keras.layers.Dense(problem.n_classes, activation="softmax")]
    )
    if source_weights is not None:
        model.set_weights(source_weights)
        for layer in model.layers[:frozen]:
            layer.trainable = False
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=t.learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        problem.x_train,
        problem.onehot(problem.y_train),
        epochs=t.epochs,
        batch_size=t.batch_size,
        verbose=0,
        validation_data=(problem.x_test, problem.onehot(problem.y_test)),
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras-fits", type=int, default=3, help="plain fits to time")
    args = parser.parse_args()

    import keras

    from layerwise.studies.transfer import runs, sources

    cfg = book_config()
    t = cfg.transfer
    probs = problems(cfg)
    keras.utils.set_random_seed(0)

    start = time.perf_counter()  # the saved source model, then the whole comparison
    source = sources.run_source(cfg, probs)
    runs.run(cfg, probs, source.models, progress=False)
    engine = time.perf_counter() - start

    # networks the same study needs, one fit each the plain way: the saved source, the
    # fresh sources, standalone once, and every transfer arm under both protocols
    n_arms = len(t.arm_names()) - 1
    n_fits = t.repeats * (1 + 1 + n_arms * len(t.protocols)) + 1
    source_weights = source.models["p1"].to_keras(0).get_weights()
    keras_fit(cfg, probs["forward"], None, 0)  # warm-up: imports and first trace
    times = [
        keras_fit(cfg, probs["forward"], source_weights, k % 3) for k in range(args.keras_fits)
    ]
    per_fit = sum(times) / len(times)
    plain = per_fit * n_fits

    print(
        f"engine: all {n_arms + 1} arms x {t.repeats} repeats x {len(t.protocols)} protocols "
        f"(Problem 1 -> 2, {t.epochs} epochs): {engine:.1f} s"
    )
    print(
        f"plain keras: {per_fit:.2f} s per fit (mean of {len(times)}) x {n_fits} fits "
        f"= {plain:.1f} s (extrapolated)"
    )
    print(f"speedup: {plain / engine:.1f}x")


if __name__ == "__main__":
    main()
