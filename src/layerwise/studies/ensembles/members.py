"""The members every ensemble method trains, and the rows they train on: R repeats x M
members of one small MLP as replicas of one engine model (`train_members`), their
predictions at kept epochs (`kept_probs`, `checkpoint_model`), a cosine-annealed run
(`snapshot_run`), and the per-repeat validation splits where combiners are fitted
(`validation_splits`, `split_probs`, `members_on_splits`). The seven methods
(`methods.py`) and the one-budget comparison (`compare.py`) are built on these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from layerwise.config import Config
from layerwise.config.ensembles import EnsembleMembersConfig
from layerwise.engine import Dense, History, ReplicaMLP, cosine_annealing, cycle_ends
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.models import make_optimizer, mlp_layers
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for


def method_seed(cfg: Config, method: str, *names: str) -> int:
    """The seed of one method's stream `names` (see pipeline.seeds): changing one method's
    settings moves no other's numbers."""
    return seed_for(cfg.seed, "ensembles", method, *names)


def member_layers(hidden_units: int, n_classes: int) -> list[Dense]:
    return mlp_layers([hidden_units], "relu", "glorot_uniform", n_classes)


def member_optimizer(sub: EnsembleMembersConfig):
    """The members' optimizer: `sub.optimizer` at the members' learning rate (momentum:
    sgd only)."""
    return make_optimizer(sub, name=sub.optimizer)


def train_members(
    sub: EnsembleMembersConfig,
    x: np.ndarray,
    y_onehot: np.ndarray,
    n_replicas: int,
    seed: int,
    *,
    hidden_units: int | None = None,
    epochs: int | None = None,
    progress: bool = True,
    **fit_args,
) -> tuple[ReplicaMLP, History]:
    """R independent members of one architecture, trained together: weights drawn from
    `seed`, minibatch orders from its "order" stream."""
    epochs = sub.epochs if epochs is None else epochs
    layers = member_layers(hidden_units or sub.hidden_units, y_onehot.shape[1])
    model = ReplicaMLP.create(x.shape[1], layers, n_replicas, seed)
    history = model.fit(
        x,
        y_onehot,
        epochs=epochs,
        optimizer=fit_args.pop("optimizer", member_optimizer(sub)),
        batch_size=sub.batch_size,
        seed=seed_for(seed, "order"),
        on_epoch=Progress(f"{n_replicas} replicas, epochs", epochs, show=progress).on_epoch,
        **fit_args,
    )
    return model, history


def predict_in_chunks(model: ReplicaMLP, x: np.ndarray, rows: int = 4000) -> np.ndarray:
    """model.predict over blocks of rows: many replicas x a large holdout stay in memory."""
    return np.concatenate([model.predict(x[i : i + rows]) for i in range(0, len(x), rows)], axis=1)


def checkpoint_model(model: ReplicaMLP, checkpoints: list[list[np.ndarray]]) -> ReplicaMLP:
    """All replicas of several weight snapshots as one model: replica index = k * R + r."""
    params = [np.concatenate(tensors) for tensors in zip(*checkpoints, strict=True)]
    return ReplicaMLP(model.input_dim, model.layers, params)


def kept_probs(model: ReplicaMLP, history: History, epochs: list[int], x: np.ndarray):
    """Predictions of the weights kept after `epochs` (in that order), one predict call for
    all of them: [R, len(epochs), rows, classes]."""
    stacked = checkpoint_model(model, [history.kept[e] for e in epochs])
    probs = stacked.predict(x).reshape(len(epochs), model.n_replicas, len(x), -1)
    return probs.transpose(1, 0, 2, 3)


def snapshot_run(sub, x, y_onehot, R, seed, *, epochs, cycles, learning_rate, **fit_args):
    """R networks trained with cosine annealing (`cycles` warm restarts from `learning_rate`),
    keeping the weights at the end of every cycle. Returns (model, history, the snapshot
    epochs newest first, the schedule)."""
    schedule = cosine_annealing(epochs, cycles, learning_rate)
    ends = cycle_ends(epochs, cycles)
    model, history = train_members(
        sub, x, y_onehot, R, seed, epochs=epochs, lr_schedule=schedule, keep_epochs=ends, **fit_args
    )
    return model, history, ends[::-1], schedule


@dataclass
class Splits:
    """Per repeat: training rows (indices into x_train), validation and test rows.

    validation_from=train carves the validation rows out of the training rows
    (members then train on fewer rows); =test carves them out of the test rows.
    Row indices refer to x_train for `train`/`val` of source train, and to x_test
    otherwise; `val_source` says which.
    """

    train: np.ndarray  # [R, n_train]
    val: np.ndarray  # [R, n_val]
    test: np.ndarray  # [R, n_test] indices into x_test
    val_source: str


def validation_splits(
    data: Dataset, source: str, fraction: float, repeats: int, seed: int
) -> Splits:
    """Stratified validation split per repeat, drawn with scikit-learn."""
    n_train, n_test = len(data.y_train), len(data.y_test)
    labels = data.y_train if source == "train" else data.y_test
    pool = np.arange(len(labels))
    kept, val = [], []
    for r in range(repeats):
        rest, held = train_test_split(
            pool, test_size=fraction, stratify=labels, random_state=seed_for(seed, "repeat", r)
        )
        kept.append(np.sort(rest))
        val.append(np.sort(held))
    if source == "train":
        test = np.broadcast_to(np.arange(n_test), (repeats, n_test))
        return Splits(np.array(kept), np.array(val), test, "train")
    train = np.broadcast_to(np.arange(n_train), (repeats, n_train))
    return Splits(train, np.array(val), np.array(kept), "test")


def per_repeat_rows(probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """probs [R, M, N, C], rows [R, n] -> [R, M, n, C]: each repeat's own rows."""
    return np.stack([probs[r][:, rows[r]] for r in range(len(rows))])


def split_probs(predict: Callable[[np.ndarray], np.ndarray], data: Dataset, splits: Splits):
    """Members' probabilities and labels on each repeat's validation rows (where combiners
    are fitted) and test rows, from `predict(x)` -> [R, M, len(x), classes]."""
    val_x = data.x_train if splits.val_source == "train" else data.x_test
    val_y = data.y_train if splits.val_source == "train" else data.y_test
    return (
        per_repeat_rows(predict(val_x), splits.val),
        val_y[splits.val],
        per_repeat_rows(predict(data.x_test), splits.test),
        data.y_test[splits.test],
    )


def members_on_splits(sub, data: Dataset, splits: Splits, M: int, seed: int, progress: bool, **fit):
    """M members per repeat trained on that repeat's training rows (`splits.train`); returns
    their (validation probs, validation labels, test probs, test labels), as split_probs."""
    R = len(splits.train)
    model, _ = train_members(
        sub,
        data.x_train,
        data.onehot(data.y_train),
        R * M,
        seed,
        progress=progress,
        train_index=np.repeat(splits.train, M, axis=0),
        **fit,
    )
    return split_probs(lambda x: model.predict(x).reshape(R, M, len(x), -1), data, splits)


def members_with_validation(sub, data: Dataset, R: int, M: int, seed: int, progress: bool):
    """Train R repeats x M members on the training rows left after carving a validation
    split per repeat; return the splits, and the members' probabilities [R, M, rows,
    classes] and labels on that validation split and on the test rows."""
    splits = validation_splits(
        data, sub.validation_from, sub.validation_fraction, R, seed_for(seed, "splits")
    )
    return splits, *members_on_splits(sub, data, splits, M, seed_for(seed, "members"), progress)
