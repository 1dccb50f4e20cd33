"""What the transfer stages of the smoke run wrote (results/transfer_source/ and
results/transfer/), read back: one saved source model per problem, every arm under both
protocols, the arms built from a saved source, and the report's section drawn from those
files. The stages run the study on the smoke preset; reading their files tests both
without training again (the study's problems and refusals: tests/studies/test_transfer.py;
the engine's weight copying and freezing: tests/engine/test_weights.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from layerwise.config import load_params


def test_the_source_stage_saves_one_model_per_problem(smoke_run):
    from layerwise.studies.transfer import sources

    s = load_params(smoke_run.repo / "params.yaml").transfer.source
    out = smoke_run.repo / "results/transfer_source"
    assert {p.stem for p in (out / "models").glob("*.keras")} == set(s.problems)
    for name in s.problems:
        assert sources.load_source(out / "models" / f"{name}.keras").n_replicas == 1
    curves = pd.read_csv(out / "curves.csv")
    assert {"p1-train_accuracy", "p1-test_accuracy"} <= set(curves.columns)
    assert len(curves) == s.epochs


def test_every_arm_runs_under_both_protocols(smoke_run):
    from layerwise.studies.transfer.summary import headline_metrics

    t = load_params(smoke_run.repo / "params.yaml").transfer
    out = smoke_run.repo / "results/transfer"
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == set(t.cases)
    arms = t.arm_names()[1:]
    replicas, curves = pd.read_csv(out / "replicas.csv"), pd.read_csv(out / "curves.csv")
    for case, m in summary.items():
        for protocol in ("same_source", "fresh_source"):
            assert list(m[protocol]) == arms or set(m[protocol]) == set(arms)
            for entry in m[protocol].values():
                assert entry["test_accuracy"]["n"] == t.repeats
                assert {"welch_p", "mann_whitney_p", "cohens_d"} <= set(entry["vs_standalone"])
                assert 1 <= entry["epochs_to_reach"]["mean"] <= t.epochs
        assert m["standalone"]["test_accuracy"]["n"] == t.repeats
        assert m["fresh_sources"]["n"] == t.repeats
        # one row per repeat: standalone once, every other arm under both protocols
        assert (replicas["case"] == case).sum() == t.repeats * (1 + 2 * len(arms)), case
        assert (curves["case"] == case).sum() == t.epochs * (1 + 2 * len(arms)), case
    headline = headline_metrics(summary)["forward"]
    assert set(headline["same_source"]["fixed_1"]) == {
        "test_mean",
        "test_std",
        "epochs_to_reach",
        "welch_p",
    }


def test_same_source_arms_start_from_the_saved_model(smoke_run):
    from layerwise.studies.transfer import runs, sources

    t = load_params(smoke_run.repo / "params.yaml").transfer
    src = sources.load_source(smoke_run.repo / "results/transfer_source/models/p1.keras")
    layers = sources.network(t.source, 3)
    model = runs.build_arm("fixed_1", layers, src, 4, 2, 0, t)
    assert model.trainable == [False, True, True]
    np.testing.assert_array_equal(model.layer_weights(1)[0][3], src.layer_weights(1)[0][0])
    deeper = runs.build_arm("new_hidden", layers, src, 4, 2, 0, t)
    assert deeper.trainable == [False, False, True, True]
    np.testing.assert_array_equal(deeper.layer_weights(3)[0][0], src.layer_weights(2)[0][0])
    reinit = runs.build_arm("reinit_top", layers, src, 4, 2, 0, t)
    assert not np.allclose(reinit.layer_weights(1)[0][0], src.layer_weights(1)[0][0])


def test_the_report_section_is_drawn_from_the_stage_outputs(smoke_run, tmp_path):
    from layerwise.reporting.markdown import claim_text
    from layerwise.studies.transfer.report import transfer_section

    results = smoke_run.repo / "results"
    ctx = smoke_run.report_context(tmp_path / "figures")
    text = transfer_section(ctx)
    assert "*Does starting from a related problem's weights help" in text
    assert "0.817 (0.005)" in text  # the published fixed=1 mean beside ours
    # the verdicts are the claims' (Holm-adjusted within each protocol), word for word
    detail = json.loads((results / "claims/detail.json").read_text())
    assert claim_text(detail["claims"]["transfer.forward.same_source.fixed_1"]) in text
    assert "Holm p" in text
    assert (ctx.figures / "transfer_forward_box.png").stat().st_size > 0
    assert (ctx.figures / "transfer_forward_speed.png").stat().st_size > 0
