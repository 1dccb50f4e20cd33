"""The rules for the `datasets` section: each entry typed by its kind (the keys that kind
reads and no other), splits that leave a row per class on each side, and the user's own
CSV file, whose classes, features and rows come from the file itself.

A built-in kind's shape follows from its config (`pipeline.budget.kind_shape`). A csv
dataset's cannot: `dataset_shapes` reads the file (`pipeline.tabular.read_table`) when
given the folder its path is relative to. The `check` stage does so, and dvc.yaml makes
the file a dependency of `check` as well as of `data`, so an edit to the file reruns the
check first and a file the studies cannot use is refused before DVC deletes any stage's
outputs. The other stages leave the file alone (it is not among their dependencies):
they pass no folder, and every bound that needs the file's content skips that dataset.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path, PurePosixPath

from layerwise.pipeline.budget import CLASSES, DataShape, kind_shape
from layerwise.pipeline.errors import DataFileError, UserError
from layerwise.pipeline.schema import DATASET_KINDS, DatasetConfig, dataset_config
from layerwise.pipeline.tabular import read_table, split_sizes

# the one dataset that may read a CSV file: dvc.yaml tracks `datasets.csv.path`
CSV_DATASET = "csv"
# folders the pipeline writes (DVC deletes them before their stage runs): no input there
OUTPUT_FOLDERS = ("data", "results", "reports")


def dataset_configs(raw: dict) -> dict[str, DatasetConfig]:
    """Each entry of the `datasets` section as its kind's dataclass
    (`pipeline.schema.dataset_config`), after the rule that only `datasets.csv` is of
    kind csv: dvc.yaml tracks that entry's file (`${datasets.csv.path}`)."""
    typed = {}
    for name, entry in raw.items():
        kind = entry.get("kind") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and "kind" not in entry:  # often a misspelt name
            named = [n for n, e in raw.items() if isinstance(e, dict) and "kind" in e]
            raise UserError(
                f"key 'datasets.{name}.kind' is missing (allowed: {', '.join(DATASET_KINDS)}, "
                f"with that kind's keys; the datasets that have one: {', '.join(named)})"
            )
        if kind == "csv" and name != CSV_DATASET:
            raise UserError(
                f"datasets.{name}.kind = 'csv' is only allowed for datasets.{CSV_DATASET}, the "
                f"dataset whose file dvc.yaml tracks (allowed: set datasets.{CSV_DATASET}.path "
                "instead)"
            )
        if name == CSV_DATASET and kind not in (None, "csv"):
            raise UserError(
                f"datasets.{CSV_DATASET}.kind = {kind!r} is not allowed (allowed: csv; "
                f"dvc.yaml tracks datasets.{CSV_DATASET}.path, the file it reads)"
            )
        typed[name] = dataset_config(name, entry)
    return typed


def check_dataset_entries(cfg) -> None:
    """Each entry's rules that need no file: a split of a built-in kind that leaves rows
    per class on each side; for the csv entry, a path inside the repository and outside
    the output folders, and a target column."""
    for name, ds in cfg.datasets.items():
        if ds.kind == "csv":
            _check_csv_entry(name, ds)
            continue
        if ds.n_train >= ds.n_samples:
            raise UserError(
                f"datasets.{name}.n_train = {ds.n_train} leaves no test rows "
                f"(allowed: less than n_samples = {ds.n_samples})"
            )
        classes = CLASSES[ds.kind]
        if min(ds.n_train, ds.n_samples - ds.n_train) < classes:
            raise UserError(
                f"datasets.{name}: n_samples = {ds.n_samples} with n_train = {ds.n_train} "
                f"is too small to split (allowed: at least {classes} training and {classes} "
                f"test rows, one per class of {ds.kind})"
            )


def _check_csv_entry(name: str, ds) -> None:
    key = f"datasets.{name}"
    example = "such as datasets/mine.csv"
    if not ds.path.strip():
        raise UserError(f"{key}.path is empty (allowed: a CSV file, {example})")
    normal = os.path.normpath(ds.path)
    if os.path.isabs(ds.path) or normal == ".." or normal.startswith(".." + os.sep):
        raise UserError(
            f"{key}.path = {ds.path!r} is not inside the repository (allowed: a path "
            f"relative to the repository root, {example})"
        )
    top = PurePosixPath(Path(normal).as_posix()).parts[0]
    if top in OUTPUT_FOLDERS:
        raise UserError(
            f"{key}.path = {ds.path!r} is inside {top}/, which the pipeline writes (allowed: "
            f"a file outside {', '.join(f + '/' for f in OUTPUT_FOLDERS)}, {example})"
        )
    if not ds.target.strip():
        raise UserError(
            f"{key}.target is empty (allowed: the name of the column holding each row's class)"
        )


def dataset_shapes(cfg, root: str | Path | None) -> dict[str, DataShape]:
    """Every dataset's shape: a built-in kind's from its config, a csv dataset's from its
    file under `root` (left out when `root` is None)."""
    shapes = {}
    for name, ds in cfg.datasets.items():
        if ds.kind != "csv":
            shapes[name] = kind_shape(ds)
        elif root is not None:
            shapes[name] = csv_shape(name, ds, root)
    return shapes


def csv_shape(name: str, ds, root: str | Path) -> DataShape:
    """Read the file and check that its split leaves a row of every class on each side."""
    key = f"datasets.{name}"
    table = read_table(ds.path, ds.target, ds.features, key=key, root=root)
    rows, classes = len(table.y), len(table.classes)
    n_train, n_test = split_sizes(rows, ds.test_fraction)
    if min(n_train, n_test) < classes:
        raise DataFileError(
            f"{ds.path}: its {rows} rows split with {key}.test_fraction = {ds.test_fraction} "
            f"leave {n_train} training and {n_test} test rows for {classes} classes (allowed: "
            "at least one row per class on each side); change test_fraction or add rows"
        )
    return DataShape(classes, len(table.features), n_train, n_test)


def batch_sizes(cfg, name: str) -> list[tuple[str, int]]:
    """(key, batch size) of every study that trains on dataset `name`."""
    found = []
    if cfg.data.name == name:
        g = cfg.greedy
        found += [
            ("baseline.batch_size", cfg.baseline.batch_size),
            ("greedy.supervised.batch_size", g.supervised.batch_size),
            ("greedy.unsupervised.batch_size", g.unsupervised.batch_size),
        ]
        if g.activations.enabled:
            found.append(("greedy.activations.batch_size", g.activations.batch_size))
        if g.depth_selection.enabled:
            found.append(("greedy.depth_selection.batch_size", g.depth_selection.batch_size))
    few = cfg.greedy.few_labels
    if few.enabled and name in few.datasets:
        found.append(("greedy.few_labels.batch_size", few.batch_size))
    t = cfg.transfer
    if any(p.dataset == name for p in t.source.problems.values()):
        found.append(("transfer.source.batch_size", t.source.batch_size))
    if any(c.dataset == name for c in t.cases.values()):
        found.append(("transfer.batch_size", t.batch_size))
    for method in (f.name for f in dataclasses.fields(cfg.ensembles)):
        sub = getattr(cfg.ensembles, method)
        if name in (sub.dataset, getattr(sub, "single_dataset", None)):
            found.append((f"ensembles.{method}.batch_size", sub.batch_size))
    return found


def check_csv_batches(cfg, shapes: dict[str, DataShape]) -> None:
    """A csv file leaves at least one batch of training rows for every study on it."""
    for name, ds in cfg.datasets.items():
        if ds.kind != "csv" or name not in shapes:
            continue
        used = batch_sizes(cfg, name)
        if not used:
            continue
        key, batch = max(used, key=lambda item: item[1])
        shape = shapes[name]
        if shape.n_train < batch:
            raise DataFileError(
                f"{ds.path}: its {shape.n_train + shape.n_test} rows leave {shape.n_train} "
                f"training rows, fewer than {key} = {batch} (allowed: at least one batch); "
                f"add rows, or lower datasets.{name}.test_fraction or {key}"
            )
