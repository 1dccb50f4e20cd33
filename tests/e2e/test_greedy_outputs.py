"""What the greedy stages of the smoke run wrote (results/greedy_supervised/ and
results/greedy_unsupervised/), read back, and the report's section drawn from them. The
stages run the studies on the smoke preset; reading their files tests both without
training again (the studies' switches, settings and refusals:
tests/studies/test_greedy.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from layerwise.config import load_params


def test_the_supervised_study_grows_every_replica_from_the_baseline(smoke_run):
    cfg = load_params(smoke_run.repo / "params.yaml")
    g, R = cfg.greedy.supervised, cfg.baseline.repeats
    out = smoke_run.repo / "results/greedy_supervised"
    replicas = pd.read_csv(out / "replicas.csv")
    counts = replicas.groupby("method")["depth"].agg(["min", "max", "count"])
    assert counts.loc["greedy"].tolist() == [2, 2 + g.additions, R * (g.additions + 1)]
    assert counts.loc["end-to-end"].tolist() == [2, 2 + g.additions, R * (g.additions + 1)]
    assert counts.loc["greedy + fine-tune"].tolist() == [2 + g.additions] * 2 + [R]
    # depth 2 of the greedy run is the baseline itself, untouched
    first = replicas.query("method == 'greedy' and depth == 2")["test_accuracy"].to_numpy()
    base = pd.read_csv(smoke_run.repo / "results/baseline/replicas.csv")
    np.testing.assert_allclose(first, base["test_accuracy"], atol=1e-6)
    assert {"test_accuracy_low", "test_accuracy_high"} <= set(pd.read_csv(out / "depths.csv"))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["greedy"][f"depth_{2 + g.additions}"]["test_accuracy"]["mean"] > 0


def test_the_unsupervised_study_counts_diverged_autoencoders_apart(smoke_run):
    g = load_params(smoke_run.repo / "params.yaml").greedy.unsupervised
    replicas = pd.read_csv(smoke_run.repo / "results/greedy_unsupervised/replicas.csv")
    assert sorted(replicas["depth"].unique()) == list(range(2, 3 + g.additions))
    assert len(replicas) == g.repeats * (g.additions + 1)
    # a diverged autoencoder is counted and its scores left out (empty), never averaged in
    ok = replicas["diverged"] == 0
    assert (replicas.loc[ok, ["train_mse", "test_mse"]] >= 0).all().all()
    assert replicas.loc[ok, "test_accuracy"].between(0, 1).all()
    assert replicas.loc[~ok, ["train_mse", "test_mse"]].isna().all().all()


def test_the_report_section_is_drawn_from_the_stage_outputs(smoke_run, tmp_path):
    from layerwise import report
    from layerwise.studies.greedy.report import greedy_section

    assert greedy_section in report.sections()
    ctx = report.ReportContext(
        cfg=load_params(smoke_run.repo / "params.yaml"),
        results=smoke_run.repo / "results",
        data=smoke_run.repo / "data",
        figures=tmp_path / "figures",
        overrides=[],
    )
    ctx.figures.mkdir()
    text = greedy_section(ctx)
    assert "*Does greedy layer-wise pretraining help these networks, and when?*" in text
    for name in (
        "greedy_supervised_depth.png",
        "greedy_unsupervised_depth.png",
        "greedy_reconstruction.png",
    ):
        assert (ctx.figures / name).stat().st_size > 1000
        assert f"figures/{name}" in text
    assert "end-to-end control" in text and "published" in text
