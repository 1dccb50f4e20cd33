"""A user's CSV file as a dataset: columns, classes, a stratified split, scaling from the
training rows, names kept in the dataset file, and one line for each kind of bad file."""

from pathlib import Path

import numpy as np
import pytest

from layerwise.pipeline import data
from layerwise.pipeline.errors import DataFileError
from layerwise.pipeline.schema import CsvConfig
from layerwise.pipeline.tabular import read_table, split_sizes


@pytest.fixture(scope="module")
def wine(tmp_path_factory) -> Path:
    """scikit-learn's wine data (178 rows, 13 features, 3 classes) as a CSV file."""
    from sklearn.datasets import load_wine

    folder = tmp_path_factory.mktemp("wine")
    load_wine(as_frame=True).frame.to_csv(folder / "wine.csv", index=False)
    return folder


def csv_spec(**fields) -> CsvConfig:
    return CsvConfig(scale="standard", **{"path": "wine.csv", **fields})


def test_every_other_column_is_a_feature_and_the_target_values_are_the_classes(wine):
    table = read_table("wine.csv", "target", root=wine)
    assert table.x.shape == (178, 13) and table.x.dtype == np.float64
    assert table.features[0] == "alcohol" and "target" not in table.features
    assert table.classes == ["0", "1", "2"]
    assert table.counts.tolist() == [59, 71, 48]
    chosen = read_table("wine.csv", "target", ["hue", "alcohol"], root=wine)
    assert chosen.features == ["hue", "alcohol"]
    np.testing.assert_array_equal(chosen.x[:, 1], table.x[:, 0])


def test_classes_are_sorted_by_value(tmp_path):
    rows = [f"{i},{label}" for i, label in enumerate([10, 9, 10, 9, 2, 2])]
    (tmp_path / "n.csv").write_text("x,y\n" + "\n".join(rows) + "\n")
    table = read_table("n.csv", "y", root=tmp_path)
    assert table.classes == ["2", "9", "10"]  # numbers, not text: 10 after 9
    assert table.y.tolist() == [2, 1, 2, 1, 0, 0]
    (tmp_path / "s.csv").write_text("x,y\n1,pear\n2,apple\n3,pear\n4,apple\n")
    assert read_table("s.csv", "y", root=tmp_path).classes == ["apple", "pear"]


def test_split_sizes_hold_out_the_fraction_rounded_up():
    assert split_sizes(178, 0.3) == (124, 54)
    assert split_sizes(10, 0.3) == (7, 3)  # 10 x 0.3 is 3.0000000000000004 in floats
    assert split_sizes(10, 0.25) == (7, 3)


def test_a_csv_dataset_is_split_by_class_and_scaled_on_its_training_rows(wine, tmp_path):
    ds = data.build(csv_spec(target="target"), root=wine)
    assert (len(ds.y_train), len(ds.y_test)) == (124, 54)
    assert ds.n_features == 13 and ds.n_classes == 3
    assert np.bincount(ds.y_test).tolist() == [18, 21, 15]  # stratified: 59/71/48 x 0.3
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    assert ds.class_names == ("0", "1", "2") and ds.feature_names[0] == "alcohol"
    again = data.build(csv_spec(target="target"), root=wine)
    np.testing.assert_array_equal(again.x_test, ds.x_test)  # the split seed fixes it
    data.save(ds, tmp_path / "csv.npz")
    loaded = data.load(tmp_path / "csv.npz")
    assert loaded.class_names == ds.class_names and loaded.feature_names == ds.feature_names
    np.testing.assert_array_equal(loaded.y_test, ds.y_test)


def test_a_built_in_dataset_file_has_no_names(tmp_path, datasets):
    data.save(datasets["blobs"], tmp_path / "blobs.npz")
    with np.load(tmp_path / "blobs.npz") as f:
        assert sorted(f.files) == ["n_classes", "x_test", "x_train", "y_test", "y_train"]
    assert data.load(tmp_path / "blobs.npz").class_names == ()


# content of the file -> what the one line says (target column: label)
BAD_FILES = {
    "empty": (b"", "bad.csv: empty file"),
    "blank-lines": (b"\n\n", "bad.csv: empty file"),
    "header-only": (b"a,b,label\n", "bad.csv: no rows below the header line"),
    "no-target": (b"a,b\n1,2\n", "bad.csv: no column 'label' for datasets.csv.target (columns:"),
    "only-target": (b"label\nx\nx\n", "no column besides the target 'label'"),
    "text-feature": (
        b"a,colour,label\n1,2,x\n2,red,x\n1,3,y\n2,4,y\n",
        "bad.csv: feature column 'colour' is not numeric (row 2: 'red')",
    ),
    "empty-cell": (b"a,label\n1,x\n,x\n1,y\n2,y\n", "feature column 'a' is empty in row 2"),
    "infinite": (b"a,label\n1,x\ninf,x\n1,y\n2,y\n", "feature column 'a' holds inf in row 2"),
    "lonely-class": (
        b"a,label\n1,x\n2,x\n3,y\n4,z\n5,z\n",
        "bad.csv: class 'y' of column 'label' has only 1 row (allowed: at least 2",
    ),
    "no-class": (b"a,label\n1,x\n2,\n3,x\n", "the target column 'label' is empty in row 2"),
    "extra-field": (b"a,label\n1,x\n2,x,7\n", "bad.csv: not a well-formed CSV file"),
    "extra-field-everywhere": (b"a,label\n1,x,5\n2,y,3\n", "more fields than the header"),
    "twice-named": (b"a,a,label\n1,2,x\n", "the header names column 'a' twice"),
    "unnamed": (b"a,,label\n1,2,x\n", "column 2 has no name in the header line"),
    "latin-1": ("a,label\n1,café\n".encode("latin-1"), "bad.csv: not a UTF-8 text file"),
}


@pytest.mark.parametrize(("content", "expect"), BAD_FILES.values(), ids=list(BAD_FILES))
def test_a_bad_file_is_one_line_naming_it(tmp_path, content, expect):
    (tmp_path / "bad.csv").write_bytes(content)
    with pytest.raises(DataFileError) as info:
        read_table("bad.csv", "label", root=tmp_path)
    assert "\n" not in str(info.value) and expect in str(info.value)


def test_missing_files_and_columns(tmp_path, wine):
    with pytest.raises(DataFileError, match="nosuch.csv: file not found"):
        read_table("nosuch.csv", "label", root=tmp_path)
    with pytest.raises(DataFileError, match="a folder, not a CSV file"):
        read_table(".", "label", root=tmp_path)
    with pytest.raises(DataFileError, match="no column 'nope' for datasets.csv.features"):
        read_table("wine.csv", "target", ["alcohol", "nope"], root=wine)
    with pytest.raises(DataFileError, match="features names the target column"):
        read_table("wine.csv", "target", ["target"], root=wine)
