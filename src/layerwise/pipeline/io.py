"""Writing outputs so that a killed stage never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import json
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
        return value.item()
    if isinstance(value, float):
        return round(value, 6)
    return value


def write_json(path: str | Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(data), indent=2) + "\n")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


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
            f"{path}: not a readable .keras model ({type(err).__name__}: {first[:120]}); "
            "rebuild it with its stage (dvc repro -f <stage>)"
        ) from err
