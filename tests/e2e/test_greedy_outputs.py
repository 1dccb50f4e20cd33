"""What the greedy stages of the smoke run wrote (results/greedy_*/), read back, and the
report's section drawn from them. The stages run the studies on the smoke preset; reading
their files tests both without training again (the studies' switches, settings and
refusals, and what needs other settings than the preset's: tests/studies/test_greedy.py)."""

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


def test_the_activation_study_scores_every_arm_and_measures_its_gradients(smoke_run):
    a = load_params(smoke_run.repo / "params.yaml").greedy.activations
    out = smoke_run.repo / "results/greedy_activations"
    replicas = pd.read_csv(out / "replicas.csv")
    assert "sigmoid" in a.names
    assert list(dict.fromkeys(replicas["activation"])) == a.names
    assert set(replicas["method"]) == {"greedy", "end-to-end"}
    assert len(replicas) == len(a.names) * 2 * (a.additions + 1) * a.repeats
    grads = pd.read_csv(out / "gradients.csv")
    assert grads["layer"].max() == a.gradient_depth + 1 and (grads["gradient_norm"] > 0).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert "gradient_ratio_first_to_last" in metrics["sigmoid"]


def test_the_depth_study_chooses_a_depth_within_its_budget(smoke_run):
    d = load_params(smoke_run.repo / "params.yaml").greedy.depth_selection
    out = smoke_run.repo / "results/greedy_depth"
    replicas = pd.read_csv(out / "replicas.csv")
    assert set(replicas["setting"]) == {"validation", "subsample"}
    assert len(replicas) == 2 * d.repeats
    assert replicas["chosen_depth"].between(2, 2 + d.max_additions).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["validation"]["test_accuracy"]["n"] == d.repeats


def test_the_few_labels_study_sets_pretrained_beside_scratch_at_each_size(smoke_run):
    from layerwise.studies.greedy import labels

    cfg = load_params(smoke_run.repo / "params.yaml")
    f = cfg.greedy.few_labels
    for name in f.datasets:
        n_train = len(np.load(smoke_run.repo / f"data/{name}.npz")["y_train"])
        replicas = pd.read_csv(smoke_run.repo / f"results/greedy_few_labels/{name}/replicas.csv")
        # 0 stands for every training row
        expected = sorted(n or n_train for n in f.n_labelled)
        assert sorted(replicas["n_labelled"].unique()) == expected, name
        assert set(replicas["method"]) == {
            labels.PRETRAINED_FROZEN,
            labels.PRETRAINED_TUNED,
            labels.SCRATCH,
        }
        assert len(replicas) == len(f.n_labelled) * 3 * f.repeats, name
        # the pretrained network and the scratch network have the same shape
        assert replicas["depth"].eq(len(cfg.model.hidden_units) + f.pretrain_additions + 1).all()


def test_the_report_section_is_drawn_from_the_stage_outputs(smoke_run, tmp_path):
    from layerwise import report
    from layerwise.studies.greedy.report import greedy_section

    assert greedy_section in report.sections()
    ctx = smoke_run.report_context(tmp_path / "figures")
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
