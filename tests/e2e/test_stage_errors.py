"""The stage scripts on bad input, in a copy of the repo: one line on stderr naming what is
wrong, exit code 2, and earlier results left as they were."""

import sys

import pytest

from ..helpers.commands import edit_params, run, stderr_lines

BASELINE_OUTPUTS = ["results/baseline/metrics.json", "results/baseline/curves.csv"]


@pytest.fixture
def seeded_repo(stage_repo):
    """A repo copy with a valid blobs dataset and earlier baseline outputs to protect."""
    for rel in BASELINE_OUTPUTS:
        path = stage_repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"earlier result {rel}\n")
    return stage_repo


def corrupt_data(repo):
    (repo / "data/blobs.npz").write_bytes(b"PK\x03\x04 truncated")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda r: edit_params(r, lambda p: p["baseline"].update(nope=1)),
            "unknown key 'baseline.nope'",
        ),
        (
            lambda r: edit_params(r, lambda p: p["baseline"].update(epochs="ten")),
            "baseline.epochs = 'ten' has the wrong type (allowed: an integer)",
        ),
        (
            lambda r: edit_params(r, lambda p: p["baseline"].update(repeats=0)),
            "baseline.repeats = 0 is out of range (allowed: a number >= 1)",
        ),
        (
            lambda r: edit_params(r, lambda p: p["data"].update(name="imagenet")),
            "data.name = 'imagenet' is not a dataset",
        ),
        (lambda r: (r / "data/blobs.npz").unlink(), "data/blobs.npz: file not found"),
        (corrupt_data, "data/blobs.npz: not a readable dataset file"),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "zero-count",
        "unknown-dataset",
        "missing-data",
        "corrupt-data",
    ],
)
def test_bad_input_is_one_line_and_touches_nothing(seeded_repo, damage, message):
    damage(seeded_repo)
    result = run([sys.executable, "stages/baseline.py"], seeded_repo, check=False)
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    for rel in BASELINE_OUTPUTS:
        assert (seeded_repo / rel).read_text() == f"earlier result {rel}\n"


def test_unknown_dataset_stage_argument(seeded_repo):
    result = run([sys.executable, "stages/data.py", "nosuch"], seeded_repo, check=False)
    assert result.returncode == 2
    assert "unknown dataset 'nosuch' (allowed: blobs," in result.stderr
