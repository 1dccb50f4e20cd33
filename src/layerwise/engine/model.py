"""`ReplicaMLP`: R independent replicas of one MLP, held and trained together.

Every dense layer holds a kernel of shape [R, in, out] and a bias of shape [R, out].
Replica r has its own initial weights, its own minibatch order and, through
`train_index`, its own training sample. The training loss is the sum over replicas
of each replica's mean minibatch loss, so replica r receives exactly the gradient
(and the optimizer update) it would receive if it were trained alone; a replica
reaches the weights `keras.Sequential.fit` reaches from the same start.

This class holds the state (weights and per-layer trainable flags) and the operations
on it: freezing, growing (`insert_hidden`, `with_head`), copying weights in and out,
stacking models (`concat`) and picking replicas (`select`). Training is `fit.py`,
files and Keras export `export.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import numpy as np
import tensorflow as tf

from layerwise.engine.export import load_npz, replica_to_keras, replicas_from_keras, save_npz
from layerwise.engine.fit import History, fit_replicas
from layerwise.engine.layers import (
    Dense,
    Head,
    frozen_prefix,
    initial_weights,
    layer_flags,
    one_or_many,
    per_replica,
    replica_flags,
    simplify_flags,
)
from layerwise.engine.ops import check_loss, forward, per_replica_loss, scores
from layerwise.engine.optimizers import Optimizer


class ReplicaMLP:
    """R independent replicas of one MLP architecture, trained together.

    input_dim: features in; layers: the layer specs; params: [W0, b0, W1, b1, ...] with
    kernels [R, in, out] and biases [R, out] (ValueError when they do not fit `layers`).
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
            names = per_replica(layer.activation)
            if len(names) > 1 and len(names) != shapes[0][0]:
                raise ValueError(f"layer {i}: {len(names)} activations for {shapes[0][0]} replicas")

    @classmethod
    def create(
        cls, input_dim: int, layers: Sequence[Dense], n_replicas: int, seed: int
    ) -> ReplicaMLP:
        """A fresh model of `n_replicas` replicas, weights drawn from `seed` (`initial_weights`)."""
        if n_replicas < 1:
            raise ValueError(f"n_replicas must be >= 1, got {n_replicas}")
        rng = np.random.default_rng(seed)
        return cls(input_dim, layers, initial_weights(input_dim, layers, n_replicas, rng))

    @property
    def n_replicas(self) -> int:
        """R, the number of replicas."""
        return int(self.params[0].shape[0])

    # -- weights ---------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights [W0, b0, ...]: kernels [R, in, out], biases [R, out]."""
        return [p.numpy() for p in self.params]

    def set_weights(self, params: Sequence[np.ndarray]) -> None:
        """Replace every weight ([W0, b0, ...] shaped as `get_weights` gives them)."""
        replacement = ReplicaMLP(self.input_dim, self.layers, params)
        self.params = replacement.params

    def layer_weights(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Layer i's (kernel [R, in, out], bias [R, out])."""
        return self.params[2 * i].numpy(), self.params[2 * i + 1].numpy()

    def set_layer_weights(self, i: int, kernel: np.ndarray, bias: np.ndarray) -> None:
        """Copy weights into layer i: kernel [R, in, out] and bias [R, out], or [in, out]
        and [out] without the replica axis for every replica."""
        kernel, bias = np.asarray(kernel, np.float32), np.asarray(bias, np.float32)
        if kernel.ndim == 2:
            kernel = np.broadcast_to(kernel, (self.n_replicas, *kernel.shape))
            bias = np.broadcast_to(bias, (self.n_replicas, *bias.shape))
        params = self.get_weights()
        params[2 * i], params[2 * i + 1] = kernel, bias
        self.set_weights(params)

    def select(self, replicas: Sequence[int] | np.ndarray) -> ReplicaMLP:
        """A new model holding only the chosen replicas (indices, in that order), with
        their activations and trainable flags."""
        ix = np.asarray(replicas)
        layers = [layer.for_replicas(ix) for layer in self.layers]
        model = ReplicaMLP(self.input_dim, layers, [p.numpy()[ix] for p in self.params])
        model.trainable = simplify_flags(
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
                activation=one_or_many(
                    m.layers[i].activation_of(r) for m in models for r in range(m.n_replicas)
                ),
            )
            for i, layer in enumerate(first.layers)
        ]
        params = [
            np.concatenate([m.params[j].numpy() for m in models]) for j in range(len(first.params))
        ]
        model = cls(first.input_dim, layers, params)
        model.trainable = simplify_flags(
            [
                np.concatenate([m.replica_trainable()[:, i] for m in models])
                for i in range(len(first.layers))
            ]
        )
        return model

    def layer_trainable(self) -> list[bool]:
        """Per layer, whether any replica trains it."""
        return layer_flags(self.trainable)

    def replica_trainable(self) -> np.ndarray:
        """The trainable flags spelled out per replica: a boolean array [R, layers]."""
        return replica_flags(self.trainable, self.n_replicas)

    # -- inference -------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs [R, N, out] for inputs [N, in] shared by all replicas or [R, N, in]."""
        return self._features(x, len(self.layers)).numpy()

    def evaluate(
        self, x: np.ndarray, y: np.ndarray, loss: str = "categorical_crossentropy"
    ) -> dict[str, np.ndarray]:
        """Per-replica {"loss": [R], "score": [R]} on x [N, in] (or [R, N, in]) and
        y [N, out]; score is the accuracy, or the loss itself for mse."""
        check_loss(loss)
        # eager: a scoring pass is a few dozen ops, far cheaper to run than to trace and
        # optimise a graph for each architecture (the studies score many architectures once)
        loss_values, score = scores(
            self.params,
            tf.convert_to_tensor(x, tf.float32),
            tf.convert_to_tensor(y, tf.float32),
            self._activations(),
            loss,
        )
        return {"loss": loss_values.numpy(), "score": score.numpy()}

    # -- training --------------------------------------------------------------
    def frozen_prefix(self) -> int:
        """How many leading layers no replica trains (their output is fixed during a fit)."""
        return frozen_prefix(self.trainable)

    def _activations(self, n_layers: int | None = None) -> tuple:
        """The activations of the first `n_layers` layers (default: all)."""
        return tuple(layer.activation for layer in self.layers[:n_layers])

    def _features(self, x, n_layers: int) -> tf.Tensor:
        """The output of the first `n_layers` layers: [R, N, units] for every replica."""
        x = tf.convert_to_tensor(x, tf.float32)
        # eager, as in evaluate
        return forward(self.params[: 2 * n_layers], x, self._activations(n_layers))

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
        """Train every replica for `epochs` epochs with a fresh optimizer state, on
        x [N, in] and y [N, out] (one-hot for cross-entropy); returns the History.

        optimizer: an `Optimizer` (`SGD`, `Adam`); its learning rate unless lr_schedule.
        loss: "categorical_crossentropy" or "mse".
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
            same minibatch orders, so the weights do not depend on the grouping.
        """
        self.params, history = fit_replicas(
            self.params,
            self.layers,
            self.trainable,
            x,
            y,
            epochs=epochs,
            optimizer=optimizer,
            loss=loss,
            batch_size=batch_size,
            seed=seed,
            train_index=train_index,
            validation=validation,
            lr_schedule=lr_schedule,
            keep_epochs=keep_epochs,
            batch_orders=batch_orders,
            on_epoch=on_epoch,
            curves=curves,
            threads=threads,
        )
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
        """Per replica and layer, the L2 norm of the loss gradient w.r.t. the kernel: [R, L],
        for x [N, in] and y [N, out].

        The loss is each replica's mean over all of x (one full batch), as at
        initialisation when deciding whether signal reaches the first layers.
        """
        check_loss(loss)
        kernels = [self.params[2 * i] for i in range(len(self.layers))]
        with tf.GradientTape() as tape:
            tape.watch(kernels)
            total = tf.reduce_sum(
                per_replica_loss(
                    self.params,
                    tf.convert_to_tensor(x, tf.float32),
                    tf.convert_to_tensor(y, tf.float32),
                    self._activations(),
                    loss,
                )
            )
        grads = tape.gradient(total, kernels)
        # replicas do not interact, so each replica's slice is its own gradient
        return np.stack([tf.norm(g, axis=(1, 2)).numpy() for g in grads], axis=1)

    # -- files and Keras (see export.py) -------------------------------------------------
    def save(self, file) -> None:
        """All replicas' weights, trainable flags and the architecture in one .npz archive.

        file: a path or a binary file object (writing it atomically is the caller's job).
        """
        save_npz(self, file)

    @classmethod
    def load(cls, path) -> ReplicaMLP:
        """Read an archive written by `save`. A missing file raises FileNotFoundError; a
        damaged one ValueError ("<path>: not a valid replica file (...)")."""
        return load_npz(path, cls)

    def to_keras(self, replica: int):
        """Replica `replica` as an ordinary `keras.Sequential` with the same weights."""
        return replica_to_keras(self, replica)

    @classmethod
    def from_keras(cls, models: Sequence) -> ReplicaMLP:
        """Stack Keras Sequential MLPs of one architecture into replicas (model r is
        replica r)."""
        return replicas_from_keras(models, cls)
