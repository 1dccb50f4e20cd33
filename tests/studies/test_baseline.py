"""The baseline study on the smoke preset, on every dataset it supports."""

import numpy as np
import pytest

from layerwise.studies.baseline import run as baseline

from ..helpers.config import compose_config

pytestmark = pytest.mark.train  # trains networks: `make test` runs it, `make check` does not


# blobs is the smoke run's baseline stage (tests/e2e/test_smoke_pipeline.py), and the data
# stage builds mnist1d there: both make test-all; digits (64 features, 10 classes) stays
@pytest.mark.parametrize(
    "dataset",
    [
        pytest.param("blobs", marks=pytest.mark.slow),
        "digits",
        pytest.param("mnist1d", marks=pytest.mark.slow),
    ],
)
def test_baseline_follows_the_data(datasets, dataset):
    cfg = compose_config("experiment=smoke", f"data={dataset}")
    data = datasets[dataset]
    result = baseline.run(cfg, data, progress=False)
    assert result.model.input_dim == data.n_features
    assert result.model.layers[-1].units == data.n_classes
    assert len(result.replicas) == cfg.baseline.repeats
    assert len(result.curves) == cfg.baseline.epochs
    for key in ("train_accuracy", "test_accuracy"):
        summary = result.metrics[key]
        assert summary["ci_low"] <= summary["mean"] <= summary["ci_high"]
        assert summary["min"] <= summary["mean"] <= summary["max"]
    # the per-replica table agrees with the last epoch of the curves
    np.testing.assert_allclose(
        result.replicas["test_accuracy"].mean(), result.curves["test_accuracy"].iloc[-1], atol=1e-6
    )


def test_baseline_learns_blobs(datasets):
    """A few more epochs than smoke: well above chance (1/3) on the reference problem."""
    cfg = compose_config("experiment=smoke", "baseline.epochs=20")
    result = baseline.run(cfg, datasets["blobs"], progress=False)
    assert result.metrics["test_accuracy"]["mean"] > 0.7
