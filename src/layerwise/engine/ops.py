"""Tensor operations on many replicas at once: activations (one per replica if need be),
the batched dense layer, the forward pass, per-replica losses and scores, row gathering.

Shapes: R replicas, N rows. Inputs are shared by every replica, [N, in], or given per
replica, [R, N, in]; everything computed from them carries the replica axis first.
The losses are computed as Keras 3 computes them (softmax + categorical cross-entropy
from logits, clipping otherwise), so that a replica trains as a Keras model would.
"""

from __future__ import annotations

import itertools

import tensorflow as tf

LOSSES = ("categorical_crossentropy", "mse")


def check_loss(loss: str) -> None:
    """Raise ValueError unless `loss` is one of LOSSES."""
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r} not in {LOSSES}")


def activate(h: tf.Tensor, name: str | tuple[str, ...]) -> tf.Tensor:
    """h [R, N, units] through the activation `name`; a tuple names one per replica.

    Per-replica names are applied run by run: each stretch of consecutive replicas
    sharing a name (an arm, after `concat`) gets only its own activation, so the work is
    that of one activation and no arithmetic mixes the candidates."""
    if not isinstance(name, str):
        runs = [(n, len(list(group))) for n, group in itertools.groupby(name)]
        pieces = tf.split(h, [size for _, size in runs], axis=0)
        return tf.concat([activate(p, n) for p, (n, _) in zip(pieces, runs)], axis=0)
    if name == "relu":
        return tf.nn.relu(h)
    if name == "sigmoid":
        return tf.nn.sigmoid(h)
    if name == "tanh":
        return tf.nn.tanh(h)
    if name == "softmax":
        return tf.nn.softmax(h, axis=-1)
    return h


def dense(h: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    """h @ kernel per replica: h [N, in] (shared) or [R, N, in], kernel [R, in, out];
    returns [R, N, out]."""
    if h.shape.rank == 2:
        return tf.einsum("nd,rdh->rnh", h, kernel)
    return tf.matmul(h, kernel)


def forward(params, x: tf.Tensor, activations, final_activation: bool = True) -> tf.Tensor:
    """The network's output [R, N, out] for x [N, in] (shared) or [R, N, in] (per replica).

    params: [W0, b0, W1, b1, ...] with kernels [R, in, out] and biases [R, out], one
    pair per entry of `activations` (a name, or a tuple of names per replica).
    With final_activation=False the last layer's pre-activation is returned (logits).
    """
    h = x
    n_layers = len(activations)
    for i in range(n_layers):
        kernel, bias = params[2 * i], params[2 * i + 1]
        h = dense(h, kernel)
        h = h + bias[:, None, :]
        if i < n_layers - 1 or final_activation:
            h = activate(h, activations[i])
    return h


def loss_of(last: tf.Tensor, y: tf.Tensor, output_activation, loss: str, weights=None):
    """Mean loss over the rows, per replica: [R], from the last layer's pre-activation
    `last` [R, N, out] and targets y [N, out] (shared) or [R, N, out].

    output_activation: the last layer's activation (a name, or a tuple per replica).
    weights: [R, N], 1 for the rows that count and 0 for padding; the mean is then over
    the counted rows only.
    """
    if loss == "categorical_crossentropy" and output_activation == "softmax":
        y = tf.broadcast_to(y, tf.shape(last))
        per_sample = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=last)
    elif loss == "categorical_crossentropy":
        out = activate(last, output_activation)
        y = tf.broadcast_to(y, tf.shape(out))
        out = out / tf.reduce_sum(out, axis=-1, keepdims=True)
        out = tf.clip_by_value(out, 1e-7, 1.0 - 1e-7)
        per_sample = -tf.reduce_sum(y * tf.math.log(out), axis=-1)
    else:  # mse
        out = activate(last, output_activation)
        per_sample = tf.reduce_mean(tf.square(y - out), axis=-1)
    if weights is None:
        return tf.reduce_mean(per_sample, axis=-1)
    return tf.reduce_sum(per_sample * weights, axis=-1) / tf.reduce_sum(weights, axis=-1)


def per_replica_loss(params, x, y, activations, loss: str, weights=None) -> tf.Tensor:
    """Mean loss over the rows of x, one value per replica: [R].

    x: [N, in] or [R, N, in]; y: [N, out] or [R, N, out]; weights as in `loss_of`.
    """
    last = forward(params, x, activations, final_activation=False)
    return loss_of(last, y, activations[-1], loss, weights)


def scores(params, x, y, activations, loss: str) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-replica (loss, score), each [R]: score is the accuracy (argmax of the output
    against argmax of y), or the loss itself for mse. One forward pass serves both.

    A replica whose loss is not finite has diverged: its outputs are NaN and their argmax
    means nothing, so its accuracy is NaN too (never the share of class 0 it would read)."""
    last = forward(params, x, activations, final_activation=False)
    loss_values = loss_of(last, y, activations[-1], loss)
    if loss != "categorical_crossentropy":
        return loss_values, loss_values
    out = activate(last, activations[-1])
    labels = tf.broadcast_to(tf.argmax(y, axis=-1), tf.shape(out)[:-1])
    hits = tf.equal(tf.argmax(out, axis=-1), labels)
    accuracy = tf.reduce_mean(tf.cast(hits, tf.float32), axis=-1)
    return loss_values, tf.where(
        tf.math.is_finite(loss_values), accuracy, tf.constant(float("nan"), accuracy.dtype)
    )


def rows_of(t: tf.Tensor, rows: slice) -> tf.Tensor:
    """A per-replica tensor [R, N, ...] cut to the replicas `rows`; shared data [N, d]
    is returned as it is."""
    return t[rows] if t.shape.rank == 3 else t


def gather_rows(x: tf.Tensor, index) -> tf.Tensor:
    """Rows `index` [R, n] of x, shared [N, d] or per replica [R, N, d]: returns [R, n, d]."""
    return tf.gather(x, index, batch_dims=1) if x.shape.rank == 3 else tf.gather(x, index)
