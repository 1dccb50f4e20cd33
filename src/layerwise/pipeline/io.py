"""Writing outputs so that a killed stage never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from layerwise.pipeline.errors import UserError

_UMASK = os.umask(0)  # the only way to read the umask is to set it, then restore it
os.umask(_UMASK)


# Every temporary file an output is written through: `.<name>.<random>.tmp`, plus a
# suffix where a writer insists on one (Keras: `.keras`). .dvcignore lists the same
# pattern, so a file a killed stage left behind never counts as a change to an output
# folder, and `remove_stale_temps` deletes them when the next stage starts.
TEMP_GLOB = ".*.tmp*"


def remove_stale_temps(folders=("data", "results", "reports")) -> list[Path]:
    """Delete the temporary files that killed stages left under `folders`; return them.

    Safe at a stage's start: DVC runs one stage of a workspace at a time, so no other
    writer can own them."""
    stale = [p for folder in folders for p in Path(folder).rglob(TEMP_GLOB) if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside `path`; rename it onto `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _plain(value):
    """JSON-safe: numpy scalars and arrays become Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        item = value.item()  # numpy scalars keep their full precision, as they always have
        return None if isinstance(item, float) and not math.isfinite(item) else item
    if isinstance(value, float):
        # NaN and inf are not JSON: a statistic of nothing (every repeat diverged) is null
        return round(value, 6) if math.isfinite(value) else None
    return value


def write_json(path: str | Path, data) -> None:
    """Strict JSON (what `dvc exp show` and `python -m json.tool` read): numpy values
    become numbers, floats are rounded to 6 decimals, NaN and inf become null."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(data), indent=2, allow_nan=False) + "\n")


def read_json(path: str | Path):
    """A results file written by `write_json`, as Python values; the null statistics of a
    summary over repeats (one whose every repeat diverged) come back as NaN, so that
    arithmetic on them gives NaN rather than a TypeError. A missing or damaged file is one
    clear UserError naming it."""
    path = Path(path)
    text = _read_text(path)
    try:
        return _nan_summaries(json.loads(text))
    except json.JSONDecodeError as err:
        raise UserError(
            f"{path}: not valid JSON (line {err.lineno}, column {err.colno})" + restore_hint(path)
        ) from err


def _read_text(path: Path) -> str:
    """A results file's text; a missing or unreadable file is one UserError naming it."""
    try:
        return path.read_text()
    except FileNotFoundError as err:
        raise UserError(f"{path}: file not found (it is written by an earlier stage)") from err
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not readable ({type(err).__name__}){restore_hint(path)}") from err


_RESTORE = "; restore it with `dvc checkout {0}` (or rerun its stage: `dvc repro -f <stage>`)"


def is_summary(node) -> bool:
    """Whether a node of a results file is a summary over repeats, as
    `pipeline.stats.summarize` writes it (some tables leave out its `n`)."""
    return isinstance(node, dict) and "mean" in node and "ci_low" in node


def restore_hint(path) -> str:
    """What to do about a damaged results file: the clause every message about one ends with."""
    return _RESTORE.format(path)


def _nan_summaries(node):
    if isinstance(node, dict):
        if is_summary(node):
            return {k: float("nan") if v is None else v for k, v in node.items()}
        return {k: _nan_summaries(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_nan_summaries(v) for v in node]
    return node


def read_csv(path: str | Path) -> pd.DataFrame:
    """A table written by `write_csv`. A missing, truncated or damaged file is one clear
    UserError naming it (a cut-off last line would otherwise read as a row of NaN)."""
    path = Path(path)
    text = _read_text(path)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not text.endswith("\n") or any(len(r) != len(rows[0]) for r in rows):
        raise UserError(
            f"{path}: truncated or damaged CSV (every row must end with a newline and have "
            f"the header's {len(rows[0]) if rows else 0} fields){restore_hint(path)}"
        )
    return pd.read_csv(io.StringIO(text))


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def write_switched_off(folder: str | Path, csv_names: tuple[str, ...]) -> None:
    """The outputs of a study switched off by its `enabled` key: DVC wants every declared
    output to exist, so each CSV of `csv_names` is written empty and metrics.json holds
    {"enabled": false}, which the report reads as the study's absence."""
    folder = Path(folder)
    for name in csv_names:
        write_csv(folder / name, pd.DataFrame())
    write_json(folder / "metrics.json", {"enabled": False})


def save_keras(model, path: str | Path) -> None:
    """model.save, atomically (Keras wants the file name to end in .keras)."""
    with atomic_path(path) as tmp:
        keras_tmp = tmp.with_name(tmp.name + ".keras")  # still matches TEMP_GLOB
        try:
            model.save(keras_tmp)
            keras_tmp.replace(tmp)
        finally:
            keras_tmp.unlink(missing_ok=True)


def load_keras(path: str | Path):
    """keras.models.load_model; a missing or damaged file is one clear UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: model file not found (it is written by an earlier stage)")
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as err:  # Keras raises several types for damaged archives
        first = str(err).splitlines()[0] if str(err) else ""
        raise UserError(
            f"{path}: not a readable .keras model ({type(err).__name__}: {first[:120]})"
            + restore_hint(path)
        ) from err
