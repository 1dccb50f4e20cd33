"""Outputs are written through temporary files that a kill can leave behind but nothing
mistakes for an output: one name pattern, ignored by DVC, cleaned by the next stage; and
metrics files that are strict JSON."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import numpy as np
import pytest

from layerwise.pipeline import io
from layerwise.pipeline.errors import UserError

from ..helpers.config import ROOT
from ..helpers.strict_json import strict_loads


def test_temporary_files_match_the_pattern_dvc_ignores(tmp_path, monkeypatch):
    seen = []
    with io.atomic_path(tmp_path / "results" / "x.json") as tmp:
        seen.append(tmp)
        tmp.write_text("{}")

    class Model:  # what save_keras asks of a Keras model
        def save(self, path):
            seen.append(Path(path))
            Path(path).write_bytes(b"zip")

    io.save_keras(Model(), tmp_path / "results" / "model.keras")
    assert len(seen) == 2
    for path in seen:
        assert fnmatch.fnmatch(path.name, io.TEMP_GLOB), path.name
        assert not path.exists()  # renamed onto the output, or removed
    assert io.TEMP_GLOB in (ROOT / ".dvcignore").read_text().split()


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    with pytest.raises(RuntimeError), io.atomic_path(tmp_path / "x.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed halfway")
    assert list(tmp_path.iterdir()) == []


def test_stale_temporary_files_are_removed_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stale = [
        Path("data/.blobs.png.k2j3.tmp"),
        Path("results/timing/.baseline.json.x8a.tmp"),
        Path("results/baseline/.model.keras.q1.tmp.keras"),
    ]
    kept = [Path("data/blobs.npz"), Path("results/timing/baseline.json"), Path("notes/.a.tmp")]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert sorted(io.remove_stale_temps()) == sorted(stale)
    assert all(not p.exists() for p in stale) and all(p.exists() for p in kept)


def test_metrics_json_is_strict_json_with_null_for_nan(tmp_path):
    path = tmp_path / "metrics.json"
    io.write_json(path, {"a": float("nan"), "b": np.float32("inf"), "c": [0.1234567]})
    assert strict_loads(path.read_text(), str(path)) == {
        "a": None,
        "b": None,
        "c": [0.123457],
    }


def test_missing_or_corrupt_source_file_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        io.load_keras(tmp_path / "absent.keras")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"this is not a zip archive")
    with pytest.raises(UserError, match="not a readable .keras model"):
        io.load_keras(broken)
