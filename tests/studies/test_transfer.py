"""Transfer study: weight copying, re-initialisation and freezing in the engine, the two
stages on the smoke preset, and the bad values the issue lists."""

from __future__ import annotations

import numpy as np
import pytest

from layerwise.engine import SGD, Adam, Dense, ReplicaMLP
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import load_keras, save_keras

LAYERS = [Dense(5, "relu", "he_uniform"), Dense(5, "relu", "he_uniform"), Dense(3, "softmax")]
PLAIN_SGD = SGD(learning_rate=0.05)


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    return x, y


@pytest.fixture(scope="module")
def source():
    """A one-replica source model, briefly trained so its weights are not an initialisation."""
    model = ReplicaMLP.create(2, LAYERS, 1, seed=11)
    model.fit(*_data(), epochs=2, optimizer=PLAIN_SGD, seed=3)
    return model


def test_copied_layers_equal_the_source_in_every_replica(source):
    target = ReplicaMLP.create(2, LAYERS, 4, seed=5)
    target.copy_weights_from(source, layers=[0, 1])
    for i in (0, 1):
        for mine, theirs in zip(target.layer_weights(i), source.layer_weights(i), strict=True):
            np.testing.assert_array_equal(mine, np.broadcast_to(theirs, mine.shape))
    # the layer not named keeps its own initialisation
    assert not np.allclose(target.layer_weights(2)[0], source.layer_weights(2)[0])


def test_copy_from_a_keras_file_and_per_replica_sources(source, tmp_path):
    path = tmp_path / "source.keras"
    save_keras(source.to_keras(0), path)
    target = ReplicaMLP.create(2, LAYERS, 3, seed=5)
    target.copy_weights_from(load_keras(path))
    for a, b in zip(target.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, np.broadcast_to(b, a.shape))
    # R sources -> R targets: replica r from replica r
    many = ReplicaMLP.create(2, LAYERS, 3, seed=9)
    target.copy_weights_from(many)
    for a, b in zip(target.get_weights(), many.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_copy_by_mapping_into_a_deeper_model(source):
    deeper = LAYERS[:2] + [Dense(5, "relu", "he_uniform"), LAYERS[2]]
    target = ReplicaMLP.create(2, deeper, 2, seed=1)
    target.copy_weights_from(source, {0: 0, 1: 1, 3: 2})
    np.testing.assert_array_equal(target.layer_weights(3)[0][1], source.layer_weights(2)[0][0])
    with pytest.raises(ValueError, match="name the layers"):
        target.copy_weights_from(source)


def test_reinitialised_layers_differ_from_the_source_and_between_replicas(source):
    target = ReplicaMLP.create(2, LAYERS, 3, seed=5)
    target.copy_weights_from(source)
    target.reinitialize([1, 2], seed=21)
    np.testing.assert_array_equal(target.layer_weights(0)[0][2], source.layer_weights(0)[0][0])
    for i in (1, 2):
        kernel, bias = target.layer_weights(i)
        assert not np.allclose(kernel[0], source.layer_weights(i)[0][0])
        assert not np.allclose(kernel[0], kernel[1])  # fresh draws per replica
        np.testing.assert_array_equal(bias, 0.0)
    limit = np.sqrt(6.0 / 5)  # he_uniform bound for fan_in 5
    assert np.abs(target.layer_weights(1)[0]).max() <= limit


def test_frozen_layers_are_bit_identical_after_fit(source):
    target = ReplicaMLP.create(2, LAYERS, 3, seed=5)
    target.copy_weights_from(source)
    target.trainable = [False, False, True]
    before = target.get_weights()
    target.fit(*_data(), epochs=3, optimizer=SGD(0.05, momentum=0.9), seed=2)
    after = target.get_weights()
    for j in range(4):
        np.testing.assert_array_equal(before[j], after[j])
    assert not np.array_equal(before[4], after[4])


def test_concat_stacks_replicas_in_order(source):
    a = ReplicaMLP.create(2, LAYERS, 2, seed=1)
    b = ReplicaMLP.create(2, LAYERS, 3, seed=2)
    both = ReplicaMLP.concat([a, b])
    assert both.n_replicas == 5
    assert both.trainable == [True, True, True]
    np.testing.assert_array_equal(both.layer_weights(0)[0][2:], b.layer_weights(0)[0])
    with pytest.raises(ValueError, match="architecture"):
        ReplicaMLP.concat([a, ReplicaMLP.create(2, LAYERS[1:], 1, seed=0)])


@pytest.mark.parametrize("optimizer", [SGD(0.05, momentum=0.9), Adam()])
def test_arms_frozen_differently_train_as_if_alone(optimizer):
    """Stacked arms with per-replica trainable flags: frozen replicas stay bit-identical and
    every replica ends where its own arm's fit, with the same batches, takes it."""
    x, y = _data()
    arms = []
    for frozen in (0, 1, 2):
        arm = ReplicaMLP.create(2, LAYERS, 2, seed=frozen)
        arm.trainable = [i >= frozen for i in range(3)]
        arms.append(arm)
    stacked = ReplicaMLP.concat(arms)
    assert isinstance(stacked.trainable[0], np.ndarray) and stacked.trainable[2] is True
    rng = np.random.default_rng(4)
    orders = [np.stack([rng.permutation(len(x)) for _ in range(6)]) for _ in range(3)]
    before = stacked.get_weights()
    stacked.fit(x, y, epochs=3, optimizer=optimizer, batch_orders=orders)
    after = stacked.get_weights()
    flags = stacked.replica_trainable()
    for i in range(3):
        for r in range(6):
            same = np.array_equal(before[2 * i][r], after[2 * i][r])
            assert same == (not flags[r, i]), (i, r)
    for k, arm in enumerate(arms):
        rows = slice(2 * k, 2 * k + 2)
        arm.fit(x, y, epochs=3, optimizer=optimizer, batch_orders=[o[rows] for o in orders])
        for mine, alone in zip(after, arm.get_weights(), strict=True):
            np.testing.assert_allclose(mine[rows], alone, rtol=0, atol=1e-6)


def test_per_replica_flags_survive_select_save_and_export(tmp_path):
    arms = [ReplicaMLP.create(2, LAYERS, 1, seed=s) for s in range(2)]
    arms[1].trainable = [False, True, True]
    stacked = ReplicaMLP.concat(arms)
    assert stacked.select([1]).trainable == [False, True, True]
    stacked.save(tmp_path / "m.npz")
    loaded = ReplicaMLP.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.replica_trainable(), stacked.replica_trainable())
    assert stacked.to_keras(1).layers[0].trainable is False


def test_missing_or_corrupt_source_file_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_keras(tmp_path / "absent.keras")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"this is not a zip archive")
    with pytest.raises(UserError, match="not a readable .keras model"):
        load_keras(broken)


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
    from tests.helpers.config import compose_config

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

    from tests.helpers.config import ROOT

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert stages["transfer_source"]["params"] == ["seed", "transfer.source"]
    assert "results/transfer_source/models" in stages["transfer"]["deps"]
