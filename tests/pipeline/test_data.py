"""Datasets: the references' problems exactly, scaling from training rows, clear file errors."""

import numpy as np
import pytest

from layerwise.pipeline import data
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.schema import Cifar10Config
from layerwise.pipeline.tabular import read_table, split_sizes

from ..helpers.commands import ROOT


def test_blobs_split_by_row_order(datasets):
    ds = datasets["blobs"]
    x, y = data.blobs(1000, random_state=2)
    np.testing.assert_allclose(ds.x_train, x[:500].astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, y[500:])
    assert ds.n_classes == 3 and ds.n_features == 2


def test_every_configured_dataset_has_its_sizes(smoke_cfg, datasets):
    for name, spec in smoke_cfg.datasets.items():
        ds = datasets[name]
        if spec.kind == "csv":  # the file's rows, split by test_fraction
            rows = len(read_table(spec.path, spec.target, spec.features, root=ROOT).y)
            assert (len(ds.x_train), len(ds.x_test)) == split_sizes(rows, spec.test_fraction)
            continue
        assert len(ds.x_train) == spec.n_train, name
        assert len(ds.x_train) + len(ds.x_test) == spec.n_samples, name
    assert datasets["digits"].n_features == 64 and datasets["digits"].n_classes == 10
    assert datasets["mnist1d"].n_features == 40 and datasets["mnist1d"].n_classes == 10


def test_standard_scaling_uses_training_rows_only(datasets):
    ds = datasets["digits"]
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    assert abs(ds.x_test.mean()) > 1e-4  # test rows are not re-centred on themselves


def test_cifar10_folder_in_the_python_format(tmp_path):
    """The real CIFAR-10 reader on a tiny folder in the same on-disk format."""
    import pickle

    rng = np.random.default_rng(0)
    for name, n in [("data_batch_1", 6), ("data_batch_2", 4), ("test_batch", 5)]:
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": list(rng.integers(0, 10, n)),
        }
        with open(tmp_path / name, "wb") as fh:
            pickle.dump(batch, fh)
    spec = Cifar10Config(n_samples=12, n_train=8, scale="unit", source=str(tmp_path))
    ds = data.build(spec)
    assert ds.x_train.shape == (8, 3072) and ds.x_test.shape == (4, 3072)
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0
    (tmp_path / "test_batch").unlink()
    with pytest.raises(UserError, match="not a CIFAR-10 folder"):
        data.build(spec)


def test_save_load_round_trip_and_bad_files(tmp_path, datasets):
    path = tmp_path / "blobs.npz"
    data.save(datasets["blobs"], path)
    loaded = data.load(path)
    np.testing.assert_array_equal(loaded.x_test, datasets["blobs"].x_test)
    with pytest.raises(UserError, match="missing.npz: file not found"):
        data.load(tmp_path / "missing.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"\x00garbage")
    with pytest.raises(UserError, match="corrupt.npz: not a readable dataset file"):
        data.load(tmp_path / "corrupt.npz")


def test_building_again_gives_the_same_bytes(smoke_cfg, datasets, tmp_path):
    """The data stage is deterministic: every dataset of the smoke preset, built a second
    time, is written to the same bytes (what lets `dvc repro -f data` change nothing
    downstream)."""
    for name, spec in smoke_cfg.datasets.items():
        first, second = tmp_path / f"{name}.npz", tmp_path / f"{name}.again.npz"
        data.save(datasets[name], first)
        data.save(data.build(spec, ROOT), second)
        assert first.read_bytes() == second.read_bytes(), name
