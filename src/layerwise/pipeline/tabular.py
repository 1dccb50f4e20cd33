"""A user's own table as a dataset: a CSV file with a header line, one column holding each
row's class and the others (or the ones named) its numeric features.

`read_table` refuses a file the studies cannot use with one line that starts with the
file's name and says what is wrong and what to change. The `check` stage calls it (through
`layerwise.config`) before any stage runs, and the `data` stage again when it builds the
dataset, so both agree on every rule. pandas only: no scikit-learn, no TensorFlow.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from layerwise.pipeline.errors import DataFileError

MIN_PER_CLASS = 2  # one row to train on and one to test on


@dataclass
class Table:
    x: np.ndarray  # [rows, features], float64
    y: np.ndarray  # [rows], the index of each row's class in `classes`
    features: list[str]  # column names, in the order of x's columns
    classes: list[str]  # class names, sorted by the target column's values

    @property
    def counts(self) -> np.ndarray:
        return np.bincount(self.y, minlength=len(self.classes))


def split_sizes(n_rows: int, test_fraction: float) -> tuple[int, int]:
    """(training rows, test rows) of a split that holds out `test_fraction` of the rows,
    rounded up (as scikit-learn rounds a fractional test_size; the product is rounded to
    9 decimals first so that 10 x 0.3 is 3 rows, not 4)."""
    n_test = min(n_rows, math.ceil(round(n_rows * test_fraction, 9)))
    return n_rows - n_test, n_test


def _names(columns: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(repr(c) for c in columns[:limit])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > limit else "")


def _header(path: Path, shown: str) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
    except UnicodeDecodeError as err:
        raise DataFileError(
            f"{shown}: not a UTF-8 text file ({err.reason} at byte {err.start})"
        ) from err
    except csv.Error as err:
        raise DataFileError(f"{shown}: not a CSV file ({err})") from err
    except OSError as err:
        raise DataFileError(f"{shown}: cannot be read ({err.strerror})") from err
    header = [name.strip() for name in header]
    if not any(header):
        raise DataFileError(
            f"{shown}: empty file (allowed: a header line naming the columns, then one line "
            "per row)"
        )
    for i, name in enumerate(header):
        if not name:
            raise DataFileError(f"{shown}: column {i + 1} has no name in the header line")
        if name in header[:i]:
            raise DataFileError(f"{shown}: the header names column {name!r} twice")
    return header


def _class_names(values: np.ndarray) -> list[str]:
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        return [str(int(v)) for v in values]  # 1.0 -> '1'
    return [str(v) for v in values]


def read_table(
    path: str | Path,
    target: str,
    features: Sequence[str] = (),
    *,
    key: str = "datasets.csv",
    root: str | Path = ".",
) -> Table:
    """Read the CSV file at `root / path`: `target` is the class column, `features` the
    numeric columns ([] = every other column). `key` names the configuration entry in the
    hints of the messages."""
    shown, path = str(path), Path(root) / path
    if not path.exists():
        raise DataFileError(
            f"{shown}: file not found (allowed: a CSV file, its path relative to the "
            f"repository root, in {key}.path)"
        )
    if path.is_dir():
        raise DataFileError(f"{shown}: a folder, not a CSV file ({key}.path)")
    header = _header(path, shown)
    if target not in header:
        raise DataFileError(
            f"{shown}: no column {target!r} for {key}.target (columns: {_names(header)})"
        )
    features = list(features) or [c for c in header if c != target]
    for name in features:
        if name == target:
            raise DataFileError(
                f"{shown}: {key}.features names the target column {target!r} (allowed: "
                "other columns)"
            )
        if name not in header:
            raise DataFileError(
                f"{shown}: no column {name!r} for {key}.features (columns: {_names(header)})"
            )
    if not features:
        raise DataFileError(f"{shown}: no column besides the target {target!r} to learn from")
    try:
        with warnings.catch_warnings():
            # more fields than the header names: pandas would drop the extra ones (or, on
            # every row, read the first as an index): a misread file, refused
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, encoding="utf-8-sig", index_col=False)
    except pd.errors.ParserWarning as err:
        raise DataFileError(
            f"{shown}: some rows have more fields than the header line names columns"
        ) from err
    except pd.errors.ParserError as err:
        detail = str(err).strip().splitlines()[-1].removeprefix("Error tokenizing data. ")
        raise DataFileError(f"{shown}: not a well-formed CSV file ({detail})") from err
    except (UnicodeDecodeError, ValueError, pd.errors.EmptyDataError) as err:
        raise DataFileError(f"{shown}: not a readable CSV file ({err})") from err
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataFileError(f"{shown}: no rows below the header line")
    labels = frame[target]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0]) + 1
        raise DataFileError(
            f"{shown}: the target column {target!r} is empty in row {row} (allowed: a class "
            "in every row); fill or drop that row"
        )
    columns = []
    for name in features:
        column = frame[name]
        numbers = pd.to_numeric(column, errors="coerce")
        text = column.notna() & numbers.isna()
        if text.any():
            row = int(np.flatnonzero(text.to_numpy())[0])
            raise DataFileError(
                f"{shown}: feature column {name!r} is not numeric (row {row + 1}: "
                f"{column.iloc[row]!r}); leave it out with {key}.features or encode it as "
                "numbers"
            )
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            what = "is empty" if np.isnan(values[row]) else f"holds {values[row]}"
            raise DataFileError(
                f"{shown}: feature column {name!r} {what} in row {row + 1} (allowed: a "
                "finite number in every cell); fill or drop that row"
            )
        columns.append(values)
    uniques, y = np.unique(labels.to_numpy(), return_inverse=True)
    table = Table(np.stack(columns, axis=1), y.astype(np.int64), features, _class_names(uniques))
    counts = table.counts
    if counts.min() < MIN_PER_CLASS:
        small = int(np.argmin(counts))
        raise DataFileError(
            f"{shown}: class {table.classes[small]!r} of column {target!r} has only "
            f"{counts[small]} row (allowed: at least {MIN_PER_CLASS} rows per class, one to "
            "train and one to test); add rows of that class or drop it"
        )
    return table
