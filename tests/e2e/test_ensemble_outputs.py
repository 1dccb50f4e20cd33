"""What each ensemble stage of the smoke run wrote (results/ensembles/<method>/), read
back: every arm scored on every repeat, the size sweep, the members' schedule, strict
JSON; and the report's section drawn from those files. The stage runs the method on the
smoke preset and writes its result; reading its files tests both, without training
anything again (the methods' settings and refusals, and the comparison's budget:
tests/studies/test_ensemble_methods.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from layerwise.config import load_params
from layerwise.config.ensembles import ENSEMBLE_METHODS

from ..helpers.strict_json import strict_loads


def strict_json(path):
    return strict_loads(path.read_text(), str(path))


@pytest.mark.parametrize("method", ENSEMBLE_METHODS)
def test_every_arm_is_scored_on_every_repeat(smoke_run, method):
    sub = getattr(load_params(smoke_run.repo / "params.yaml").ensembles, method)
    out = smoke_run.repo / "results/ensembles" / method
    summary = strict_json(out / "summary.json")
    arms = summary["arms"]
    assert arms and summary["repeats"] == sub.repeats
    repeats = pd.read_csv(out / "repeats.csv")
    assert set(repeats["key"]) == set(arms)
    for key, rows in repeats.groupby("key"):
        assert rows["repeat"].tolist() == list(range(sub.repeats)), key
    assert repeats["test_accuracy"].between(0, 1).all() and (repeats["test_nll"] > 0).all()
    for key, arm in arms.items():
        assert arm["member_epochs"] > 0 and arm["test_accuracy"]["n"] == sub.repeats, key
        assert 0 <= arm["diversity"]["min"] <= arm["diversity"]["max"] <= 1, key
    # the size sweep: one member is its own ensemble
    members = pd.read_csv(out / "members.csv")
    assert set(members["repeat"]) == set(range(sub.repeats))
    first = members[members["size"] == 1]
    np.testing.assert_allclose(first["single_accuracy"], first["ensemble_accuracy"])
    assert "size" in pd.read_csv(out / "sweep.csv").columns
    assert len(pd.read_csv(out / "schedule.csv")) == sub.epochs
    # what `dvc exp show` reads: every arm
    assert set(strict_json(out / "metrics.json")["test_accuracy"]) == set(arms)


def test_arms_fitted_on_test_rows_are_labelled_optimistic(smoke_run):
    arms = strict_json(smoke_run.repo / "results/ensembles/weighted_average/summary.json")["arms"]
    assert arms["grid_validation"]["fitted_on"] == "validation"
    assert arms["grid_test"]["fitted_on"] == "test (optimistic)"
    assert "optimistic" in arms["de_test"]["label"]


def test_the_report_section_is_drawn_from_the_stage_outputs(smoke_run, tmp_path):
    from layerwise.reporting.markdown import claim_text
    from layerwise.studies.ensembles.report import ensembles_section

    results = smoke_run.repo / "results"
    ctx = smoke_run.report_context(tmp_path / "figures")
    text = ensembles_section(ctx)
    assert "*Which way of combining networks buys the most accuracy" in text
    assert "| Snapshot ensemble" in text and "published number" in text
    assert (ctx.figures / "ensemble_snapshot_schedule.png").is_file()
    assert (ctx.figures / "ensemble_horizontal_voting_sweep.png").is_file()
    assert "### One budget, every method" in text and "| one model, 12 epochs" in text
    assert "### Each method at its book settings (different data and budgets)" in text
    assert (ctx.figures / "ensemble_compare.png").is_file()
    detail = json.loads((results / "claims/detail.json").read_text())
    for name in ("ensembles.snapshot.vs_single_member", "ensembles.compare.best_vs_runner_up"):
        assert claim_text(detail["claims"][name]) in text
    metrics = json.loads((results / "ensembles" / "snapshot" / "metrics.json").read_text())
    assert set(metrics) == {"repeats", "test_accuracy", "test_nll"}
