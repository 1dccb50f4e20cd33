"""Training core: R independent replicas of one MLP trained in one TensorFlow program.

Every dense layer holds a kernel of shape [R, in, out] and a bias of shape [R, out].
Replica r has its own initial weights, its own minibatch order and, through
`train_index`, its own training sample. The training loss is the sum over replicas
of each replica's mean minibatch loss, so replica r receives exactly the gradient
(and the optimizer update) it would receive if it were trained alone.

The update rules mirror Keras 3's `SGD` and `Adam` line for line, and the
softmax + categorical cross-entropy pair is computed from logits as Keras does;
tests/test_core.py checks a replica against `keras.Sequential.fit` weight by weight.

Seams used by the studies: per-layer `trainable` flags (freezing; a flag may also be
a boolean array over replicas, so arms frozen differently train in one program), `lr_schedule`
(per-epoch learning rate), `keep_epochs` (weights kept at chosen epochs), and
`layer_weights` / `set_layer_weights` to copy weights in and out.

Speed: `fit` spreads equal groups of replicas over threads (`default_threads`), and
`side_by_side` runs independent fits one per core; replicas never interact, so the
weights do not depend on either. Layers frozen for every replica are computed once per
fit; one compiled call runs up to EPOCHS_PER_CALL epochs, and one program serves every
batch and every sample of up to MIN_PLACES rows.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import tensorflow as tf

ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear", "softmax")
INITIALIZERS = ("he_uniform", "glorot_uniform")
LOSSES = ("categorical_crossentropy", "mse")
OPTIMIZERS = ("sgd", "adam")


def _per_replica(activation) -> tuple[str, ...]:
    return (activation,) if isinstance(activation, str) else tuple(activation)


def _one_or_many(names) -> str | tuple[str, ...]:
    """One name when every replica has it, else the tuple of names."""
    names = tuple(names)
    return names[0] if len(set(names)) == 1 else names


@dataclass(frozen=True)
class Dense:
    """One fully connected layer: `units` outputs, an activation and a kernel initialiser.

    `activation` may also be a tuple with one name per replica, so that arms differing
    only in their activation train in one program (see `ReplicaMLP.concat`).
    """

    units: int
    activation: str | tuple[str, ...] = "relu"
    initializer: str = "glorot_uniform"

    def __post_init__(self):
        if self.units < 1:
            raise ValueError(f"Dense.units must be >= 1, got {self.units}")
        for name in _per_replica(self.activation):
            if name not in ACTIVATIONS:
                raise ValueError(f"activation {name!r} not in {ACTIVATIONS}")
        if self.initializer not in INITIALIZERS:
            raise ValueError(f"initializer {self.initializer!r} not in {INITIALIZERS}")

    def activation_of(self, replica: int) -> str:
        """The activation of one replica."""
        if isinstance(self.activation, str):
            return self.activation
        return self.activation[replica]

    def for_replicas(self, replicas) -> Dense:
        """This layer's spec for the chosen replicas (in that order)."""
        if isinstance(self.activation, str):
            return self
        return replace(self, activation=_one_or_many([self.activation[r] for r in replicas]))


@dataclass(frozen=True)
class Optimizer:
    """SGD (with optional momentum) or Adam, with Keras 3's defaults."""

    name: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.0
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.name!r} not in {OPTIMIZERS}")


@dataclass
class History:
    """Per-epoch curves, each an array of shape [epochs, R], and the kept weights."""

    curves: dict[str, np.ndarray] = field(default_factory=dict)
    kept: dict[int, list[np.ndarray]] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(next(iter(self.curves.values()))) if self.curves else 0


@dataclass
class Head:
    """An output layer taken off a model: its spec and every replica's weights."""

    layer: Dense
    kernel: np.ndarray  # [R, in, out]
    bias: np.ndarray  # [R, out]


@dataclass(frozen=True)
class _Program:
    """The static part of a training program: everything that changes the graph."""

    activations: tuple[str, ...]
    trainable: tuple[bool, ...]
    loss: str
    optimizer: str
    batch_size: int
    replica_masks: bool = False  # some layer is frozen for some replicas only


def initial_weights(
    input_dim: int, layers: Sequence[Dense], n_replicas: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Fresh weights [W0, b0, W1, b1, ...], kernels drawn per replica, biases zero."""
    params = []
    fan_in = input_dim
    for layer in layers:
        if layer.initializer == "he_uniform":
            limit = math.sqrt(6.0 / fan_in)
        else:  # glorot_uniform
            limit = math.sqrt(6.0 / (fan_in + layer.units))
        kernel = rng.uniform(-limit, limit, size=(n_replicas, fan_in, layer.units))
        params += [kernel.astype(np.float32), np.zeros((n_replicas, layer.units), np.float32)]
        fan_in = layer.units
    return params


def _activate(h: tf.Tensor, name: str | tuple[str, ...]) -> tf.Tensor:
    """h [R, N, units] through the activation; a tuple names one per replica.

    Per-replica names are applied run by run: each stretch of consecutive replicas
    sharing a name (an arm, after `concat`) gets only its own activation, so the work is
    that of one activation and no arithmetic mixes the candidates."""
    if not isinstance(name, str):
        runs = [(n, len(list(group))) for n, group in itertools.groupby(name)]
        pieces = tf.split(h, [size for _, size in runs], axis=0)
        return tf.concat([_activate(p, n) for p, (n, _) in zip(pieces, runs)], axis=0)
    if name == "relu":
        return tf.nn.relu(h)
    if name == "sigmoid":
        return tf.nn.sigmoid(h)
    if name == "tanh":
        return tf.nn.tanh(h)
    if name == "softmax":
        return tf.nn.softmax(h, axis=-1)
    return h


def _dense(h, kernel):
    """h @ kernel per replica; h is [N, in] (shared by all replicas) or [R, N, in]."""
    if h.shape.rank == 2:
        return tf.einsum("nd,rdh->rnh", h, kernel)
    return tf.matmul(h, kernel)


def _forward(params, x, activations, final_activation=True):
    """Outputs [R, N, out] for x of shape [N, in] (shared) or [R, N, in] (per replica).

    With final_activation=False the last layer's pre-activation is returned (logits).
    """
    h = x
    n_layers = len(activations)
    for i in range(n_layers):
        kernel, bias = params[2 * i], params[2 * i + 1]
        h = _dense(h, kernel)
        h = h + bias[:, None, :]
        if i < n_layers - 1 or final_activation:
            h = _activate(h, activations[i])
    return h


def _per_replica_loss(params, x, y, program: _Program, weights=None) -> tf.Tensor:
    """Mean loss over the batch, one value per replica: shape [R].

    weights: [R, B] 1 for the rows that count and 0 for padding; the mean is then
    over the counted rows only.
    """
    last = _forward(params, x, program.activations, final_activation=False)
    return _loss_of(last, y, program, weights)


def _loss_of(last, y, program: _Program, weights=None) -> tf.Tensor:
    """`_per_replica_loss` from the last layer's pre-activation `last` [R, N, out]."""
    if program.loss == "categorical_crossentropy" and program.activations[-1] == "softmax":
        y = tf.broadcast_to(y, tf.shape(last))
        per_sample = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=last)
    elif program.loss == "categorical_crossentropy":
        out = _activate(last, program.activations[-1])
        y = tf.broadcast_to(y, tf.shape(out))
        out = out / tf.reduce_sum(out, axis=-1, keepdims=True)
        out = tf.clip_by_value(out, 1e-7, 1.0 - 1e-7)
        per_sample = -tf.reduce_sum(y * tf.math.log(out), axis=-1)
    else:  # mse
        out = _activate(last, program.activations[-1])
        per_sample = tf.reduce_mean(tf.square(y - out), axis=-1)
    if weights is None:
        return tf.reduce_mean(per_sample, axis=-1)
    return tf.reduce_sum(per_sample * weights, axis=-1) / tf.reduce_sum(weights, axis=-1)


def _optimizer_step(program, hyper, lr, step, params, grads, slots):
    """One Keras-identical update of the trainable tensors; returns (params, slots)."""
    new_params, new_slots = [], []
    if program.optimizer == "sgd":
        momentum = hyper["momentum"]
        for p, g, m in zip(params, grads, slots):
            if momentum != 0.0:
                m = m * momentum - g * lr
                p = p + m
            else:
                p = p - g * lr
            new_params.append(p)
            new_slots.append(m)
        return new_params, new_slots
    beta_1, beta_2, eps = hyper["beta_1"], hyper["beta_2"], hyper["epsilon"]
    local_step = tf.cast(step + 1, tf.float32)
    alpha = lr * tf.sqrt(1 - tf.pow(beta_2, local_step)) / (1 - tf.pow(beta_1, local_step))
    half = len(slots) // 2
    for p, g, m, v in zip(params, grads, slots[:half], slots[half:]):
        m = m + (g - m) * (1 - beta_1)
        v = v + (tf.square(g) - v) * (1 - beta_2)
        new_params.append(p - (m * alpha) / (tf.sqrt(v) + eps))
        new_slots.append((m, v))
    return new_params, [m for m, _ in new_slots] + [v for _, v in new_slots]


@functools.lru_cache(maxsize=64)
def _epochs_function(program: _Program, hyper_items: tuple):
    """A compiled function that runs several epochs of minibatch steps for all replicas.

    One call runs the first `n_epochs` of the `orders` it is given ([C, R, places]:
    per epoch, each replica's row order), so a fit of E epochs is about E / C calls
    rather than E: the per-call cost (argument handling, launching the program) is
    paid once per chunk. Epoch e uses learning rate `lrs[e]`; after every epoch each
    pair in `scored` is scored into row e of its [C, R] (loss, score) histories.
    """
    hyper = dict(hyper_items)
    trainable_ix = [j for i, t in enumerate(program.trainable) if t for j in (2 * i, 2 * i + 1)]

    @tf.function(jit_compile=True, autograph=False)
    def run_epochs(params, slots, step, lrs, x, y, orders, n, n_epochs, scored, masks):
        # XLA needs static slice sizes, so every minibatch has `batch_size` places:
        # each order holds the epoch's n row indices padded (see _padded_length), and
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

        def train_step(idx, counted, lr, step, train, slots):
            xb, yb = _gather_rows(x, idx), tf.gather(y, idx)
            with tf.GradientTape() as tape:
                tape.watch(train)
                loss = tf.reduce_sum(
                    _per_replica_loss(with_trained(train), xb, yb, program, counted)
                )
            grads = tape.gradient(loss, train)
            if program.replica_masks:
                # a zero gradient leaves a frozen replica's weights (and slots) exactly as they are
                grads = [g * m for g, m in zip(grads, masks, strict=True)]
            train, slots = _optimizer_step(program, hyper, lr, step, train, grads, slots)
            return step + 1, train, slots

        def epoch(e, step, train, slots, history):
            order, lr = tf.gather(orders, e), tf.gather(lrs, e)

            def body(s, step, train, slots):
                idx = tf.slice(order, [0, s * batch_size], [R, batch_size])
                position = s * batch_size + tf.range(batch_size)
                counted = tf.broadcast_to(tf.cast(position < n, tf.float32), [R, batch_size])
                return (s + 1, *train_step(idx, counted, lr, step, train, slots))

            _, step, train, slots = tf.while_loop(
                lambda s, *_: s < n_steps,
                body,
                (tf.constant(0), step, train, slots),
                parallel_iterations=1,
            )
            full = with_trained(train)
            scores = [v for sx, sy in scored for v in _scores(full, sx, sy, program)]
            history = [
                tf.tensor_scatter_nd_update(h, [[e]], v[None]) for h, v in zip(history, scores)
            ]
            return e + 1, step, train, slots, history

        history = [tf.zeros([C, R], tf.float32) for _ in range(2 * len(scored))]
        _, step, train, slots, history = tf.while_loop(
            lambda e, *_: e < n_epochs,
            epoch,
            (tf.constant(0), step, [params[j] for j in trainable_ix], list(slots), history),
            parallel_iterations=1,
        )
        return with_trained(train), slots, step, history

    return run_epochs


def _scores(params, x, y, program: _Program):
    """Per-replica (loss, score): score is accuracy, or the loss itself for mse. One
    forward pass serves both."""
    last = _forward(params, x, program.activations, final_activation=False)
    loss = _loss_of(last, y, program)
    if program.loss != "categorical_crossentropy":
        return loss, loss
    out = _activate(last, program.activations[-1])
    labels = tf.broadcast_to(tf.argmax(y, axis=-1), tf.shape(out)[:-1])
    hits = tf.equal(tf.argmax(out, axis=-1), labels)
    return loss, tf.reduce_mean(tf.cast(hits, tf.float32), axis=-1)


def _hyper(optimizer: Optimizer) -> tuple:
    """The optimizer's constants, hashable: they are compiled into the program."""
    return tuple(
        sorted(
            {
                "momentum": float(optimizer.momentum),
                "beta_1": float(optimizer.beta_1),
                "beta_2": float(optimizer.beta_2),
                "epsilon": float(optimizer.epsilon),
            }.items()
        )
    )


def _power_of_two_at_least(k: int) -> int:
    return 1 << max(k - 1, 0).bit_length()


MIN_PLACES = 1024  # every sample of up to this many rows shares one program


def _padded_length(n: int, batch_size: int) -> int:
    """Places in an epoch's batch order for n rows: whole batches, their count rounded up
    to a power of two and to at least MIN_PLACES places, so that programs are shared
    between sample sizes (a fit runs only the batches its n rows fill, whatever this is)."""
    batches = max(-(-n // batch_size), -(-MIN_PLACES // batch_size))
    return batch_size * _power_of_two_at_least(batches)


EPOCHS_PER_CALL = 64  # most epochs one compiled call runs
ORDER_BYTES_PER_CALL = 16 << 20  # and at most this much of row orders per call


def _epochs_per_call(n_replicas: int, places: int) -> int:
    """The chunk size C of a program: EPOCHS_PER_CALL, or fewer (a power of two, so that
    few programs arise) when C epochs of row orders would pass ORDER_BYTES_PER_CALL."""
    fit = ORDER_BYTES_PER_CALL // (4 * n_replicas * places)
    return max(1, min(EPOCHS_PER_CALL, 1 << max(fit.bit_length() - 1, 0)))


def _rows_of(t: tf.Tensor, rows: slice) -> tf.Tensor:
    """A per-replica tensor [R, N, ...] cut to the replicas `rows`; shared data as it is."""
    return t[rows] if t.shape.rank == 3 else t


def _gather_rows(x: tf.Tensor, index) -> tf.Tensor:
    """Rows `index` [R, n] of x: shared [N, d] or per replica [R, N, d]; gives [R, n, d]."""
    return tf.gather(x, index, batch_dims=1) if x.shape.rank == 3 else tf.gather(x, index)


_local = threading.local()


def default_threads() -> int:
    """Replica groups `fit` trains side by side: the `fit_threads` setting of this thread,
    else $LAYERWISE_THREADS, else the usable cores.

    XLA runs a small model's whole program on one core, so a second group of replicas
    on a second core nearly halves the wall time; results do not depend on this number.
    """
    if getattr(_local, "threads", None):
        return _local.threads
    value = os.environ.get("LAYERWISE_THREADS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"LAYERWISE_THREADS = {value!r} (allowed: a whole number >= 1)")
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def fit_threads(n: int):
    """Within the block, `fit` on this thread spreads replicas over `n` threads by default
    (1 when the caller already runs independent fits side by side, one per core)."""
    before = getattr(_local, "threads", None)
    _local.threads = n
    try:
        yield
    finally:
        _local.threads = before


def side_by_side(tasks: Sequence[Callable[[], object]], workers: int | None = None) -> list:
    """Run independent tasks (trainings) at once, one per core; results in task order.

    Each task's fits use one thread, so the cores are not oversubscribed: independent
    programs side by side beat splitting each one's replicas (no per-step overhead
    paid twice, and one task's XLA compile overlaps another's training). Put the
    longest tasks first: they start first.
    """
    workers = min(workers or default_threads(), len(tasks))
    if workers <= 1:
        return [task() for task in tasks]

    def run(task):
        with fit_threads(1):
            return task()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, tasks))


def _replica_groups(n_replicas: int, threads: int) -> list[slice]:
    """Equal contiguous groups of replicas, as many as divide R without exceeding `threads`.

    Equal sizes mean one compiled program serves every group.
    """
    k = max(1, min(threads, n_replicas))
    while n_replicas % k:
        k -= 1
    size = n_replicas // k
    return [slice(i * size, (i + 1) * size) for i in range(k)]


@dataclass(frozen=True)
class _FitJob:
    """What one `fit` call shares between its replica groups; `run` trains one group."""

    run_epochs: Callable
    program: _Program
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
            scored = [(_gather_rows(x, train_index), tf.gather(self.y, train_index))]
        if self.validation is not None:
            pair = [tf.convert_to_tensor(v, tf.float32) for v in self.validation]
            # per-replica validation data carries the replica axis first: [R, N, ...]
            scored.append(tuple(_rows_of(v, rows) for v in pair))
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
        x = _rows_of(self.x, rows)
        train_index = self.train_index[rows]
        R, n = self.train_index.shape
        scored = self._scored(x, train_index, rows)
        masks = self._masks(rows)
        trainable = [
            params[j] for i, t in enumerate(self.layer_trainable) if t for j in (2 * i, 2 * i + 1)
        ]
        if self.optimizer.name == "adam":  # first moments, then second moments
            slots = [tf.zeros_like(p) for p in trainable] * 2
        elif self.optimizer.momentum != 0:
            slots = [tf.zeros_like(p) for p in trainable]
        else:  # plain SGD keeps no state; scalars hold the places
            slots = [tf.zeros((), tf.float32) for _ in trainable]
        step = tf.constant(0, tf.int64)
        # every group draws all R replicas' orders and takes its own rows, so the
        # minibatches do not depend on how the replicas are grouped
        rng = np.random.default_rng(self.seed)
        names = ["loss", "score"] + (["val_loss", "val_score"] if self.validation else [])
        values = {name: [] for name in names} if self.curves else {}
        kept = {}
        r = train_index.shape[0]
        padded, n_rows = _padded_length(n, self.program.batch_size), tf.constant(n, tf.int32)
        chunk = _epochs_per_call(r, padded)
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
                slots,
                step,
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
            params, slots, step, history = run_epochs(*args)
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


def _simplify_flags(flags) -> list:
    """Trainable flags with a per-replica array collapsed to a bool where all replicas agree."""
    out = []
    for t in flags:
        t = np.asarray(t, bool)
        out.append(bool(t.all()) if t.all() or not t.any() else t.copy())
    return out


class ReplicaMLP:
    """R independent replicas of one MLP architecture, trained together.

    `trainable[i]` says whether layer i learns: a bool for every replica, or a boolean
    array [R] when replicas freeze it differently (e.g. after `concat` of several arms).
    """

    def __init__(self, input_dim: int, layers: Sequence[Dense], params: Sequence[np.ndarray]):
        self.input_dim = int(input_dim)
        self.layers = tuple(layers)
        self.params = [tf.convert_to_tensor(p, tf.float32) for p in params]
        self.trainable = [True] * len(self.layers)
        shapes = [tuple(p.shape) for p in self.params]
        fan_in = self.input_dim
        for i, layer in enumerate(self.layers):
            if shapes[2 * i][1:] != (fan_in, layer.units) or shapes[2 * i + 1][1:] != (
                layer.units,
            ):
                raise ValueError(f"layer {i}: weights {shapes[2 * i]} do not fit {layer}")
            fan_in = layer.units
            names = _per_replica(layer.activation)
            if len(names) > 1 and len(names) != shapes[0][0]:
                raise ValueError(f"layer {i}: {len(names)} activations for {shapes[0][0]} replicas")

    @classmethod
    def create(
        cls, input_dim: int, layers: Sequence[Dense], n_replicas: int, seed: int
    ) -> ReplicaMLP:
        if n_replicas < 1:
            raise ValueError(f"n_replicas must be >= 1, got {n_replicas}")
        rng = np.random.default_rng(seed)
        return cls(input_dim, layers, initial_weights(input_dim, layers, n_replicas, rng))

    @property
    def n_replicas(self) -> int:
        return int(self.params[0].shape[0])

    def _program(
        self, loss: str, optimizer: str = "sgd", batch_size: int = 32, first: int = 0
    ) -> _Program:
        """The program for layers `first` onwards (the layers below feed it features)."""
        if loss not in LOSSES:
            raise ValueError(f"loss {loss!r} not in {LOSSES}")
        return _Program(
            activations=tuple(layer.activation for layer in self.layers[first:]),
            trainable=tuple(self.layer_trainable()[first:]),
            replica_masks=any(isinstance(t, np.ndarray) for t in self.trainable[first:]),
            loss=loss,
            optimizer=optimizer,
            batch_size=batch_size,
        )

    # -- weights ---------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        return [p.numpy() for p in self.params]

    def set_weights(self, params: Sequence[np.ndarray]) -> None:
        replacement = ReplicaMLP(self.input_dim, self.layers, params)
        self.params = replacement.params

    def layer_weights(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.params[2 * i].numpy(), self.params[2 * i + 1].numpy()

    def set_layer_weights(self, i: int, kernel: np.ndarray, bias: np.ndarray) -> None:
        """Copy weights into layer i; a kernel without the replica axis goes to every replica."""
        kernel, bias = np.asarray(kernel, np.float32), np.asarray(bias, np.float32)
        if kernel.ndim == 2:
            kernel = np.broadcast_to(kernel, (self.n_replicas, *kernel.shape))
            bias = np.broadcast_to(bias, (self.n_replicas, *bias.shape))
        params = self.get_weights()
        params[2 * i], params[2 * i + 1] = kernel, bias
        self.set_weights(params)

    def select(self, replicas: Sequence[int] | np.ndarray) -> ReplicaMLP:
        """A new model holding only the chosen replicas (in that order)."""
        ix = np.asarray(replicas)
        layers = [layer.for_replicas(ix) for layer in self.layers]
        model = ReplicaMLP(self.input_dim, layers, [p.numpy()[ix] for p in self.params])
        model.trainable = _simplify_flags(
            [t[ix] if isinstance(t, np.ndarray) else t for t in self.trainable]
        )
        return model

    # -- transfer: copying weights in, re-initialising, stacking ------------------
    def copy_weights_from(
        self, source, layers: Iterable[int] | dict[int, int] | None = None
    ) -> None:
        """Copy trained weights into this model's layers, for every replica.

        source: a `ReplicaMLP` with one replica (copied into every replica) or
            with as many replicas as this model (replica r from replica r), or a
            Keras model (copied into every replica).
        layers: which layers to copy: indices (layer i from the source's layer i)
            or a mapping {this model's layer: the source's layer}, so that a model
            with a layer inserted can still take the source's output layer.
            Default: every layer (the architectures must then match).
        Shapes are checked layer by layer; trainable flags are left as they are.
        """
        if isinstance(source, ReplicaMLP):
            n_source_layers = len(source.layers)

            def weights_of(j):
                kernel, bias = source.layer_weights(j)
                if source.n_replicas == 1:
                    return kernel[0], bias[0]
                if source.n_replicas != self.n_replicas:
                    raise ValueError(
                        f"source has {source.n_replicas} replicas; expected 1 or {self.n_replicas}"
                    )
                return kernel, bias
        else:  # a Keras model: its Dense layers in order
            dense = [layer for layer in source.layers if layer.get_weights()]
            n_source_layers = len(dense)

            def weights_of(j):
                kernel, bias = dense[j].get_weights()
                return kernel, bias

        if layers is None:
            if n_source_layers != len(self.layers):
                raise ValueError(
                    f"source has {n_source_layers} layers, this model {len(self.layers)}: "
                    "name the layers to copy"
                )
            layers = range(len(self.layers))
        mapping = dict(layers) if isinstance(layers, dict) else {i: i for i in layers}
        params = self.get_weights()
        for target, origin in mapping.items():
            if not 0 <= origin < n_source_layers:
                raise ValueError(f"source has no layer {origin} (it has {n_source_layers})")
            kernel, bias = (np.asarray(w, np.float32) for w in weights_of(origin))
            expected = params[2 * target].shape[1:]
            if kernel.shape[-2:] != expected:
                raise ValueError(
                    f"layer {target} expects a kernel {expected}; source layer {origin} "
                    f"has {kernel.shape[-2:]}"
                )
            params[2 * target] = np.broadcast_to(kernel, params[2 * target].shape)
            params[2 * target + 1] = np.broadcast_to(bias, params[2 * target + 1].shape)
        self.set_weights(params)

    def reinitialize(self, layers: Iterable[int], seed: int) -> None:
        """Fresh weights for the given layers: kernels drawn per replica from `seed`
        with each layer's own initialiser (as `create` draws them), biases zero."""
        rng = np.random.default_rng(seed)
        params = self.get_weights()
        for i in layers:
            fan_in = self.input_dim if i == 0 else self.layers[i - 1].units
            kernel, bias = initial_weights(fan_in, [self.layers[i]], self.n_replicas, rng)
            params[2 * i], params[2 * i + 1] = kernel, bias
        self.set_weights(params)

    @classmethod
    def concat(cls, models: Sequence[ReplicaMLP]) -> ReplicaMLP:
        """One model holding every replica of `models` in order, so that several experiment
        arms train in one program. The models share their layer widths and initialisers;
        where they freeze a layer differently, that layer's flag becomes a boolean array
        over the replicas, and where their activations differ, the layer's activation
        becomes a tuple with one name per replica."""
        first = models[0]

        def shape(m):
            return m.input_dim, [(layer.units, layer.initializer) for layer in m.layers]

        for m in models[1:]:
            if shape(m) != shape(first):
                raise ValueError("concat needs models of one architecture")
        layers = [
            replace(
                layer,
                activation=_one_or_many(
                    m.layers[i].activation_of(r) for m in models for r in range(m.n_replicas)
                ),
            )
            for i, layer in enumerate(first.layers)
        ]
        params = [
            np.concatenate([m.params[j].numpy() for m in models]) for j in range(len(first.params))
        ]
        model = cls(first.input_dim, layers, params)
        model.trainable = _simplify_flags(
            [
                np.concatenate([m.replica_trainable()[:, i] for m in models])
                for i in range(len(first.layers))
            ]
        )
        return model

    def layer_trainable(self) -> list[bool]:
        """Per layer, whether any replica trains it."""
        return [bool(np.any(t)) for t in self.trainable]

    def replica_trainable(self) -> np.ndarray:
        """The trainable flags spelled out per replica: a boolean array [R, layers]."""
        R = self.n_replicas
        return np.stack([np.broadcast_to(np.asarray(t, bool), (R,)) for t in self.trainable], 1)

    # -- inference -------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs [R, N, out] for inputs [N, in] shared by all replicas or [R, N, in]."""
        return self._features(x, len(self.layers)).numpy()

    def evaluate(
        self, x: np.ndarray, y: np.ndarray, loss: str = "categorical_crossentropy"
    ) -> dict[str, np.ndarray]:
        """Per-replica loss and score ([R] each); score is accuracy, or the loss for mse."""
        # eager: a scoring pass is a few dozen ops, far cheaper to run than to trace and
        # optimise a graph for each architecture (the studies score many architectures once)
        program = self._program(loss)  # checks the loss
        loss_values, score = _scores(
            self.params,
            tf.convert_to_tensor(x, tf.float32),
            tf.convert_to_tensor(y, tf.float32),
            program,
        )
        return {"loss": loss_values.numpy(), "score": score.numpy()}

    # -- training --------------------------------------------------------------
    def frozen_prefix(self) -> int:
        """How many leading layers no replica trains (their output is fixed during a fit)."""
        flags = self.layer_trainable()
        return flags.index(True) if True in flags else len(flags)

    def _features(self, x, n_layers: int) -> tf.Tensor:
        """The output of the first `n_layers` layers: [R, N, units] for every replica."""
        activations = tuple(layer.activation for layer in self.layers[:n_layers])
        x = tf.convert_to_tensor(x, tf.float32)
        return _forward(self.params[: 2 * n_layers], x, activations)  # eager, as in evaluate

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int,
        optimizer: Optimizer,
        loss: str = "categorical_crossentropy",
        batch_size: int = 32,
        seed: int = 0,
        train_index: np.ndarray | None = None,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        lr_schedule: Callable[[int], float] | None = None,
        keep_epochs: Iterable[int] = (),
        batch_orders: Iterable[np.ndarray] | None = None,
        on_epoch: Callable[[int], None] | None = None,
        curves: bool = True,
        threads: int | None = None,
    ) -> History:
        """Train every replica for `epochs` epochs with a fresh optimizer state.

        train_index: [R, n] row indices into x, one sample per replica (bootstrap,
            folds, random splits); default: every replica trains on all rows.
        validation: (x, y) scored after every epoch, shared [N, in] or per replica
            [R, N, in]; the training sample is scored too.
        lr_schedule: epoch (0-based) -> learning rate; default: constant.
        keep_epochs: epochs (0-based) after which a copy of the weights is kept.
        batch_orders: per epoch an [R, n] permutation of positions in the sample,
            to replay a given minibatch sequence (tests); default: drawn from `seed`.
        on_epoch: called with the epoch index after each epoch (of the first replica
            group when the replicas are spread over threads).
        curves: False skips the per-epoch scoring (History.curves stays empty) when
            only the trained weights matter; it is a large share of a small model's epoch.
        threads: replica groups trained side by side on their own threads (default
            `default_threads()`). Replicas never interact and each group replays the
            same minibatch orders, so the weights are bit-identical for any value.
        """
        if epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {epochs}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not any(self.layer_trainable()):
            raise ValueError("every layer is frozen: nothing to train")
        if validation is not None and not curves:
            raise ValueError("validation data is only scored with curves=True")
        R = self.n_replicas
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
        first = self.frozen_prefix()
        frozen, params = self.params[: 2 * first], self.params[2 * first :]
        if first:
            x = self._features(x, first)
            if validation is not None:
                validation = (self._features(validation[0], first), validation[1])
        # a batch larger than the sample is one batch of all rows, as in Keras: its
        # places past the sample's rows carry zero weight (see _epochs_function)
        program = self._program(loss, optimizer.name, batch_size, first)
        if batch_orders is not None:
            batch_orders = [np.asarray(o) for o in batch_orders]
        job = _FitJob(
            run_epochs=_epochs_function(program, _hyper(optimizer)),
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
            flags=self.replica_trainable()[:, first:],
            layer_trainable=tuple(self.layer_trainable()[first:]),
        )
        groups = _replica_groups(R, default_threads() if threads is None else threads)
        if any(not isinstance(layer.activation, str) for layer in self.layers[first:]):
            # per-replica activations are compiled into the program for all R replicas
            groups = [slice(0, R)]
        if len(groups) == 1:
            results = [job.run(params, groups[0], on_epoch)]
        else:
            with ThreadPoolExecutor(len(groups)) as pool:
                futures = [
                    pool.submit(job.run, params, rows, on_epoch if i == 0 else None)
                    for i, rows in enumerate(groups)
                ]
                results = [f.result() for f in futures]
        self.params = frozen + [
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
        return history

    # -- growing, freezing and swapping heads (greedy layer-wise training) -------
    def freeze(self, layers: Iterable[int]) -> None:
        """Stop training the given layers (indices; negative counts from the output)."""
        for i in layers:
            self.trainable[i] = False

    def unfreeze(self) -> None:
        """Make every layer trainable again (fine-tuning after greedy training)."""
        self.trainable = [True] * len(self.layers)

    def output_head(self) -> Head:
        """The output layer with every replica's weights, to be put back later."""
        kernel, bias = self.layer_weights(len(self.layers) - 1)
        return Head(self.layers[-1], kernel, bias)

    def with_head(self, head: Head | Dense, seed: int = 0) -> ReplicaMLP:
        """A new model: this model's hidden layers, frozen, under another output layer.

        `head` is a `Head` (weights kept, e.g. a reconstruction layer taken earlier
        with `output_head`) or a `Dense` spec (fresh weights drawn per replica from
        `seed`). The hidden layers' weights are copied, so this model is unchanged:
        swapping a classifier head on and back off is `model.with_head(Dense(...))`
        followed by `model.with_head(old_head)` (or simply keeping `model`).
        """
        hidden = list(self.layers[:-1])
        fan_in = hidden[-1].units if hidden else self.input_dim
        if isinstance(head, Head):
            layer, kernel, bias = head.layer, head.kernel, head.bias
        else:
            layer = head
            rng = np.random.default_rng(seed)
            kernel, bias = initial_weights(fan_in, [layer], self.n_replicas, rng)
        params = self.get_weights()[:-2] + [kernel, bias]
        model = ReplicaMLP(self.input_dim, hidden + [layer], params)
        model.trainable = [False] * len(hidden) + [True]
        return model

    def insert_hidden(self, layer: Dense | None = None, seed: int = 0) -> ReplicaMLP:
        """A deeper model: a new hidden layer just before the output, earlier layers frozen.

        Every existing layer keeps its trained weights, the output layer included
        (it stays trainable). Because the kept output layer already expects the
        width of the last hidden layer, the new layer must have that width; by
        default it copies the last hidden layer's spec (units, activation,
        initialiser). Its kernel is drawn per replica from `seed`, its bias is zero.
        """
        hidden, output = list(self.layers[:-1]), self.layers[-1]
        width = hidden[-1].units if hidden else self.input_dim
        if layer is None:
            if not hidden:
                raise ValueError("insert_hidden needs a layer spec when there is no hidden layer")
            layer = hidden[-1]
        if layer.units != width:
            raise ValueError(
                f"the new hidden layer must have {width} units (the kept output layer "
                f"expects that width), got {layer.units}"
            )
        rng = np.random.default_rng(seed)
        kernel, bias = initial_weights(width, [layer], self.n_replicas, rng)
        params = self.get_weights()
        params = params[:-2] + [kernel, bias] + params[-2:]
        model = ReplicaMLP(self.input_dim, hidden + [layer, output], params)
        model.trainable = [False] * len(hidden) + [True, True]
        return model

    def gradient_norms(
        self, x: np.ndarray, y: np.ndarray, loss: str = "categorical_crossentropy"
    ) -> np.ndarray:
        """Per replica and layer, the L2 norm of the loss gradient w.r.t. the kernel: [R, L].

        The loss is each replica's mean over all of x (one full batch), as at
        initialisation when deciding whether signal reaches the first layers.
        """
        program = self._program(loss)
        kernels = [self.params[2 * i] for i in range(len(self.layers))]
        with tf.GradientTape() as tape:
            tape.watch(kernels)
            total = tf.reduce_sum(
                _per_replica_loss(
                    self.params,
                    tf.convert_to_tensor(x, tf.float32),
                    tf.convert_to_tensor(y, tf.float32),
                    program,
                )
            )
        grads = tape.gradient(total, kernels)
        # replicas do not interact, so each replica's slice is its own gradient
        return np.stack([tf.norm(g, axis=(1, 2)).numpy() for g in grads], axis=1)

    # -- files -----------------------------------------------------------------
    def save(self, file) -> None:
        """All replicas' weights, trainable flags and the architecture in one .npz archive.

        file: a path or a binary file object (writing it atomically is the caller's job).
        """
        spec = np.array(
            [
                [layer.units, ",".join(_per_replica(layer.activation)), layer.initializer]
                for layer in self.layers
            ]
        )
        arrays = {f"p{i}": p for i, p in enumerate(self.get_weights())}
        np.savez(
            file,
            input_dim=self.input_dim,
            layers=spec,
            trainable=self.replica_trainable().T,
            **arrays,
        )

    @classmethod
    def load(cls, path) -> ReplicaMLP:
        """Read an archive written by `save`. A missing file raises FileNotFoundError; a
        damaged one ValueError ("<path>: not a readable replica file (...)")."""
        import zipfile

        try:
            with np.load(path) as f:
                layers = [
                    Dense(int(u), _one_or_many(str(a).split(",")), str(i))
                    for u, a, i in f["layers"]
                ]
                params = [f[f"p{i}"] for i in range(2 * len(layers))]
                model = cls(int(f["input_dim"]), layers, params)
                flags = np.asarray(f["trainable"], bool)  # [layers] or [layers, R]
                model.trainable = _simplify_flags(list(flags))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(
                f"{path}: not a readable replica file ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''})"
            ) from err
        return model

    # -- export ----------------------------------------------------------------
    def to_keras(self, replica: int):
        """Replica `replica` as an ordinary `keras.Sequential` with the same weights."""
        import keras

        model = keras.Sequential(
            [keras.Input(shape=(self.input_dim,))]
            + [
                keras.layers.Dense(
                    layer.units, activation=layer.activation_of(replica), name=f"dense_{i}"
                )
                for i, layer in enumerate(self.layers)
            ]
        )
        for i, keras_layer in enumerate(model.layers):
            kernel, bias = self.layer_weights(i)
            keras_layer.set_weights([kernel[replica], bias[replica]])
            keras_layer.trainable = bool(self.replica_trainable()[replica, i])
        return model

    @classmethod
    def from_keras(cls, models: Sequence) -> ReplicaMLP:
        """Stack Keras Sequential MLPs of one architecture into replicas."""
        first = models[0]
        layers = [
            Dense(
                layer.units,
                activation=layer.get_config()["activation"],
                initializer="glorot_uniform",
            )
            for layer in first.layers
        ]
        input_dim = first.layers[0].get_weights()[0].shape[0]
        params = []
        for i in range(len(layers)):
            for k in range(2):
                params.append(np.stack([m.layers[i].get_weights()[k] for m in models]))
        return cls(input_dim, layers, params)


# -- learning-rate schedules ------------------------------------------------------------


def cosine_annealing(epochs: int, cycles: int, lr_max: float) -> Callable[[int], float]:
    """Cosine annealing with warm restarts, per epoch (for `fit(lr_schedule=...)`).

    lr(e) = lr_max / 2 * (cos(pi * (e mod P) / P) + 1) with P = floor(epochs / cycles):
    each cycle starts at lr_max and falls towards 0; `cycle_ends` gives the epochs
    where a snapshot is taken.
    """
    if cycles < 1:
        raise ValueError(f"cycles = {cycles} (allowed: >= 1)")
    if epochs < cycles:
        raise ValueError(f"epochs = {epochs} is fewer than cycles = {cycles}")
    period = epochs // cycles

    def schedule(epoch: int) -> float:
        return lr_max / 2 * (math.cos(math.pi * (epoch % period) / period) + 1)

    return schedule


def cycle_ends(epochs: int, cycles: int) -> list[int]:
    """The last epoch (0-based) of each full cycle of `cosine_annealing`."""
    period = epochs // cycles
    return [(k + 1) * period - 1 for k in range(cycles)]
