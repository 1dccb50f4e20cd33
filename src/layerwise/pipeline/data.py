"""Datasets: generate or load, split, scale, and store as data/<name>.npz.

Each file holds x_train, y_train, x_test, y_test (integer labels) and the number
of classes; a csv dataset's also the names of its classes (label i is class_names[i]) and
of its feature columns. Scaling statistics come from the training rows only.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import atomic_path
from layerwise.pipeline.schema import Cifar10Config, CsvConfig, DatasetConfig
from layerwise.pipeline.tabular import read_table, split_sizes

# scikit-learn is imported where a dataset is built, not here: the report reads a csv
# dataset's names through `load` and imports nothing it does not need
UNIT_SCALE = {"digits": 16.0, "cifar10": 255.0, "blobs": None, "mnist1d": None, "csv": None}


@dataclass
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    class_names: tuple[str, ...] = ()  # csv: the target's values, label i = class_names[i]
    feature_names: tuple[str, ...] = ()  # csv: the columns of x, in order

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def onehot(self, labels: np.ndarray) -> np.ndarray:
        return np.eye(self.n_classes, dtype=np.float32)[labels]


def blobs(n_samples: int, random_state: int, cluster_std: float = 2.0):
    """The references' problem: three 2-D Gaussian blobs that overlap."""
    from sklearn.datasets import make_blobs

    return make_blobs(
        n_samples=n_samples,
        centers=3,
        n_features=2,
        cluster_std=cluster_std,
        random_state=random_state,
    )


CIFAR_BY_HAND = (
    "download cifar-10-python.tar.gz from the CIFAR-10 page on a machine with network, "
    "unpack it, and set datasets.cifar10.source to the folder cifar-10-batches-py"
)


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open("rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as err:  # unpickling garbage raises almost any type
        raise UserError(
            f"{path}: not a CIFAR-10 batch in the python format ({type(err).__name__}); "
            + CIFAR_BY_HAND
        ) from err
    images = data.transpose(0, 2, 3, 1)  # channels last, as keras.datasets returns them
    return images, labels


def load_cifar10_folder(folder: Path):
    """Read CIFAR-10's python-format folder (data_batch_1..5, test_batch)."""
    folder = Path(folder)
    train_files = sorted(folder.glob("data_batch_*"))
    test_file = folder / "test_batch"
    if not train_files or not test_file.is_file():
        raise UserError(
            f"{folder}: not a CIFAR-10 folder (expected data_batch_1..5 and test_batch)"
        )
    parts = [_read_cifar_batch(f) for f in train_files]
    x_test, y_test = _read_cifar_batch(test_file)
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return (x_train, y_train), (x_test, y_test)


def _cifar10(spec: Cifar10Config):
    if spec.source:
        (x_train, y_train), (x_test, y_test) = load_cifar10_folder(Path(spec.source))
    else:  # the tutorial's loader; downloads on first use into ~/.keras/datasets
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
        except Exception as err:  # no network, a proxy, a damaged download: many types
            first = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
            raise UserError(
                "could not download CIFAR-10 (for a dataset of kind cifar10 with an empty source) "
                f"({first}); " + CIFAR_BY_HAND
            ) from err
    x_train = x_train.reshape(len(x_train), -1)[: spec.n_train]
    y_train = np.ravel(y_train)[: spec.n_train]
    n_test = spec.n_samples - spec.n_train
    return x_train, y_train, x_test.reshape(len(x_test), -1)[:n_test], np.ravel(y_test)[:n_test]


def _csv(spec: CsvConfig, root: str | Path):
    """The user's table, split in a stratified way: test_fraction of the rows (rounded up)
    test, the rest train."""
    from sklearn.model_selection import train_test_split

    table = read_table(spec.path, spec.target, spec.features, key="datasets.csv", root=root)
    n_train, n_test = split_sizes(len(table.y), spec.test_fraction)
    try:
        parts = train_test_split(
            table.x,
            table.y,
            train_size=n_train,
            test_size=n_test,
            stratify=table.y,
            random_state=spec.random_state,
        )
    except ValueError as err:  # the check stage's split rule should have caught it first
        raise UserError(f"{spec.path}: cannot split {len(table.y)} rows ({err})") from err
    x_train, x_test, y_train, y_test = parts
    return (x_train, y_train, x_test, y_test), table


def build(spec: DatasetConfig, root: str | Path = ".") -> Dataset:
    """Make one dataset from its configuration (no file I/O except cifar10's source and a
    csv dataset's file, whose path is relative to `root`)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    table = None
    if spec.kind == "blobs":
        x, y = blobs(spec.n_samples, spec.random_state, spec.cluster_std)
        parts = x[: spec.n_train], y[: spec.n_train], x[spec.n_train :], y[spec.n_train :]
    elif spec.kind == "digits":
        x, y = load_digits(return_X_y=True)
        if spec.n_samples > len(x):
            raise UserError(f"n_samples = {spec.n_samples}: digits has only {len(x)} rows")
        x, y = x[: spec.n_samples], y[: spec.n_samples]
        x_tr, x_te, y_tr, y_te = train_test_split(
            x, y, train_size=spec.n_train, stratify=y, random_state=spec.random_state
        )
        parts = x_tr, y_tr, x_te, y_te
    elif spec.kind == "mnist1d":
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.num_samples = spec.n_samples
        args.train_split = spec.n_train / spec.n_samples
        args.seed = spec.random_state
        try:
            d = make_dataset(args)
        except ValueError as err:  # the schema's size rule should have caught it first
            raise UserError(
                f"mnist1d could not make {spec.n_samples} rows with {spec.n_train} for "
                f"training ({err}); raise n_samples and n_train"
            ) from err
        parts = d["x"], d["y"], d["x_test"], d["y_test"]
    elif spec.kind == "csv":
        parts, table = _csv(spec, root)
    else:  # cifar10
        parts = _cifar10(spec)
    x_train, y_train, x_test, y_test = (np.asarray(p) for p in parts)
    x_train, x_test = scale(x_train, x_test, spec.scale, spec.kind)
    n_classes = int(max(y_train.max(), y_test.max()) + 1)
    if table is not None:
        n_classes = len(table.classes)
    return Dataset(
        x_train.astype(np.float32),
        y_train.astype(np.int64),
        x_test.astype(np.float32),
        y_test.astype(np.int64),
        n_classes,
        *((tuple(table.classes), tuple(table.features)) if table is not None else ()),
    )


def scale(x_train, x_test, how: str, kind: str):
    """Scale both splits with statistics of the training split only."""
    if how == "standard":
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)  # constant pixels (digits' borders) stay 0
        return (x_train - mean) / std, (x_test - mean) / std
    if how == "unit":
        top = UNIT_SCALE.get(kind) or float(np.abs(x_train).max()) or 1.0
        return x_train / top, x_test / top
    return x_train, x_test


def save(dataset: Dataset, path: Path) -> None:
    names = {}  # only where there are names: the built-in kinds' files keep their bytes
    if dataset.class_names:
        names["class_names"] = np.array(dataset.class_names, dtype=str)
    if dataset.feature_names:
        names["feature_names"] = np.array(dataset.feature_names, dtype=str)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(
            fh,
            x_train=dataset.x_train,
            y_train=dataset.y_train,
            x_test=dataset.x_test,
            y_test=dataset.y_test,
            n_classes=dataset.n_classes,
            **names,
        )


NAME_KEYS = ("class_names", "feature_names")


def load(path: str | Path) -> Dataset:
    """Load a dataset file; a missing or damaged file is one clear UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found (it is written by `dvc repro data`)")
    try:
        with np.load(path) as f:
            names = [tuple(str(n) for n in f[k]) if k in f else () for k in NAME_KEYS]
            ds = Dataset(
                f["x_train"], f["y_train"], f["x_test"], f["y_test"], int(f["n_classes"]), *names
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise UserError(
            f"{path}: not a readable dataset file ({type(err).__name__}); "
            f"rebuild it with `dvc repro -f data`"
        ) from err
    if ds.x_train.ndim != 2 or len(ds.x_train) != len(ds.y_train):
        raise UserError(f"{path}: arrays have inconsistent shapes; rebuild it")
    return ds
