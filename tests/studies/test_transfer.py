"""Transfer study: its problems, the bad values the issue lists and the source checks (what
its two stages wrote on the smoke preset, the arms built from a saved source and the
report section: tests/e2e/test_transfer_outputs.py; the engine's weight copying,
re-initialisation and freezing: tests/engine/test_weights.py)."""

from __future__ import annotations

import numpy as np
import pytest

from layerwise.engine import Dense, ReplicaMLP
from layerwise.pipeline.errors import UserError

# -- the problems --------------------------------------------------------------------------


def _problems(cfg, datasets):
    from layerwise.studies.transfer import sources

    t = cfg.transfer
    specs = {**t.source.problems, **t.cases}
    return {n: sources.make_problem(n, datasets[s.dataset], s.classes) for n, s in specs.items()}


def test_digits_case_keeps_half_the_classes_relabelled(smoke_cfg, datasets):
    problems = _problems(smoke_cfg, datasets)
    source, target = problems["digits_0to4"], problems["digits"]
    assert source.n_classes == target.n_classes == 5
    assert set(np.unique(target.y_train)) == set(range(5))
    digits = datasets["digits"]
    assert len(target.y_test) == np.isin(digits.y_test, [5, 6, 7, 8, 9]).sum()
    np.testing.assert_array_equal(target.x_test, digits.x_test[digits.y_test >= 5])


def test_freezing_more_layers_than_the_source_has_is_refused():
    from ..helpers.config import compose_config

    with pytest.raises(UserError, match=r"transfer.frozen_layers\[1\] = 3 freezes more layers"):
        compose_config("transfer.frozen_layers=[0,3]")
    with pytest.raises(UserError, match="transfer.reinit_keep = 3"):
        compose_config("transfer.reinit_keep=3")
    with pytest.raises(UserError, match="transfer.cases.forward.source = 'p9'"):
        compose_config("transfer.cases.forward.source=p9")


def test_a_source_model_shallower_than_the_arms_need_is_refused(smoke_cfg):
    from layerwise.studies.transfer import sources

    shallow = ReplicaMLP.create(2, [Dense(5), Dense(3, "softmax")], 1, seed=0)
    layers = sources.network(smoke_cfg.transfer.source, 3)
    with pytest.raises(UserError, match="has 1 hidden layers"):
        sources.check_source(shallow, layers, 2, smoke_cfg.transfer, "source model 'p1'")


def test_missing_or_corrupt_source_model_for_the_stage(tmp_path):
    from layerwise.studies.transfer import sources

    with pytest.raises(UserError, match="absent.keras: model file not found"):
        sources.load_source(tmp_path / "absent.keras")
    broken = tmp_path / "p1.keras"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(UserError, match="p1.keras: not a readable .keras model"):
        sources.load_source(broken)


def test_source_stage_reads_only_the_source_settings():
    """Target-side changes (repeats, arms, protocols, cases) must not refit the source."""
    import yaml

    from ..helpers.config import ROOT

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert stages["transfer_source"]["params"] == ["seed", "transfer.source"]
    assert "results/transfer_source/models" in stages["transfer"]["deps"]
