"""Models in and out of files: the .npz archive of every replica (weights, trainable flags,
architecture), and one replica as an ordinary `keras.Sequential` (and replicas back from
Keras models). `ReplicaMLP.save`, `load`, `to_keras` and `from_keras` call these.

The functions take the model, or for the readers the model class to build, as an
argument, so that this module does not import the model module (which imports this one).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence

import numpy as np

from layerwise.engine.backend import import_keras
from layerwise.engine.layers import Dense, one_or_many, per_replica, simplify_flags


def save_npz(model, file) -> None:
    """Write a `ReplicaMLP` to one .npz archive: input_dim, the layer specs ([layers, 3]
    strings: units, comma-joined activations, initialiser), the trainable flags
    [layers, R] and the weights p0, p1, ... ([R, in, out] and [R, out] per layer).

    file: a path or a binary file object (writing it atomically is the caller's job).
    """
    spec = np.array(
        [
            [layer.units, ",".join(per_replica(layer.activation)), layer.initializer]
            for layer in model.layers
        ]
    )
    arrays = {f"p{i}": p for i, p in enumerate(model.get_weights())}
    np.savez(
        file,
        input_dim=model.input_dim,
        layers=spec,
        trainable=model.replica_trainable().T,
        **arrays,
    )


def load_npz(path, model_class):
    """The model of class `model_class` (`ReplicaMLP`) read from an archive written by
    `save_npz`. A missing file raises FileNotFoundError; a damaged one ValueError
    ("<path>: not a valid replica file (...)")."""
    try:
        with np.load(path) as f:
            layers = [
                Dense(int(u), one_or_many(str(a).split(",")), str(i)) for u, a, i in f["layers"]
            ]
            params = [f[f"p{i}"] for i in range(2 * len(layers))]
            model = model_class(int(f["input_dim"]), layers, params)
            flags = np.asarray(f["trainable"], bool)  # [layers] or [layers, R]
            model.trainable = simplify_flags(list(flags))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        # np.load reads anything that is not an .npz archive as a pickle, which it refuses
        # (and says so); neither that nor a broken archive is a replica file
        is_archive = isinstance(err, KeyError) or zipfile.is_zipfile(path)
        raise ValueError(
            f"{path}: not a valid replica file ("
            + (
                "an .npz archive without a replica model's arrays"
                if is_archive
                else "not an .npz archive: damaged or not written by this program"
            )
            + ")"
        ) from err
    return model


def replica_to_keras(model, replica: int):
    """Replica `replica` of a `ReplicaMLP` as a `keras.Sequential` with the same weights,
    activations and trainable flags (layers named dense_0, dense_1, ...)."""
    keras = import_keras()  # here, not at the top: only a stage that exports pays for Keras
    keras_model = keras.Sequential(
        [keras.Input(shape=(model.input_dim,))]
        + [
            keras.layers.Dense(
                layer.units, activation=layer.activation_of(replica), name=f"dense_{i}"
            )
            for i, layer in enumerate(model.layers)
        ]
    )
    for i, keras_layer in enumerate(keras_model.layers):
        kernel, bias = model.layer_weights(i)
        keras_layer.set_weights([kernel[replica], bias[replica]])
        keras_layer.trainable = bool(model.replica_trainable()[replica, i])
    return keras_model


def replicas_from_keras(models: Sequence, model_class):
    """Keras Sequential MLPs of one architecture stacked into one model of class
    `model_class` (`ReplicaMLP`): model r becomes replica r. Initialisers are recorded
    as glorot_uniform (Keras' default; the weights are what count)."""
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
    return model_class(input_dim, layers, params)
