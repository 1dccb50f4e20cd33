"""The ensemble methods' settings (validation rows, member choice, the comparison under one
budget) and bad values. What each method's stage writes on the smoke preset, and the
report's section drawn from it: tests/e2e/test_ensemble_outputs.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import _plain
from layerwise.pipeline.seeds import seed_for
from layerwise.studies.ensembles import members, stacking
from layerwise.studies.ensembles import methods as em
from layerwise.studies.ensembles.results import compact_metrics

from ..helpers.commands import stage_folder
from ..helpers.config import compose_config

pytestmark = pytest.mark.train  # trains networks: `make test` runs it, `make check` does not


def test_validation_split_is_disjoint_from_training_and_test(datasets):
    data = datasets["ensemble_1100"]
    splits = members.validation_splits(data, "train", 0.2, repeats=3, seed=0)
    assert splits.train.shape == (3, 80) and splits.val.shape == (3, 20)
    for train, val in zip(splits.train, splits.val, strict=True):
        assert not set(train) & set(val)
    splits = members.validation_splits(data, "test", 0.2, repeats=2, seed=0)
    assert splits.train.shape == (2, 100) and splits.test.shape == (2, 800)
    assert not set(splits.test[0]) & set(splits.val[0])


@pytest.mark.slow  # the default tier: both methods at the preset's settings, in the smoke
# run (tests/e2e/test_ensemble_outputs.py), and validation rows taken from the test rows
# (test_validation_split_is_disjoint_from_training_and_test)
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


def test_stage_refuses_an_unknown_method_in_one_line(tmp_path):
    import subprocess
    import sys

    # in a folder of its own: a stage deletes stale temporary files before it checks
    folder = stage_folder(tmp_path, "ensemble")
    result = subprocess.run(
        [sys.executable, "stages/ensemble.py", "boosting"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "error: unknown ensemble method 'boosting' (allowed: model_averaging" in result.stderr


def test_snapshot_size_is_chosen_on_validation_rows(smoke_cfg, datasets, monkeypatch):
    """The default picks the size on 20% of the test rows, held out from the test score
    (the runs keep the book's training rows); the test-picked size is only the
    labelled-optimistic arm."""
    from layerwise.studies.ensembles import combiners as comb

    seen = []
    choose = comb.choose_size

    def spy(probs, labels):
        seen.append(labels)
        return choose(probs, labels)

    monkeypatch.setattr(comb, "choose_size", spy)
    sub = smoke_cfg.ensembles.snapshot
    assert (sub.validation_from, sub.validation_fraction) == ("test", 0.2)
    data = datasets[sub.dataset]
    result = em.run(smoke_cfg, "snapshot", datasets, progress=False)
    arms = {arm.key: arm for arm in result.arms}
    assert arms["best_size_validation"].fitted_on == "validation"
    assert arms["best_size_test"].fitted_on == "test (optimistic)"
    assert "optimistic" in arms["best_size_test"].label
    on_validation, on_test = seen
    n_val = result.extra["validation_rows"]
    assert n_val == round(0.2 * len(data.y_test))
    assert on_validation.shape == (2, n_val)
    assert on_test.shape == (2, len(data.y_test) - n_val)  # validation rows are not scored
    assert result.extra["training_rows"] == len(data.y_train)
    splits_seed = seed_for(members.method_seed(smoke_cfg, "snapshot"), "splits")
    splits = members.validation_splits(data, "test", 0.2, 2, splits_seed)
    np.testing.assert_array_equal(on_validation, data.y_test[splits.val])
    for r in range(2):
        assert not set(splits.val[r]) & set(splits.test[r])


# -- one budget, every method (stage ensemble_compare) ----------------------------------

COMPARE_ROWS = [
    "single_member",
    "single_model",
    "averaging",
    "bagging",
    "weighted_average",
    "stacking_meta",
    "stacking_network",
    "horizontal_voting",
    "snapshot",
    "snapshot_validation",
    "weight_averaging",
]


@pytest.fixture(scope="module")
def compare_run(smoke_cfg, datasets):
    """The compare study on the smoke preset, with every training run and every combiner
    fit recorded: (result, fits, labels each combiner was fitted on)."""
    from layerwise.engine import ReplicaMLP
    from layerwise.studies.ensembles import combiners as comb
    from layerwise.studies.ensembles import compare as ensemble_compare

    fits, seen = [], {}
    fit = ReplicaMLP.fit

    def recording_fit(model, x, y, **kwargs):
        index = kwargs.get("train_index")
        fits.append(
            {
                "replicas": model.n_replicas,
                "epochs": kwargs["epochs"],
                "input_dim": model.input_dim,
                "rows": len(x),
                "train_index": None if index is None else np.asarray(index),
            }
        )
        return fit(model, x, y, **kwargs)

    def recording(name, function, labels_at):
        def spy(*args, **kwargs):
            seen.setdefault(name, []).append(np.asarray(args[labels_at]))
            return function(*args, **kwargs)

        return spy

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ReplicaMLP, "fit", recording_fit)
        patch.setattr(comb, "grid_search_weights", recording("grid", comb.grid_search_weights, 1))
        patch.setattr(comb, "fit_meta_learner", recording("meta", comb.fit_meta_learner, 1))
        patch.setattr(comb, "choose_size", recording("size", comb.choose_size, 1))
        patch.setattr(stacking, "integrated_head", recording("head", stacking.integrated_head, 2))
        data = datasets[smoke_cfg.ensembles.compare.dataset]
        result = ensemble_compare.run(smoke_cfg, data, progress=False)
    return result, fits, seen


def test_compare_runs_every_method_on_the_smoke_preset(compare_run, smoke_cfg):
    sub = smoke_cfg.ensembles.compare
    result, _, _ = compare_run
    assert [row.arm.key for row in result.rows] == COMPARE_ROWS
    for row in result.rows:
        arm = row.arm
        assert arm.accuracy.shape == (sub.repeats,)
        assert np.all((arm.accuracy > 0) & (arm.accuracy <= 1)) and np.all(arm.nll > 0)
        assert np.all((arm.diversity >= 0) & (arm.diversity <= 1))
    sizes = {row.arm.key: row.arm.n_members for row in result.rows}
    assert sizes["averaging"] == sizes["stacking_network"] == sizes["snapshot"] == sub.n_members
    assert sizes["horizontal_voting"] == sub.horizontal_members
    assert sizes["weight_averaging"] == sub.n_checkpoints
    assert list(result.table()["key"]) == COMPARE_ROWS
    metrics = compact_metrics(result.summary())
    assert set(metrics["test_accuracy"]) == set(COMPARE_ROWS)
    json.dumps(_plain(result.summary()))  # summary.json is writable
    assert len(result.repeats_table()) == sub.repeats * len(COMPARE_ROWS)


def test_compare_every_method_spends_exactly_the_budget(compare_run, smoke_cfg):
    sub = smoke_cfg.ensembles.compare
    R, M, B = sub.repeats, sub.n_members, sub.budget
    E = B // M
    result, fits, _ = compare_run
    cost = {row.arm.key: row.arm.member_epochs for row in result.rows}
    assert cost.pop("single_member") == E
    assert set(cost.values()) == {B}
    # what was trained: members of E epochs (every row + bootstrap, then the validation
    # methods' members) and three single networks of B epochs (constant rate, two annealed)
    members = sorted((f["epochs"], f["replicas"]) for f in fits if f["input_dim"] == 2)
    assert members == [(E, R * M), (E, 2 * R * M), (B, R), (B, R), (B, R)]
    head = [f for f in fits if f["input_dim"] != 2]
    assert [(f["epochs"], f["input_dim"]) for f in head] == [(sub.head_epochs, 3 * M)]


def test_compare_fits_combiners_on_validation_rows_never_on_test(compare_run, datasets):
    result, fits, seen = compare_run
    data = datasets["ensemble_1100"]
    splits = result.splits
    n_val = splits.val.shape[1]
    for train, val in zip(splits.train, splits.val, strict=True):
        assert not set(train) & set(val)  # validation rows are not member training rows
        assert sorted([*train, *val]) == list(range(len(data.y_train)))
    validation_labels = data.y_train[splits.val]  # [R, n_val]: rows of the training data
    for name in ("grid", "meta"):  # one fit per repeat
        assert len(seen[name]) == len(splits.val)
        for labels, expected in zip(seen[name], validation_labels, strict=True):
            np.testing.assert_array_equal(labels, expected)
    np.testing.assert_array_equal(seen["head"][0], validation_labels)
    (sizes_on,) = seen["size"]
    np.testing.assert_array_equal(sizes_on, validation_labels)
    # members train on training-data rows only; the runs without the validation rows
    # (the validation methods' members, the annealed run) train on the members' rows only
    members = [f for f in fits if f["input_dim"] == 2]
    assert all(f["rows"] == len(data.y_train) for f in members)
    n_fit = len(data.y_train) - n_val
    reduced = [f for f in members if f["train_index"] is not None]
    reduced = [f for f in reduced if f["train_index"].shape[1] == n_fit]
    assert len(reduced) == 2  # the validation methods' members and the annealed run
    for f in reduced:
        for rows in f["train_index"]:
            repeat = next(r for r in range(len(splits.train)) if set(rows) == set(splits.train[r]))
            assert not set(rows) & set(splits.val[repeat])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"budget": 1001}, "ensembles.compare.budget = 1001 is not possible (allowed: a multiple"),
        (
            {"n_members": 1},
            "ensembles.compare.n_members = 1 is out of range (allowed: a number >= 2)",
        ),
        (
            {"horizontal_members": 2000},
            "ensembles.compare.horizontal_members = 2000 is not possible (allowed: at most budget",
        ),
    ],
    ids=["budget-not-divisible", "one-member", "horizontal-longer-than-run"],
)
def test_compare_stage_refuses_bad_values_in_one_line(edit, message, tmp_path):
    import subprocess
    import sys

    from ..helpers.commands import edit_params

    folder = stage_folder(tmp_path, "ensemble_compare")
    edit_params(folder, lambda params: params["ensembles"]["compare"].update(edit))
    result = subprocess.run(
        [sys.executable, "stages/ensemble_compare.py", "--params", "params.yaml"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_compare_grid_too_large_for_many_members_is_refused():
    with pytest.raises(UserError, match="compare.grid_step = 0.1 is not possible .*coarser step"):
        compose_config("ensembles.compare.n_members=10")
    compose_config("ensembles.compare.n_members=10", "ensembles.compare.grid_step=0.5")


def test_every_ensembles_sub_section_is_a_method_or_the_comparison():
    import dataclasses

    from layerwise.config.ensembles import ENSEMBLE_METHODS, EnsemblesConfig

    names = [f.name for f in dataclasses.fields(EnsemblesConfig)]
    assert names == [*ENSEMBLE_METHODS, "compare"]
