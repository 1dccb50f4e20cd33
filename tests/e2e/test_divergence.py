"""A run that diverges is a result, not an error: the stage ends normally, metrics.json
stays strict JSON (null statistics plus a count), and the report says what happened."""

from __future__ import annotations

import sys

from ..helpers.commands import edit_params, run
from ..helpers.strict_json import strict_loads


def test_a_diverged_baseline_is_counted_in_strict_json(stage_repo):
    edit_params(stage_repo, lambda p: p["optimizer"].update(learning_rate=1e6))
    run([sys.executable, "stages/baseline.py"], stage_repo)
    metrics = strict_loads((stage_repo / "results/baseline/metrics.json").read_text())
    n = metrics["n_replicas"]
    for key in ("train_accuracy", "test_accuracy", "train_loss", "test_loss"):
        assert metrics[key]["n"] == 0 and metrics[key]["diverged"] == n, metrics[key]
        assert metrics[key]["mean"] is None and metrics[key]["ci_low"] is None
    # the report's section on it: no statement about a model that does not exist
    from layerwise.config import load_params
    from layerwise.reporting.markdown import ReportContext
    from layerwise.studies.baseline.report import baseline_section

    figures = stage_repo / "reports/figures"
    figures.mkdir(parents=True)
    ctx = ReportContext(
        load_params(stage_repo / "params.yaml"),
        stage_repo / "results",
        stage_repo / "data",
        figures,
        [],
    )
    text = baseline_section(ctx)
    assert f"Every one of the {n} replicas diverged" in text
    assert "neither overfits" not in text and "nan" not in text.lower().replace("inf/nan", "")
    assert f"({n} of {n} diverged)" in text
