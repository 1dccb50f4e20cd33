"""Greedy layer-wise studies: the supervised study's switches, what the activation, depth
and few-label studies do beyond the smoke preset's settings (arms trained together, the
depth search's patience, labelled rows, a CIFAR-10-format folder), the config and the
switched-off studies (each stage's outputs on the smoke preset and the report section:
tests/e2e/test_greedy_outputs.py; the engine's grow/freeze/head-swap operations:
tests/engine/test_growing.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ..helpers.claims import write_claims

pytestmark = pytest.mark.train  # trains networks: `make test` runs it, `make check` does not

# -- the supervised study's switches (its stage's outputs on the smoke preset:
# tests/e2e/test_greedy_outputs.py) ---------------------------------------------------------


def test_supervised_switches(smoke_cfg, datasets):
    from dataclasses import replace

    from layerwise.studies.baseline import run as baseline
    from layerwise.studies.greedy import supervised

    data = datasets[smoke_cfg.data.name]
    base = baseline.run(smoke_cfg, data, progress=False)
    g = replace(smoke_cfg.greedy.supervised, control=False, fine_tune=False, additions=1)
    cfg = replace(smoke_cfg, greedy=replace(smoke_cfg.greedy, supervised=g))
    result = supervised.run(cfg, data, base.model, progress=False)
    assert set(result.replicas["method"]) == {"greedy"}
    assert sorted(result.replicas["depth"].unique()) == [2, 3]


# -- configuration -------------------------------------------------------------------------


def test_book_defaults(book_cfg):
    g = book_cfg.greedy
    assert (g.supervised.additions, g.supervised.epochs) == (10, 100)
    assert (g.unsupervised.additions, g.unsupervised.repeats, g.unsupervised.epochs) == (
        5,
        30,
        100,
    )
    assert g.supervised.control and g.supervised.fine_tune


@pytest.mark.parametrize(
    "override, message",
    [
        ("greedy.supervised.additions=-1", "greedy.supervised.additions = -1 is out of range"),
        ("greedy.unsupervised.additions=-2", "greedy.unsupervised.additions = -2 is out of range"),
        ("greedy.supervised.fine_tune_learning_rate=0", "fine_tune_learning_rate = 0"),
    ],
)
def test_bad_values_are_one_clear_error(override, message):
    from layerwise.pipeline.errors import UserError

    from ..helpers.config import compose_config

    with pytest.raises(UserError, match=message):
        compose_config("experiment=smoke", override)


def test_activation_arms_train_together(smoke_cfg, datasets):
    """The arms share one model (one program per depth; that replicas of different
    activations train as they would alone is tests/engine/test_replicas.py's concat test): every
    arm gets its rows, greedy and end to end, at every depth."""
    from dataclasses import replace

    from layerwise.studies.greedy import activations

    from ..helpers.config import compose_config

    a = replace(smoke_cfg.greedy.activations, names=["relu", "tanh"], repeats=3)
    cfg = replace(smoke_cfg, greedy=replace(smoke_cfg.greedy, activations=a))
    replicas = activations.run(cfg, datasets[cfg.data.name], progress=False).study.replicas
    assert list(dict.fromkeys(replicas["activation"])) == ["relu", "tanh"]
    counts = replicas.groupby(["activation", "method", "depth"]).size()
    assert (counts == 3).all() and len(counts) == 2 * 2 * (a.additions + 1)
    relu, tanh = (replicas[replicas.activation == name] for name in ("relu", "tanh"))
    assert not np.array_equal(relu.test_accuracy.to_numpy(), tanh.test_accuracy.to_numpy())
    with pytest.raises(Exception, match="repeats an item"):
        compose_config("experiment=smoke", "greedy.activations.names=[relu,relu]")


def test_depth_search_stops_after_patience(smoke_cfg, datasets):
    """Validation rows come from the training split; rounds stop once no replica improves."""
    from layerwise.studies.greedy import depth_selection

    data = datasets[smoke_cfg.data.name]
    rng = np.random.default_rng(0)
    fit_index, val_index = depth_selection.split_rows(len(data.x_train), 2, 200, 50, rng)
    assert not set(fit_index[0]) & set(val_index[0])
    search = depth_selection.greedy_depth_search(
        smoke_cfg, data, fit_index, val_index, 3, "test.depth_search", patience=1
    )
    n_rounds = len(search["depth"]) - 1
    val = search["validation_accuracy"]
    assert val.shape == (n_rounds + 1, 2) and n_rounds <= 3
    for r, depth in enumerate(search["chosen_depth"]):
        i = depth - 2  # the base network is depth 2, round 0
        assert val[i, r] == val[: i + 1, r].max()  # chosen = best seen so far
        if i + 1 <= n_rounds:  # patience 1: the next round did not improve, so it stopped
            assert val[i + 1, r] <= val[i, r]


def test_labelled_rows_are_distinct_per_replica():
    from layerwise.studies.greedy.few_labels import labelled_rows

    rows = labelled_rows(100, 10, 3, seed=0)
    assert rows.shape == (3, 10) and all(len(set(r)) == 10 for r in rows)
    assert not np.array_equal(rows[0], rows[1])
    assert labelled_rows(100, 0, 2, seed=0).shape == (2, 100)


@pytest.mark.parametrize(
    "override, message",
    [
        ("greedy.few_labels.n_labelled=[]", "greedy.few_labels.n_labelled is empty"),
        ("greedy.few_labels.n_labelled=[10,501]", "n_labelled = 501 is larger than the 500"),
        ("greedy.few_labels.datasets=[nope]", "'nope' is not a dataset"),
        ("greedy.depth_selection.validation_fraction=0", "validation_fraction = 0"),
    ],
)
def test_bad_few_labels_and_depth_values(override, message):
    from layerwise.pipeline.errors import UserError

    from ..helpers.config import compose_config

    with pytest.raises(UserError, match=message):
        compose_config("experiment=smoke", override)


def test_too_many_labels_at_run_time():
    from layerwise.pipeline.errors import UserError
    from layerwise.studies.greedy.few_labels import labelled_rows

    with pytest.raises(UserError, match="larger than the 50 training rows"):
        labelled_rows(50, 51, 2, seed=0)


def _fake_cifar10(folder, n_train=40, n_test=20):
    """A tiny folder in CIFAR-10's python format (pickled dicts of uint8 rows and labels)."""
    import pickle

    rng = np.random.default_rng(0)
    folder.mkdir()
    for name, n in (
        ("data_batch_1", n_train // 2),
        ("data_batch_2", n_train // 2),
        ("test_batch", n_test),
    ):
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": list(rng.integers(0, 10, n)),
        }
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh)


def _tiny_cifar10(folder):
    """The tutorial's preset on CIFAR-10-format files in `folder`, shrunk to seconds."""
    from ..helpers.config import compose_config

    _fake_cifar10(folder)
    return compose_config(
        "experiment=cifar10",
        f"datasets.cifar10.source={folder}",
        "datasets.cifar10.n_samples=60",
        "datasets.cifar10.n_train=40",
        "model.hidden_units=[16]",
        "baseline.repeats=2",
        "baseline.epochs=1",
        "baseline.batch_size=8",
        "greedy.supervised.additions=1",
        "greedy.supervised.epochs=1",
        "greedy.supervised.batch_size=8",
        "greedy.supervised.fine_tune_epochs=1",
    )


def test_cifar10_preset_reads_a_tiny_folder(tmp_path):
    """The tutorial's preset composes, and the data stage reads CIFAR-10-format files."""
    from layerwise.pipeline import data as data_module

    from ..helpers.config import compose_config

    book = compose_config("experiment=cifar10")
    assert (book.model.hidden_units, book.optimizer.name) == ([256], "adam")
    assert (book.greedy.supervised.epochs, book.greedy.supervised.batch_size) == (25, 250)
    assert book.greedy.supervised.additions == 9
    cfg = _tiny_cifar10(tmp_path / "cifar")
    data = data_module.build(cfg.datasets["cifar10"])
    assert data.x_train.shape == (40, 3072) and data.x_train.max() <= 1.0


@pytest.mark.slow  # the default tier: the preset and its data above; the greedy study in the
# smoke run (tests/e2e/test_greedy_outputs.py)
def test_cifar10_preset_trains_the_greedy_study_on_a_tiny_folder(tmp_path):
    from layerwise.pipeline import data as data_module
    from layerwise.studies.baseline import run as baseline
    from layerwise.studies.greedy import supervised

    cfg = _tiny_cifar10(tmp_path / "cifar")
    data = data_module.build(cfg.datasets["cifar10"])
    base = baseline.run(cfg, data, progress=False)
    result = supervised.run(cfg, data, base.model, progress=False)
    assert sorted(result.replicas["depth"].unique()) == [2, 3]


def test_diverged_replicas_are_counted_not_averaged():
    import pandas as pd

    from layerwise.studies.greedy.common import depth_table

    table = depth_table(
        pd.DataFrame(
            {
                "method": ["a"] * 3,
                "depth": [2] * 3,
                "replica": [0, 1, 2],
                "train_mse": [0.1, np.nan, 0.3],
                "diverged": [0.0, 1.0, 0.0],
            }
        )
    )
    assert table.loc[0, "train_mse"] == pytest.approx(0.2)
    assert table.loc[0, "diverged"] == pytest.approx(1 / 3)


def test_switched_off_studies_write_placeholders_and_the_report_skips_them(tmp_path, monkeypatch):
    """enabled: false -> the stage trains nothing, its DVC outputs exist, no report part."""
    import importlib.util
    from pathlib import Path

    from layerwise import report
    from layerwise.studies.greedy.report import greedy_section

    from ..helpers.config import ROOT, compose_config

    cfg = compose_config(
        "experiment=smoke",
        "greedy.activations.enabled=false",
        "greedy.depth_selection.enabled=false",
        "greedy.few_labels.enabled=false",
    )
    monkeypatch.chdir(tmp_path)
    for stage, argv in (
        ("greedy_activations", []),
        ("greedy_depth", []),
        ("greedy_few_labels", ["blobs"]),
    ):
        spec = importlib.util.spec_from_file_location(stage, ROOT / "stages" / f"{stage}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        args = type("Args", (), {"name": argv[0]} if argv else {})()
        module.main(cfg, args)
    assert Path("results/greedy_activations/gradients.csv").is_file()
    assert Path("results/greedy_few_labels/blobs/sizes.csv").is_file()
    write_claims(cfg, Path("results"))
    ctx = report.ReportContext(
        cfg=cfg, results=Path("results"), data=tmp_path, figures=tmp_path / "figures", overrides=[]
    )
    ctx.figures.mkdir()
    text = greedy_section(ctx)
    assert "### Activation" not in text and "### Depth selection" not in text
    assert "### Few labels" not in text


def test_the_unsupervised_table_reads_reconstruction_error_as_a_heavy_tailed_quantity(
    smoke_cfg, tmp_path
):
    """30 autoencoders of which one trained badly: no negative interval for an MSE, its
    median [IQR] beside the mean, the paragraph on the same summaries, and published
    numbers read with their printed precision (0.000 is anything below 0.0005)."""
    import pandas as pd
    from scipy import stats

    from layerwise import report
    from layerwise.pipeline.io import write_csv
    from layerwise.studies.greedy.common import depth_table
    from layerwise.studies.greedy.report import unsupervised_part

    n = 30
    error = np.r_[np.linspace(0.0004, 0.02, n - 1), 12.0]
    replicas = pd.DataFrame(
        {
            "method": "autoencoder",
            "depth": np.repeat([2, 3], n),
            "replica": np.tile(np.arange(n), 2),
            "train_mse": np.r_[error, error * 2],
            "test_mse": np.r_[error, error * 2],
            "train_accuracy": 0.8,
            # depth 2 reaches 0.8316: the published 0.832 (0.8315..0.8325) meets it
            "test_accuracy": np.r_[np.linspace(0.80, 0.8316, n), np.linspace(0.78, 0.80, n)],
            "diverged": 0.0,
        }
    )
    out = tmp_path / "results" / "greedy_unsupervised"
    write_csv(out / "replicas.csv", replicas)
    depths = depth_table(replicas)
    write_csv(out / "depths.csv", depths)
    assert (depths[["test_mse_low", "train_mse_low"]] > 0).all().all()  # the figure's band
    write_claims(smoke_cfg, tmp_path / "results")
    ctx = report.ReportContext(
        cfg=smoke_cfg,
        results=tmp_path / "results",
        data=tmp_path,
        figures=tmp_path / "figures",
        overrides=[],
    )
    ctx.figures.mkdir()
    text = "\n\n".join(unsupervised_part(ctx, book_data=True))
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| depth"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    cells = [
        c.strip() for c in next(x for x in lines if x.startswith("| 2 ")).strip("|").split("|")
    ]
    row = dict(zip(columns, cells, strict=True))

    mean, std = error.mean(), error.std(ddof=1)
    t_low, _ = stats.t.interval(0.95, n - 1, loc=mean, scale=std / np.sqrt(n))
    assert t_low < 0  # what the table showed before: a negative error was "plausible"
    mse = row["test MSE [95% CI, BCa bootstrap]"]
    assert mse.startswith(f"{mean:.3f} ± {std:.3f} [")
    low, high = (float(x) for x in mse.split("[")[1].rstrip("]").split("–"))
    assert 0 < low < mean < high <= error.max()
    q1, median, q3 = np.percentile(error, [25, 50, 75])
    assert row["test MSE median [IQR]"] == f"{median:.3f} [{q1:.3f}–{q3:.3f}]"
    assert row["published test MSE"] == "0.000"  # our min 0.0004 rounds to it: inside
    assert row["published test acc."] == "0.832"  # inside by its printed precision
    assert "BCa bootstrap" in text.split("| depth")[0]  # the caption names the interval
    paragraph = lines[-1]
    assert f"from {median:.4f} [{q1:.4f}–{q3:.4f}] at depth 2" in paragraph
    assert f"goes from {mean:.4f} to {2 * mean:.4f}" in paragraph
    assert "Its test MSE falls outside our replicas' range at no depth" in paragraph
    assert "its test accuracy at depth 3." in paragraph
