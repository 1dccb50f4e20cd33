"""Upper bounds on counts that follow from the data and the machine, checked before any
stage runs: what a dataset holds, the rows a split leaves, and the memory a batch of
replicas trained side by side needs, estimated against this machine's memory."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from layerwise.pipeline.errors import UserError

# what each built-in dataset kind holds: classes, and features per row (a csv dataset's
# come from its file: `layerwise.config` reads them)
CLASSES = {"blobs": 3, "digits": 10, "mnist1d": 10, "cifar10": 10}
FEATURES = {"blobs": 2, "digits": 64, "mnist1d": 40, "cifar10": 3072}


@dataclass(frozen=True)
class DataShape:
    """What the bounds need to know of one dataset."""

    classes: int
    features: int  # per row
    n_train: int  # training rows
    n_test: int  # test rows


def kind_shape(ds) -> DataShape:
    """The shape of a built-in dataset from its config (`DatasetConfig`) alone."""
    return DataShape(CLASSES[ds.kind], FEATURES[ds.kind], ds.n_train, ds.n_samples - ds.n_train)


FLOAT_BYTES = 4
MEMORY_SHARE = 0.5  # of the physical memory: room for TensorFlow, the data and the OS


def memory_limit() -> int:
    """The bytes one stage may plan to use: half of this machine's physical memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        total = 8 * 2**30
    return int(total * MEMORY_SHARE)


def replicas_bytes(replicas: int, rows: int, widths: Sequence[int]) -> int:
    """Estimated peak bytes to train and score `replicas` MLPs of layer widths `widths`
    (input first) side by side on `rows` rows: per replica the parameters with their
    gradient and two optimizer slots, and a scoring pass over every row holding about six
    tensors as wide as the widest layer; the rows themselves once.

    Calibrated on a measurement: 100,000 baseline replicas (2-10-3) scoring 500 rows
    peaked at 10.0 GiB resident (this estimate: 11.3 GiB)."""
    params = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    scoring = 6 * rows * max(widths[1:])
    return FLOAT_BYTES * (replicas * (4 * params + scoring) + rows * widths[0])


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(key: str, value: int, estimate: int, limit: int | None = None) -> None:
    """Refuse a count whose estimated memory exceeds the machine's limit, naming both."""
    limit = memory_limit() if limit is None else limit
    if estimate > limit:
        raise UserError(
            f"{key} = {value} needs about {gib(estimate)} of memory to train side by side "
            f"(allowed: at most {gib(limit)}, half of this machine's memory); lower it"
        )


def check_split(key: str, value, train_rows: int, held_rows: int, batch: int, classes: int):
    """A split must leave one batch of training rows and one held-out row per class."""
    if train_rows < batch or held_rows < classes:
        raise UserError(
            f"{key} = {value} leaves {train_rows} training and {held_rows} held-out rows "
            f"(allowed: at least one batch of {batch} training rows and {classes} held-out "
            "rows, one per class)"
        )


def mlp_widths(shape: DataShape, hidden: Sequence[int], output: int | None = None) -> list[int]:
    """Layer widths, input first, of an MLP on a dataset of `shape` (`output`: the classes
    unless given, e.g. the features for an autoencoder)."""
    return [shape.features, *hidden, shape.classes if output is None else output]


def check_replicas(
    key: str, value, replicas: int, shape: DataShape | None, hidden, output=None, rows=None
) -> None:
    """`check_memory` for `replicas` MLPs trained side by side on a dataset of `shape`
    (None: a dataset whose file was not read here; the check stage has bounded it)."""
    if shape is None:
        return
    rows = max(shape.n_train, shape.n_test) if rows is None else rows
    check_memory(key, value, replicas_bytes(replicas, rows, mlp_widths(shape, hidden, output)))
