"""The compiled training program: its static description (`Program`), the XLA-compiled
function that runs several epochs of minibatch steps for every replica at once
(`epochs_function`), and the sizes that let few programs serve many fits.

A program is compiled once per `Program` (everything that changes the graph: the
activations, which layers train, the loss, the optimizer's constants, the batch size)
and per argument shapes. The learning rates, row orders and sample size are arguments,
so one program serves every schedule, every sample of up to MIN_PLACES rows, and every
chunk of up to EPOCHS_PER_CALL epochs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from layerwise.engine.layers import Dense, layer_flags
from layerwise.engine.ops import check_loss, gather_rows, per_replica_loss, scores
from layerwise.engine.optimizers import Optimizer


@dataclass(frozen=True)
class Program:
    """The static part of a training program: everything that changes the graph.

    optimizer: the optimizer's constants only (learning rate None, see
    `Optimizer.constants`); the learning rate is an argument of the program.
    """

    activations: tuple[str | tuple[str, ...], ...]
    trainable: tuple[bool, ...]
    loss: str
    optimizer: Optimizer
    batch_size: int
    replica_masks: bool = False  # some layer is frozen for some replicas only

    @classmethod
    def build(
        cls,
        layers: Sequence[Dense],
        trainable: Sequence,
        loss: str,
        optimizer: Optimizer,
        batch_size: int,
    ) -> Program:
        """The program training `layers` (the model's layers from the first one the
        program computes) with their trainable flags (a bool, or a boolean array [R],
        per layer)."""
        check_loss(loss)
        return cls(
            activations=tuple(layer.activation for layer in layers),
            trainable=tuple(layer_flags(trainable)),
            replica_masks=any(isinstance(t, np.ndarray) for t in trainable),
            loss=loss,
            optimizer=optimizer.constants(),
            batch_size=batch_size,
        )


@functools.lru_cache(maxsize=64)
def epochs_function(program: Program):
    """A compiled function that runs several epochs of minibatch steps for all replicas.

    run_epochs(params, state, lrs, x, y, orders, n, n_epochs, scored, masks)
    -> (params, state, history):
      params: every layer's [kernel [R, in, out], bias [R, out]] of the program's layers;
      state: the optimizer's state for the trainable ones (`Optimizer.init`: its count of
      updates and its slots);
      lrs: [C] float32, epoch e's learning rate; x: [N, in] or [R, N, in]; y: [N, out];
      orders: [C, R, places] int32, per epoch each replica's row order (the first n
      places count); n: int32 rows in the sample; n_epochs: int32 <= C epochs to run;
      scored: (x, y) pairs scored after every epoch; masks: per trainable tensor a 0/1
      factor per replica ([R, 1, 1] or [R, 1]) when `program.replica_masks`, else [].
      history: per scored pair a [C, R] loss and a [C, R] score, row e for epoch e.

    One call runs the first `n_epochs` of its C epochs of orders, so a fit of E epochs
    is about E / C calls rather than E: the per-call cost (argument handling, launching
    the program) is paid once per chunk.
    """
    trainable_ix = [j for i, t in enumerate(program.trainable) if t for j in (2 * i, 2 * i + 1)]
    optimizer = program.optimizer

    @tf.function(jit_compile=True, autograph=False)
    def run_epochs(params, state, lrs, x, y, orders, n, n_epochs, scored, masks):
        # XLA needs static slice sizes, so every minibatch has `batch_size` places:
        # each order holds the epoch's n row indices padded (see padded_length), and
        # the places past n, in the last batch, carry zero weight. A last batch of
        # fewer rows (or a single batch when n < batch_size, as Keras makes them) is
        # thus the same compiled step, and one program serves every sample size.
        params = list(params)
        C, R = orders.shape[0], orders.shape[1]
        batch_size = program.batch_size
        n_steps = (n + batch_size - 1) // batch_size

        def with_trained(train):
            full = list(params)
            for j, t in zip(trainable_ix, train):
                full[j] = t
            return full

        def train_step(idx, counted, lr, train, state):
            xb, yb = gather_rows(x, idx), tf.gather(y, idx)
            with tf.GradientTape() as tape:
                tape.watch(train)
                loss = tf.reduce_sum(
                    per_replica_loss(
                        with_trained(train), xb, yb, program.activations, program.loss, counted
                    )
                )
            grads = tape.gradient(loss, train)
            if program.replica_masks:
                # a zero gradient leaves a frozen replica's weights (and slots) exactly as they are
                grads = [g * m for g, m in zip(grads, masks, strict=True)]
            return optimizer.update(lr, train, grads, state)

        def epoch(e, train, state, history):
            order, lr = tf.gather(orders, e), tf.gather(lrs, e)

            def body(s, train, state):
                idx = tf.slice(order, [0, s * batch_size], [R, batch_size])
                position = s * batch_size + tf.range(batch_size)
                counted = tf.broadcast_to(tf.cast(position < n, tf.float32), [R, batch_size])
                return (s + 1, *train_step(idx, counted, lr, train, state))

            _, train, state = tf.while_loop(
                lambda s, *_: s < n_steps,
                body,
                (tf.constant(0), train, state),
                parallel_iterations=1,
            )
            full = with_trained(train)
            activations, loss = program.activations, program.loss
            values = [v for sx, sy in scored for v in scores(full, sx, sy, activations, loss)]
            history = [
                tf.tensor_scatter_nd_update(h, [[e]], v[None]) for h, v in zip(history, values)
            ]
            return e + 1, train, state, history

        history = [tf.zeros([C, R], tf.float32) for _ in range(2 * len(scored))]
        _, train, state, history = tf.while_loop(
            lambda e, *_: e < n_epochs,
            epoch,
            (tf.constant(0), [params[j] for j in trainable_ix], state, history),
            parallel_iterations=1,
        )
        return with_trained(train), state, history

    return run_epochs


def _power_of_two_at_least(k: int) -> int:
    return 1 << max(k - 1, 0).bit_length()


MIN_PLACES = 1024  # every sample of up to this many rows shares one program


def padded_length(n: int, batch_size: int) -> int:
    """Places in an epoch's batch order for n rows: whole batches, their count rounded up
    to a power of two and to at least MIN_PLACES places, so that programs are shared
    between sample sizes (a fit runs only the batches its n rows fill, whatever this is)."""
    batches = max(-(-n // batch_size), -(-MIN_PLACES // batch_size))
    return batch_size * _power_of_two_at_least(batches)


EPOCHS_PER_CALL = 64  # most epochs one compiled call runs
ORDER_BYTES_PER_CALL = 16 << 20  # and at most this much of row orders per call


def epochs_per_call(n_replicas: int, places: int) -> int:
    """The chunk size C of a program: EPOCHS_PER_CALL, or fewer (a power of two, so that
    few programs arise) when C epochs of row orders ([C, R, places] int32) would pass
    ORDER_BYTES_PER_CALL."""
    fit = ORDER_BYTES_PER_CALL // (4 * n_replicas * places)
    return max(1, min(EPOCHS_PER_CALL, 1 << max(fit.bit_length() - 1, 0)))
