"""Training: `fit_replicas` (what `ReplicaMLP.fit` runs) and its `History`.

A fit computes once the output of the leading layers no replica trains, splits the
replicas into equal groups trained on threads of their own, and feeds each group's
compiled program (see `program.epochs_function`) chunks of epochs: the row orders, drawn
here from the seed, and the learning rates. Each group draws every replica's orders and
keeps its own, so the minibatches do not depend on the grouping.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from layerwise.engine.layers import Dense, frozen_prefix, layer_flags, replica_flags
from layerwise.engine.ops import forward, gather_rows, rows_of
from layerwise.engine.optimizers import Optimizer
from layerwise.engine.parallel import default_threads, in_threads, replica_groups
from layerwise.engine.program import Program, epochs_function, epochs_per_call, padded_length


@dataclass
class History:
    """What a fit records: per-epoch curves, each an array [epochs, R] (loss, score and,
    with validation data, val_loss, val_score), and the weights kept after chosen epochs
    ({epoch: [W0, b0, ...]}, every layer's full [R, ...] arrays)."""

    curves: dict[str, np.ndarray] = field(default_factory=dict)
    kept: dict[int, list[np.ndarray]] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        """The number of epochs recorded (0 without curves)."""
        return len(next(iter(self.curves.values()))) if self.curves else 0


@dataclass(frozen=True)
class _FitJob:
    """What one fit shares between its replica groups; `run` trains one group."""

    run_epochs: Callable
    program: Program
    optimizer: Optimizer
    x: tf.Tensor
    y: tf.Tensor
    shared_sample: bool
    validation: tuple | None
    curves: bool
    epochs: int
    seed: int
    learning_rates: list[float]  # per epoch
    keep: frozenset
    batch_orders: list | None
    train_index: np.ndarray  # [R, n] for all replicas
    flags: np.ndarray  # [R, layers] trainable per replica
    layer_trainable: tuple

    def _scored(self, x: tf.Tensor, train_index: np.ndarray, rows: slice) -> list:
        """The (x, y) pairs scored after each epoch: the training sample, then validation."""
        if not self.curves:
            return []
        if self.shared_sample:  # no per-replica copy of the data
            scored = [(x, self.y)]
        else:
            scored = [(gather_rows(x, train_index), tf.gather(self.y, train_index))]
        if self.validation is not None:
            pair = [tf.convert_to_tensor(v, tf.float32) for v in self.validation]
            # per-replica validation data carries the replica axis first: [R, N, ...]
            scored.append(tuple(rows_of(v, rows) for v in pair))
        return scored

    def _masks(self, rows: slice) -> list:
        """One 0/1 factor per replica and trainable tensor, shaped to broadcast."""
        if not self.program.replica_masks:
            return []
        flags = self.flags[rows].astype(np.float32)
        masks = []
        for i, t in enumerate(self.layer_trainable):
            if t:
                masks += [tf.constant(flags[:, i, None, None]), tf.constant(flags[:, i, None])]
        return masks

    def run(self, all_params: list, rows: slice, on_epoch) -> tuple[list, dict, dict]:
        """Train the replicas `rows`; returns (params, curves {name: [epochs, r]}, kept)."""
        params = [p[rows] for p in all_params]
        x = rows_of(self.x, rows)
        train_index = self.train_index[rows]
        R, n = self.train_index.shape
        scored = self._scored(x, train_index, rows)
        masks = self._masks(rows)
        trainable = [
            params[j] for i, t in enumerate(self.layer_trainable) if t for j in (2 * i, 2 * i + 1)
        ]
        state = self.optimizer.init(trainable)
        # every group draws all R replicas' orders and takes its own rows, so the
        # minibatches do not depend on how the replicas are grouped
        rng = np.random.default_rng(self.seed)
        names = ["loss", "score"] + (["val_loss", "val_score"] if self.validation else [])
        values = {name: [] for name in names} if self.curves else {}
        kept = {}
        r = train_index.shape[0]
        padded, n_rows = padded_length(n, self.program.batch_size), tf.constant(n, tf.int32)
        chunk = epochs_per_call(r, padded)
        # with a progress callback, calls are kept to about a second each so that it
        # is told often enough; the chunk's size (and so the program) stays the same
        per_call = 1 if on_epoch is not None else chunk
        run_epochs = None
        epoch = 0
        while epoch < self.epochs:
            # a call ends where the caller wants to see weights: after a kept epoch
            end = min(self.epochs, epoch + per_call)
            end = min([end] + [k + 1 for k in self.keep if epoch <= k < end])
            orders = np.zeros((chunk, r, padded), np.int32)
            lrs = np.zeros(chunk, np.float32)
            for i, e in enumerate(range(epoch, end)):
                if self.batch_orders is not None:
                    positions = self.batch_orders[e][rows]
                else:
                    positions = rng.permuted(np.broadcast_to(np.arange(n), (R, n)), axis=1)[rows]
                orders[i, :, :n] = np.take_along_axis(train_index, positions, axis=1)
                lrs[i] = self.learning_rates[e]
            args = (
                params,
                state,
                tf.constant(lrs),
                x,
                self.y,
                tf.constant(orders),
                n_rows,
                tf.constant(end - epoch, tf.int32),
                scored,
                masks,
            )
            if run_epochs is None:  # every call has the same signature: look it up once
                run_epochs = self.run_epochs.get_concrete_function(*args)
            started = time.monotonic()
            params, state, history = run_epochs(*args)
            params = list(params)
            for name, h in zip(names, history):
                values[name].append(h.numpy()[: end - epoch])
            if end - 1 in self.keep:
                kept[end - 1] = [p.numpy() for p in params]
            if on_epoch is not None:
                for e in range(epoch, end):
                    on_epoch(e)
                seconds = (time.monotonic() - started) / (end - epoch)
                per_call = max(1, min(chunk, int(1.0 / max(seconds, 1e-6))))
            epoch = end
        curves = {
            name: np.concatenate(v).reshape(self.epochs, r) if v else np.zeros((0, r))
            for name, v in values.items()
        }
        return params, curves, kept


def fit_replicas(
    params: Sequence[tf.Tensor],
    layers: Sequence[Dense],
    trainable: Sequence,
    x,
    y,
    *,
    epochs: int,
    optimizer: Optimizer,
    loss: str,
    batch_size: int,
    seed: int,
    train_index: np.ndarray | None,
    validation: tuple | None,
    lr_schedule: Callable[[int], float] | None,
    keep_epochs: Iterable[int],
    batch_orders: Iterable[np.ndarray] | None,
    on_epoch: Callable[[int], None] | None,
    curves: bool,
    threads: int | None,
) -> tuple[list[tf.Tensor], History]:
    """Train the model given by its weights `params` ([W0, b0, ...], kernels [R, in, out],
    biases [R, out]), `layers` and per-layer `trainable` flags on x [N, in] and
    y [N, out]; returns (the trained weights, the History). The arguments after y are
    those of `ReplicaMLP.fit`, which documents them."""
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not any(layer_flags(trainable)):
        raise ValueError("every layer is frozen: nothing to train")
    if validation is not None and not curves:
        raise ValueError("validation data is only scored with curves=True")
    R = int(params[0].shape[0])
    x = tf.convert_to_tensor(x, tf.float32)
    y = tf.convert_to_tensor(y, tf.float32)
    shared_sample = train_index is None
    if shared_sample:
        train_index = np.broadcast_to(np.arange(x.shape[0]), (R, x.shape[0]))
    train_index = np.asarray(train_index, dtype=np.int64)
    if train_index.shape[0] != R:
        raise ValueError(f"train_index has {train_index.shape[0]} rows for {R} replicas")
    # the leading layers no replica trains give the same output every epoch: compute
    # it once and train the layers above it on those features
    first = frozen_prefix(trainable)
    frozen, params = list(params[: 2 * first]), list(params[2 * first :])
    if first:
        below = tuple(layer.activation for layer in layers[:first])
        x = forward(frozen, x, below)
        if validation is not None:
            features = forward(frozen, tf.convert_to_tensor(validation[0], tf.float32), below)
            validation = (features, validation[1])
    # a batch larger than the sample is one batch of all rows, as in Keras: its
    # places past the sample's rows carry zero weight (see epochs_function)
    program = Program.build(layers[first:], trainable[first:], loss, optimizer, batch_size)
    if batch_orders is not None:
        batch_orders = [np.asarray(o) for o in batch_orders]
    job = _FitJob(
        run_epochs=epochs_function(program),
        program=program,
        optimizer=optimizer,
        x=x,
        y=y,
        shared_sample=shared_sample,
        validation=validation,
        curves=curves,
        epochs=epochs,
        seed=seed,
        learning_rates=[
            optimizer.learning_rate if lr_schedule is None else lr_schedule(epoch)
            for epoch in range(epochs)
        ],
        keep=frozenset(keep_epochs),
        batch_orders=batch_orders,
        train_index=train_index,
        flags=replica_flags(trainable, R)[:, first:],
        layer_trainable=program.trainable,
    )
    groups = replica_groups(R, default_threads() if threads is None else threads)
    if any(not isinstance(layer.activation, str) for layer in layers[first:]):
        # per-replica activations are compiled into the program for all R replicas
        groups = [slice(0, R)]
    results = in_threads(
        [
            functools.partial(job.run, params, rows, on_epoch if i == 0 else None)
            for i, rows in enumerate(groups)
        ]
    )
    trained = frozen + [
        tf.concat([group[0][j] for group in results], axis=0) for j in range(len(params))
    ]
    history = History()
    history.curves = {
        name: np.concatenate([c[name] for _, c, _ in results], axis=1) for name in results[0][1]
    }
    for epoch in sorted(results[0][2]):
        history.kept[epoch] = [p.numpy() for p in frozen] + [
            np.concatenate([kept[epoch][j] for _, _, kept in results], axis=0)
            for j in range(len(params))
        ]
    return trained, history
