"""The pipeline as a user drives it: stages' bad input, and dvc end to end on the smoke preset."""

import json
import re
import sys

import numpy as np
import pytest
import yaml

from .conftest import run

BASELINE_OUTPUTS = ["results/baseline/metrics.json", "results/baseline/curves.csv"]


def stderr_lines(result):
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture
def seeded_repo(repo_copy):
    """A repo copy with a valid blobs dataset and earlier baseline outputs to protect."""
    run([sys.executable, "-m", "layerwise.config.compose", "experiment=smoke"], repo_copy)
    run([sys.executable, "stages/data.py", "blobs"], repo_copy)
    for rel in BASELINE_OUTPUTS:
        path = repo_copy / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"earlier result {rel}\n")
    return repo_copy


def edit_params(repo, edit):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    edit(params)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


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
            lambda r: edit_params(r, lambda p: p["baseline"].update(n_replicas=0)),
            "baseline.n_replicas = 0 is out of range (allowed: a number >= 1)",
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


def ran_stages(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def test_dvc_end_to_end_on_the_smoke_preset(repo_copy):
    dvc = [sys.executable, "-m", "dvc"]
    first = run([*dvc, "exp", "run", "-S", "experiment=smoke"], repo_copy)
    report = (repo_copy / "reports/report.md").read_text()
    assert "## Baseline" in report and "Preset **smoke**" in report
    assert "(figures/baseline_curves.png)" in report
    linked = re.findall(r"\]\((figures/[^)]+\.png)\)", report)
    assert "figures/baseline_curves.png" in linked and "figures/data_blobs.png" in linked
    for link in linked:  # every figure the report shows was written
        assert (repo_copy / "reports" / link).stat().st_size > 1000, link
    assert {"baseline", "report", "data", "ensemble_compare"} <= ran_stages(first.stdout)
    assert "### One budget, every method" in report and "figures/ensemble_compare.png" in linked
    metrics = json.loads((repo_copy / "results/baseline/metrics.json").read_text())
    assert metrics["n_replicas"] == 3 and 0 < metrics["test_accuracy"]["mean"] <= 1

    again = run([*dvc, "repro"], repo_copy)
    assert ran_stages(again.stdout) == set(), again.stdout

    # same params -> the same metrics, bit for bit
    run([*dvc, "repro", "-f", "baseline"], repo_copy)
    rerun = json.loads((repo_copy / "results/baseline/metrics.json").read_text())
    assert rerun == metrics

    # one baseline key reruns the baseline, the greedy study grown from it, and the report
    # dvc composes from conf/ with only the overrides given, so the preset is named again
    # (without it every study whose smoke settings differ from the book's would rerun)
    changed = run(
        [*dvc, "exp", "run", "-S", "experiment=smoke", "-S", "baseline.epochs=3"], repo_copy
    )
    assert ran_stages(changed.stdout) == {"baseline", "greedy_supervised", "report"}, changed.stdout
    assert (
        "overrides of that preset: `baseline.epochs=3`"
        in (repo_copy / "reports/report.md").read_text()
    )
    shown = run([*dvc, "exp", "show", "--md", "--no-pager"], repo_copy).stdout
    assert "test_accuracy.mean" in shown

    # a wrong type is refused while composing; results already there stay as they are
    before = (repo_copy / "results/baseline/metrics.json").read_bytes()
    bad = run([*dvc, "exp", "run", "-S", "baseline.epochs=abc"], repo_copy, check=False)
    assert bad.returncode != 0
    assert "could not be converted to Integer" in bad.stdout + bad.stderr
    assert (repo_copy / "results/baseline/metrics.json").read_bytes() == before
    curves = np.loadtxt(repo_copy / "results/baseline/curves.csv", delimiter=",", skiprows=1)
    assert curves.shape[0] == 3

    # the greedy studies are cached apart: an unsupervised key leaves the supervised one be
    unsupervised = run(
        [*dvc, "exp", "run", "-S", "experiment=smoke", "-S", "greedy.unsupervised.epochs=2"],
        repo_copy,
    )
    assert ran_stages(unsupervised.stdout) == {"greedy_unsupervised", "report"}, unsupervised.stdout
    assert "## Greedy layer-wise pretraining" in (repo_copy / "reports/report.md").read_text()
