"""Transfer study: the two stages on the smoke preset and the bad values the issue lists
(the engine's weight copying, re-initialisation and freezing: tests/engine/test_weights.py)."""

from __future__ import annotations

import numpy as np
import pytest

from layerwise.engine import Dense, ReplicaMLP
from layerwise.pipeline.errors import UserError

pytestmark = pytest.mark.train  # trains networks: `make test` runs it, `make check` does not


# -- the study on the smoke preset ---------------------------------------------------------


def _problems(cfg, datasets):
    from layerwise.studies.transfer import runs as transfer

    t = cfg.transfer
    specs = {**t.source.problems, **t.cases}
    return {n: transfer.make_problem(n, datasets[s.dataset], s.classes) for n, s in specs.items()}


@pytest.fixture(scope="module")
def forward_only(smoke_cfg):
    """The smoke preset with one case and three epochs, to keep the test short."""
    import copy

    cfg = copy.deepcopy(smoke_cfg)
    cfg.transfer.cases = {"forward": cfg.transfer.cases["forward"]}
    cfg.transfer.epochs = cfg.transfer.source.epochs = 3
    return cfg


@pytest.fixture(scope="module")
def study(forward_only, datasets):
    from layerwise.studies.transfer import runs as transfer

    problems = _problems(forward_only, datasets)
    sources = transfer.run_source(forward_only, problems)
    return sources, transfer.run(forward_only, problems, sources.models, progress=False)


def test_digits_case_keeps_half_the_classes_relabelled(smoke_cfg, datasets):
    problems = _problems(smoke_cfg, datasets)
    source, target = problems["digits_0to4"], problems["digits"]
    assert source.n_classes == target.n_classes == 5
    assert set(np.unique(target.y_train)) == set(range(5))
    digits = datasets["digits"]
    assert len(target.y_test) == np.isin(digits.y_test, [5, 6, 7, 8, 9]).sum()
    np.testing.assert_array_equal(target.x_test, digits.x_test[digits.y_test >= 5])


def test_source_stage_fits_one_model_per_problem(study, forward_only):
    sources, _ = study
    assert set(sources.models) == set(forward_only.transfer.source.problems)
    assert all(m.n_replicas == 1 for m in sources.models.values())
    assert {"p1-train_accuracy", "p1-test_accuracy"} <= set(sources.curves.columns)
    assert len(sources.curves) == 3


def test_every_arm_runs_under_both_protocols(study, forward_only):
    from layerwise.studies.transfer import runs as transfer

    _, result = study
    t = forward_only.transfer
    m = result.summary["forward"]
    arms = t.arm_names()[1:]
    for protocol in ("same_source", "fresh_source"):
        assert list(m[protocol]) == arms or set(m[protocol]) == set(arms)
        for entry in m[protocol].values():
            assert entry["test_accuracy"]["n"] == t.repeats
            assert {"welch_p", "mann_whitney_p", "cohens_d"} <= set(entry["vs_standalone"])
            assert 1 <= entry["epochs_to_reach"]["mean"] <= t.epochs
    assert m["standalone"]["test_accuracy"]["n"] == t.repeats
    assert m["fresh_sources"]["n"] == t.repeats
    # one row per repeat: standalone once, every other arm under both protocols
    assert len(result.replicas) == t.repeats * (1 + 2 * len(arms))
    assert len(result.curves) == t.epochs * (1 + 2 * len(arms))
    headline = transfer.headline_metrics(result.summary)["forward"]
    assert set(headline["same_source"]["fixed_1"]) == {
        "test_mean",
        "test_std",
        "epochs_to_reach",
        "welch_p",
    }


def test_same_source_repeats_start_from_the_saved_model(forward_only, datasets, study):
    from layerwise.studies.transfer import runs as transfer

    sources, _ = study
    layers = transfer.network(forward_only.transfer.source, 3)
    src = sources.models["p1"]
    model = transfer.build_arm("fixed_1", layers, src, 4, 2, 0, forward_only.transfer)
    assert model.trainable == [False, True, True]
    np.testing.assert_array_equal(model.layer_weights(1)[0][3], src.layer_weights(1)[0][0])
    deeper = transfer.build_arm("new_hidden", layers, src, 4, 2, 0, forward_only.transfer)
    assert deeper.trainable == [False, False, True, True]
    np.testing.assert_array_equal(deeper.layer_weights(3)[0][0], src.layer_weights(2)[0][0])
    reinit = transfer.build_arm("reinit_top", layers, src, 4, 2, 0, forward_only.transfer)
    assert not np.allclose(reinit.layer_weights(1)[0][0], src.layer_weights(1)[0][0])


def test_report_section_from_the_outputs(study, forward_only, tmp_path):
    from layerwise.pipeline.io import write_csv, write_json
    from layerwise.report import ReportContext
    from layerwise.reporting.markdown import claim_text
    from layerwise.studies.transfer.report import transfer_section

    from ..helpers.claims import write_claims

    sources, result = study
    write_json(tmp_path / "transfer_source" / "metrics.json", sources.metrics)
    write_json(tmp_path / "transfer" / "summary.json", result.summary)
    write_csv(tmp_path / "transfer" / "replicas.csv", result.replicas)
    write_csv(tmp_path / "transfer" / "curves.csv", result.curves)
    detail = write_claims(forward_only, tmp_path)
    ctx = ReportContext(forward_only, tmp_path, tmp_path, tmp_path / "figures", [])
    (tmp_path / "figures").mkdir()
    text = transfer_section(ctx)
    assert "*Does starting from a related problem's weights help" in text
    assert "0.817 (0.005)" in text  # the published fixed=1 mean beside ours
    # the verdicts are the claims' (Holm-adjusted within each protocol), word for word
    fixed_1 = detail["claims"]["transfer.forward.same_source.fixed_1"]
    assert claim_text(fixed_1) in text
    assert "Holm p" in text
    assert (tmp_path / "figures" / "transfer_forward_box.png").stat().st_size > 0
    assert (tmp_path / "figures" / "transfer_forward_speed.png").stat().st_size > 0


# -- bad values ----------------------------------------------------------------------------


def test_freezing_more_layers_than_the_source_has_is_refused():
    from ..helpers.config import compose_config

    with pytest.raises(UserError, match=r"transfer.frozen_layers\[1\] = 3 freezes more layers"):
        compose_config("transfer.frozen_layers=[0,3]")
    with pytest.raises(UserError, match="transfer.reinit_keep = 3"):
        compose_config("transfer.reinit_keep=3")
    with pytest.raises(UserError, match="transfer.cases.forward.source = 'p9'"):
        compose_config("transfer.cases.forward.source=p9")


def test_a_source_model_shallower_than_the_arms_need_is_refused(forward_only):
    from layerwise.studies.transfer import runs as transfer

    shallow = ReplicaMLP.create(2, [Dense(5), Dense(3, "softmax")], 1, seed=0)
    layers = transfer.network(forward_only.transfer.source, 3)
    with pytest.raises(UserError, match="has 1 hidden layers"):
        transfer.check_source(shallow, layers, 2, forward_only.transfer, "source model 'p1'")


def test_missing_or_corrupt_source_model_for_the_stage(tmp_path):
    from layerwise.studies.transfer import runs as transfer

    with pytest.raises(UserError, match="absent.keras: model file not found"):
        transfer.load_source(tmp_path / "absent.keras")
    broken = tmp_path / "p1.keras"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(UserError, match="p1.keras: not a readable .keras model"):
        transfer.load_source(broken)


def test_source_stage_reads_only_the_source_settings():
    """Target-side changes (repeats, arms, protocols, cases) must not refit the source."""
    import yaml

    from ..helpers.config import ROOT

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert stages["transfer_source"]["params"] == ["seed", "transfer.source"]
    assert "results/transfer_source/models" in stages["transfer"]["deps"]
