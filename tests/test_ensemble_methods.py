"""The seven ensemble methods on the smoke preset, their settings, and bad values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from layerwise import ensemble_methods as em
from layerwise.core import cosine_annealing, cycle_ends
from layerwise.errors import UserError
from layerwise.io import _plain

from .conftest import compose_config


@pytest.mark.parametrize("method", em.METHODS)
def test_method_runs_on_smoke_preset(method, smoke_cfg, datasets):
    sub = getattr(smoke_cfg.ensembles, method)
    result = em.run(smoke_cfg, method, datasets, progress=False)
    assert result.arms
    for arm in result.arms:
        assert arm.accuracy.shape == (sub.repeats,)
        assert np.all((arm.accuracy >= 0) & (arm.accuracy <= 1))
        assert np.all(arm.nll > 0) and np.all(arm.member_epochs > 0)
        assert np.all((arm.diversity >= 0) & (arm.diversity <= 1))
    members = result.members
    assert set(members["repeat"]) == set(range(sub.repeats))
    first = members[members["size"] == 1]
    np.testing.assert_allclose(first["single_accuracy"], first["ensemble_accuracy"])
    assert len(result.schedule) == sub.epochs
    summary = result.metrics(smoke_cfg)
    json.dumps(_plain(summary))  # summary.json is writable
    compact = em.compact_metrics(summary)
    assert set(compact["test_accuracy"]) == {arm.key for arm in result.arms}
    assert "size" in result.sweep_table()


def test_optimistic_arms_are_labelled(smoke_cfg, datasets):
    result = em.run(smoke_cfg, "weighted_average", datasets, progress=False)
    fitted = {arm.key: arm.fitted_on for arm in result.arms}
    assert fitted["grid_validation"] == "validation"
    assert fitted["grid_test"] == "test (optimistic)"
    assert "optimistic" in next(a.label for a in result.arms if a.key == "de_test")


def test_validation_split_is_disjoint_from_training_and_test(datasets):
    data = datasets["ensemble_1100"]
    splits = em.validation_splits(data, "train", 0.2, repeats=3, seed=0)
    assert splits.train.shape == (3, 80) and splits.val.shape == (3, 20)
    for train, val in zip(splits.train, splits.val, strict=True):
        assert not set(train) & set(val)
    splits = em.validation_splits(data, "test", 0.2, repeats=2, seed=0)
    assert splits.train.shape == (2, 100) and splits.test.shape == (2, 800)
    assert not set(splits.test[0]) & set(splits.val[0])


def test_validation_from_test_and_random_horizontal_members(datasets):
    cfg = compose_config(
        "experiment=smoke",
        "ensembles.stacking.validation_from=test",
        "ensembles.horizontal_voting.selection=random",
    )
    stacked = em.run(cfg, "stacking", datasets, progress=False)
    assert stacked.extra["training_rows"] == 100
    voted = em.run(cfg, "horizontal_voting", datasets, progress=False)
    assert voted.extra["kept_epochs"] == [3, 4, 5, 6]  # the window; members drawn from it


def test_cosine_annealing_schedule():
    schedule = cosine_annealing(epochs=500, cycles=10, lr_max=0.01)
    assert schedule(0) == pytest.approx(0.01)
    assert schedule(25) == pytest.approx(0.005)
    assert schedule(50) == pytest.approx(0.01)  # warm restart
    assert schedule(49) == pytest.approx(0.005 * (math.cos(math.pi * 49 / 50) + 1))
    assert cycle_ends(500, 10) == [49, 99, 149, 199, 249, 299, 349, 399, 449, 499]
    with pytest.raises(ValueError, match="cycles = 0"):
        cosine_annealing(epochs=500, cycles=0, lr_max=0.01)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "ensembles.model_averaging.ensemble_size=30",
            "ensembles.model_averaging.ensemble_size = 30 is not possible .*at most n_members",
        ),
        ("ensembles.weighted_average.n_weighted=11", "n_weighted = 11 is not possible"),
        ("ensembles.weighted_average.grid_step=0.3", "grid_step = 0.3 is not possible .*divides 1"),
        ("ensembles.snapshot.cycles=0", r"ensembles.snapshot.cycles = 0 is out of range"),
        ("ensembles.snapshot.cycles=600", "cycles = 600 is not possible"),
        ("ensembles.horizontal_voting.n_members=2000", "n_members = 2000 is not possible"),
        ("ensembles.stacking.dataset=nope", "dataset = 'nope' is not possible"),
        ("ensembles.stacking.meta_learner=svm", "meta_learner = 'svm' is not allowed"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(override, message):
    with pytest.raises(UserError, match=message):
        compose_config(override)


def test_unknown_method_is_refused(smoke_cfg):
    with pytest.raises(UserError, match="unknown ensemble method 'boosting'"):
        em.run(smoke_cfg, "boosting", {})


def test_report_section_reads_the_stage_outputs(smoke_cfg, datasets, tmp_path):
    from layerwise.report import ReportContext
    from layerwise.report_ensembles import ensembles_section

    for method in ("horizontal_voting", "snapshot"):
        result = em.run(smoke_cfg, method, datasets, progress=False)
        em.write_results(result, smoke_cfg, tmp_path / "results" / "ensembles" / method)
    ctx = ReportContext(
        smoke_cfg, tmp_path / "results", tmp_path / "data", tmp_path / "figures", overrides=[]
    )
    ctx.figures.mkdir()
    text = ensembles_section(ctx)
    assert "*Which way of combining networks buys the most accuracy" in text
    assert "| Snapshot ensemble" in text and "published number" in text
    assert (ctx.figures / "ensemble_snapshot_schedule.png").is_file()
    assert (ctx.figures / "ensemble_horizontal_voting_sweep.png").is_file()
    metrics = json.loads((ctx.results / "ensembles" / "snapshot" / "metrics.json").read_text())
    assert set(metrics) == {"repeats", "test_accuracy", "test_nll"}


def test_stage_refuses_an_unknown_method_in_one_line():
    import subprocess
    import sys

    from .conftest import ROOT

    result = subprocess.run(
        [sys.executable, "stages/ensemble.py", "boosting"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "error: unknown ensemble method 'boosting' (allowed: model_averaging" in result.stderr


def test_snapshot_size_is_chosen_on_validation_rows(smoke_cfg, datasets, monkeypatch):
    """The default picks the size on rows carved from the training data; the test-picked
    size is only the labelled-optimistic arm."""
    from layerwise import ensembles as comb

    seen = []
    choose = comb.choose_size

    def spy(probs, labels):
        seen.append(labels)
        return choose(probs, labels)

    monkeypatch.setattr(comb, "choose_size", spy)
    data = datasets[smoke_cfg.ensembles.snapshot.dataset]
    result = em.run(smoke_cfg, "snapshot", datasets, progress=False)
    arms = {arm.key: arm for arm in result.arms}
    assert arms["best_size_validation"].fitted_on == "validation"
    assert arms["best_size_test"].fitted_on == "test (optimistic)"
    assert "optimistic" in arms["best_size_test"].label
    on_validation, on_test = seen
    n_val = result.extra["validation_rows"]
    assert on_validation.shape == (2, n_val) and n_val == 20
    assert on_test.shape == (2, len(data.y_test))
    assert result.extra["training_rows"] == len(data.y_train) - n_val
    splits = em.validation_splits(data, "train", 0.2, 2, em.method_seed(smoke_cfg, "snapshot"))
    np.testing.assert_array_equal(on_validation, data.y_train[splits.val])
