"""The csv dataset in the configuration: the group option that selects it, the rules on its
entry, and the bounds that come from its file (read only where a data folder is given)."""

import numpy as np
import pytest

from layerwise.config import to_config
from layerwise.config.compose import compose
from layerwise.pipeline.errors import DataFileError, UserError

from ..helpers.config import ROOT, compose_config


def params(*overrides: str) -> dict:
    return compose(["experiment=smoke", "data=csv", *overrides], ROOT / "conf")


def write_csv(folder, name="mine.csv", rows=60, classes=3, features=2, seed=0):
    rng = np.random.default_rng(seed)
    lines = [",".join([*(f"f{j}" for j in range(features)), "label"])]
    for i in range(rows):
        values = [f"{v:.3f}" for v in rng.normal(size=features)]
        lines.append(",".join([*values, f"c{i % classes}"]))
    (folder / name).write_text("\n".join(lines) + "\n")


def test_the_data_group_selects_the_example_table():
    cfg = compose_config("data=csv")
    spec = cfg.datasets["csv"]
    assert cfg.data.name == "csv" and spec.kind == "csv"
    assert (ROOT / spec.path).is_file() and spec.target == "label" and spec.scale == "standard"


def test_keys_of_the_csv_entry_are_set_on_the_command_line(tmp_path):
    write_csv(tmp_path)
    cfg = to_config(
        params("datasets.csv.path=mine.csv", "datasets.csv.target=label"), "test", tmp_path
    )
    assert cfg.datasets["csv"].path == "mine.csv"
    chosen = params("datasets.csv.path=mine.csv", "datasets.csv.features=[f1]")
    assert to_config(chosen, "test", tmp_path).datasets["csv"].features == ["f1"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("datasets.csv.path=/tmp/x.csv",), "datasets.csv.path = '/tmp/x.csv' is not inside"),
        (("datasets.csv.path=../x.csv",), "datasets.csv.path = '../x.csv' is not inside"),
        (("datasets.csv.path=data/x.csv",), "is inside data/, which the pipeline writes"),
        (("datasets.csv.path=results/a/x.csv",), "is inside results/"),
        (("datasets.csv.path=''",), "datasets.csv.path is empty"),
        (("datasets.csv.target=''",), "datasets.csv.target is empty"),
        (("datasets.csv.test_fraction=1.0",), "datasets.csv.test_fraction = 1.0 is out of range"),
        (("datasets.blobs.kind=csv",), "datasets.blobs.kind = 'csv' is only allowed for"),
        (("datasets.csv.features=[x1,x1]",), "datasets.csv.features = ['x1', 'x1'] repeats"),
    ],
)
def test_rules_on_the_entry_need_no_file(overrides, message):
    """Checked in every stage, the file unread: names and paths only."""
    with pytest.raises(UserError) as info:
        to_config(params(*overrides), "params.yaml", data_root=None)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bounds_from_the_file(tmp_path):
    def refused(rows, *overrides, error=DataFileError, **shape):
        write_csv(tmp_path, rows=rows, **shape)
        raw = params("datasets.csv.path=mine.csv", *overrides)
        with pytest.raises(error) as info:
            to_config(raw, "params.yaml", tmp_path)
        assert "\n" not in str(info.value)
        return str(info.value)

    # 60 rows x 0.3 = 18 test rows: at least a row of each class on each side
    assert "leave 42 training and 18 test rows for 20 classes" in refused(60, classes=20)
    # fewer training rows than a batch of a study that trains on the file
    text = refused(40, "baseline.batch_size=16")  # greedy's 32 is the largest batch
    assert text.startswith("mine.csv: its 40 rows leave 28 training rows, fewer than")
    assert "greedy.supervised.batch_size = 32" in text
    assert "baseline.batch_size = 64" in refused(60, "baseline.batch_size=64")
    # the bounds the built-in kinds have, with the file's classes, features and rows
    text = refused(60, "baseline.repeats=1000000", features=3000, error=UserError)
    assert text.startswith("params.yaml: baseline.repeats = 1000000 needs about")
    text = refused(
        60, "greedy.few_labels.datasets=[csv]", "greedy.few_labels.n_labelled=[43]", error=UserError
    )
    assert "greedy.few_labels.n_labelled = 43 is larger than the 42 training rows" in text


def test_without_a_data_folder_the_file_is_not_read(tmp_path):
    """The stages after `check` do not depend on the file: they neither read it nor
    apply the bounds that need it."""
    raw = params("datasets.csv.path=nosuch.csv")
    assert to_config(raw, "params.yaml", data_root=None).datasets["csv"].path == "nosuch.csv"
    with pytest.raises(DataFileError, match="^nosuch.csv: file not found"):
        to_config(raw, "params.yaml", tmp_path)


def test_the_ensemble_comparison_can_use_the_table(tmp_path):
    write_csv(tmp_path, rows=200)
    raw = params("datasets.csv.path=mine.csv", "ensembles.compare.dataset=csv")
    assert to_config(raw, "params.yaml", tmp_path).ensembles.compare.dataset == "csv"
    # its validation split is bounded by the file's rows: 140 training rows, 0.9 held out
    raw = params(
        "datasets.csv.path=mine.csv",
        "ensembles.compare.dataset=csv",
        "ensembles.compare.validation_fraction=0.9",
    )
    with pytest.raises(UserError, match="ensembles.compare.validation_fraction = 0.9 leaves 14"):
        to_config(raw, "params.yaml", tmp_path)


def test_the_file_is_read_while_composing_only_where_a_data_folder_is_given():
    """`dvc exp run` composes without reading data files (the check stage, which depends on
    them, reads them); the composition command reads them while composing, checking once."""
    overrides = ["datasets.csv.target=nosuch"]
    assert params(*overrides)["datasets"]["csv"]["target"] == "nosuch"
    with pytest.raises(DataFileError, match="no column 'nosuch' for datasets.csv.target"):
        compose(["experiment=smoke", "data=csv", *overrides], ROOT / "conf", data_root=ROOT)
    # and nothing of it stays behind for the next composition
    assert params(*overrides)["datasets"]["csv"]["target"] == "nosuch"
