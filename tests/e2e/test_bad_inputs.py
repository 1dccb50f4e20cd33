"""Every bad input the project knows of, through the entry point a user reaches it by: one
line on stderr naming the key or file and what is allowed, a non-zero exit, no traceback,
and every earlier output (data/, results/, reports/, params.yaml) byte-identical.

Three tables:
- OVERRIDES: values given on the command line. In `make test` each goes through the
  composition that `make params` runs (`python -m layerwise.config.compose`: its `main`,
  in this process, and one case through the command itself); the slow tier
  (`make test-all`) sends every one through `dvc exp run -S` on a finished smoke run and
  checks that no stage ran but `check`.
- EDITS: hand edits of params.yaml, caught by the `check` stage (what `dvc repro` runs
  first): each through the loader it runs, in this process, and one through the script.
- FILES: damaged or missing inputs and results, each through the stage script that reads it
  (most run in the test's process; a few, each of a different kind, as processes).

TensorFlow prints a few start-up notices on stderr before its logging is set up, whatever
TF_CPP_MIN_LOG_LEVEL says. The engine holds them back (layerwise.engine.backend), but a
stage that imports Keras on its own (the data stage's CIFAR-10 download) shows them above
the error line, so they are left out of the count (TF_NOTICES).

Every case works in a copy of its own: of the seeded template (`stage_repo`) or of the
finished smoke run (`smoke_run`), both in tests/e2e/conftest.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from layerwise.config import compose as compose_command
from layerwise.config import load_params
from layerwise.pipeline.errors import UserError

from ..helpers.commands import edit_params, ran_stages, run, run_script_here, snapshot

TF_NOTICES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)|"
    r"[IWE]\d{4} [\d:.]+\s+\d+ \S+\.cc:\d+\]|"
    r"WARNING:absl:)"
)


@dataclass(frozen=True)
class Override:
    overrides: tuple[str, ...]
    expect: str  # in the one error line


OVERRIDES = {
    # ranges and choices, field by field
    "zero-replicas": Override(("baseline.repeats=0",), "baseline.repeats = 0 is out of range"),
    "negative-epochs": Override(("baseline.epochs=-1",), "baseline.epochs = -1 is out of range"),
    # a key under its old name, and a typo: the section's own one line, not Hydra's
    "renamed-key": Override(
        ("greedy.unsupervised.n_replicas=5",),
        "'greedy.unsupervised.n_replicas' is now called 'greedy.unsupervised.repeats'",
    ),
    "unknown-key": Override(
        ("greedy.supervised.epoch=5",), "unknown key 'greedy.supervised.epoch' (allowed: "
    ),
    "zero-batch": Override(("baseline.batch_size=0",), "baseline.batch_size = 0 is out of range"),
    "nan-rate": Override(("optimizer.learning_rate=nan",), "optimizer.learning_rate"),
    "inf-rate": Override(("optimizer.learning_rate=inf",), "optimizer.learning_rate"),
    "zero-rate": Override(("optimizer.learning_rate=0",), "optimizer.learning_rate = 0.0 is out"),
    "momentum-above-1": Override(("optimizer.momentum=1.5",), "optimizer.momentum = 1.5"),
    "negative-fine-tune-rate": Override(
        ("greedy.supervised.fine_tune_learning_rate=-0.1",),
        "greedy.supervised.fine_tune_learning_rate = -0.1",
    ),
    "negative-seed": Override(("seed=-1",), "seed = -1 is out of range"),
    "seed-above-32-bits": Override(("seed=5000000000",), "seed = 5000000000 is out of range"),
    "negative-random-state": Override(
        ("datasets.blobs.random_state=-1",), "datasets.blobs.random_state = -1 is out of range"
    ),
    "random-state-above-32-bits": Override(
        ("datasets.blobs.random_state=5000000000",), "datasets.blobs.random_state = 5000000000"
    ),
    "zero-cluster-std": Override(("datasets.blobs.cluster_std=0",), "datasets.blobs.cluster_std"),
    "unknown-scaling": Override(("datasets.blobs.scale=minmax",), "datasets.blobs.scale"),
    # each dataset kind has its own keys (`datasets` is open in Hydra's schema: the
    # schema's check names the kind a key belongs to)
    "key-of-another-kind": Override(
        ("datasets.blobs.path=x",),
        "datasets.blobs.path: 'path' is a key of csv datasets, not of blobs (allowed: kind, "
        "n_samples, n_train, random_state, cluster_std, scale)",
    ),
    "unknown-dataset-key": Override(
        ("datasets.digits.nope=1",), "unknown key 'datasets.digits.nope' (allowed: kind,"
    ),
    "dataset-wrong-type": Override(
        ("datasets.blobs.n_samples=abc",),
        "datasets.blobs.n_samples = 'abc' has the wrong type (allowed: an integer)",
    ),
    "kind-changed-keys-kept": Override(
        ("datasets.blobs.kind=digits",),
        "datasets.blobs has the keys of a blobs dataset but kind = 'digits': remove cluster_std",
    ),
    "kind-changed-key-missing": Override(
        ("datasets.digits.kind=blobs",),
        "key 'datasets.digits.cluster_std' is missing (allowed: every key of kind blobs:",
    ),
    "csv-entry-other-kind": Override(
        ("datasets.csv.kind=digits",), "datasets.csv.kind = 'digits' is not allowed (allowed: csv"
    ),
    "misspelt-dataset": Override(
        ("datasets.blob.n_train=10",), "key 'datasets.blob.kind' is missing"
    ),
    "unknown-activation": Override(("model.activation=softplus",), "model.activation"),
    "wrong-type": Override(("baseline.epochs=abc",), "baseline.epochs"),
    "unknown-key-added": Override(("+baseline.nope=1",), "unknown key 'baseline.nope'"),
    "unknown-preset": Override(("experiment=nosuch",), "nosuch"),
    # names that must exist
    "unknown-dataset": Override(("data.name=nosuch",), "data.name = 'nosuch' is not a dataset"),
    "unknown-compare-dataset": Override(
        ("ensembles.compare.dataset=nosuch",), "ensembles.compare.dataset = 'nosuch'"
    ),
    "unknown-few-labels-dataset": Override(
        ("greedy.few_labels.datasets=[nosuch]",), "greedy.few_labels.datasets: 'nosuch'"
    ),
    "unknown-transfer-dataset": Override(
        ("transfer.cases.forward.dataset=nosuch",), "transfer.cases.forward.dataset"
    ),
    # splits: one batch to train on, one held-out row per class
    "no-test-rows": Override(("datasets.blobs.n_train=1000",), "datasets.blobs.n_train = 1000"),
    "tiny-mnist1d": Override(
        ("datasets.mnist1d.n_samples=5", "datasets.mnist1d.n_train=4"),
        "datasets.mnist1d: n_samples = 5 with n_train = 4 is too small to split",
    ),
    **{
        f"all-validation-{method}": Override(
            (f"ensembles.{method}.validation_fraction=1.0",),
            f"ensembles.{method}.validation_fraction = 1.0",
        )
        for method in ("weighted_average", "stacking", "snapshot", "compare")
    },
    "most-validation": Override(
        ("ensembles.stacking.validation_fraction=0.999",),
        "ensembles.stacking.validation_fraction = 0.999 leaves 0 training and",
    ),
    "all-split-test": Override(
        ("ensembles.resampling.split_test_fraction=1.0",),
        "ensembles.resampling.split_test_fraction = 1.0 leaves 0 training and",
    ),
    "too-many-folds": Override(
        ("ensembles.resampling.n_members=500",), "ensembles.resampling.n_members = 500 leaves"
    ),
    "depth-validation": Override(
        ("greedy.depth_selection.validation_fraction=0.95",),
        "greedy.depth_selection.validation_fraction = 0.95",
    ),
    # counts bounded by the data and the machine
    "huge-bootstrap": Override(
        ("ensembles.resampling.bootstrap_size=10000000",),
        "ensembles.resampling.bootstrap_size = 10000000 is not possible",
    ),
    # (estimates of terabytes: refused on any machine this runs on)
    "huge-baseline": Override(
        ("baseline.repeats=100000000",), "baseline.repeats = 100000000 needs about"
    ),
    "huge-autoencoders": Override(
        ("greedy.unsupervised.repeats=100000000",), "greedy.unsupervised.repeats"
    ),
    "huge-transfer": Override(("transfer.repeats=100000000",), "transfer.repeats = 100000000"),
    "huge-compare": Override(
        ("ensembles.compare.repeats=100000000",), "ensembles.compare.repeats = 100000000"
    ),
    # rules across keys
    "ensemble-larger-than-members": Override(
        ("ensembles.model_averaging.ensemble_size=1000",),
        "ensembles.model_averaging.ensemble_size = 1000 is not possible",
    ),
    "budget-not-multiple": Override(("ensembles.compare.budget=7",), "ensembles.compare.budget"),
    "grid-step": Override(
        ("ensembles.weighted_average.grid_step=0.3",), "ensembles.weighted_average.grid_step"
    ),
    "more-labels-than-rows": Override(
        ("greedy.few_labels.n_labelled=[100000]",), "greedy.few_labels.n_labelled = 100000"
    ),
    "freeze-missing-layer": Override(("transfer.frozen_layers=[5]",), "transfer.frozen_layers"),
    "members-beyond-epochs": Override(
        ("ensembles.horizontal_voting.n_members=100000",),
        "ensembles.horizontal_voting.n_members = 100000",
    ),
    # the csv dataset (its file, datasets/example.csv, is read while composing and by check)
    "csv-unknown-target": Override(
        ("data=csv", "datasets.csv.target=nosuch"),
        "datasets/example.csv: no column 'nosuch' for datasets.csv.target (columns: 'x1',",
    ),
    "csv-unknown-feature": Override(
        ("datasets.csv.features=[x1,nosuch]",),
        "datasets/example.csv: no column 'nosuch' for datasets.csv.features",
    ),
    "csv-all-test": Override(
        ("datasets.csv.test_fraction=1.0",), "datasets.csv.test_fraction = 1.0 is out of range"
    ),
    "csv-batch-above-rows": Override(
        ("data=csv", "baseline.batch_size=256"),
        "datasets/example.csv: its 300 rows leave 210 training rows, fewer than "
        "baseline.batch_size = 256",
    ),
}


def _parent(params: dict, dotted: str) -> tuple[dict, str]:
    """The section holding a dotted key, and the key's last part."""
    *parents, last = dotted.split(".")
    node = params
    for key in parents:
        node = node[key]
    return node, last


def _set(params: dict, dotted: str, value) -> None:
    node, last = _parent(params, dotted)
    node[last] = value


def _delete(params: dict, dotted: str):
    node, last = _parent(params, dotted)
    return node.pop(last)


@dataclass(frozen=True)
class Edit:
    edit: Callable[[Path], None]  # changes params.yaml in the repo given
    expect: str


def _params_edit(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda repo: edit_params(repo, change)


def _params_text(text: str) -> Callable[[Path], None]:
    return lambda repo: (repo / "params.yaml").write_text(text)


EDITS = {
    "missing-key": Edit(
        _params_edit(lambda p: _delete(p, "baseline.repeats")),
        "key 'baseline.repeats' is missing",
    ),
    "missing-section": Edit(_params_edit(lambda p: _delete(p, "greedy")), "key 'greedy"),
    "renamed-key-edit": Edit(
        _params_edit(lambda p: _set(p, "baseline.n_replicas", _delete(p, "baseline.repeats"))),
        "params.yaml: 'baseline.n_replicas' is now called 'baseline.repeats': rename it",
    ),
    "unknown-key-edit": Edit(
        _params_edit(lambda p: _set(p, "baseline.nope", 1)), "unknown key 'baseline.nope'"
    ),
    "wrong-type-edit": Edit(
        _params_edit(lambda p: _set(p, "baseline.epochs", "ten")),
        "baseline.epochs = 'ten' has the wrong type",
    ),
    "yaml-nan": Edit(
        _params_edit(lambda p: _set(p, "optimizer.learning_rate", float("nan"))),
        "optimizer.learning_rate",
    ),
    "list-for-number": Edit(
        _params_edit(lambda p: _set(p, "baseline.repeats", [1, 2])), "baseline.repeats"
    ),
    "not-yaml": Edit(_params_text("baseline: [unclosed\n"), "params.yaml: not valid YAML"),
    "not-a-mapping": Edit(_params_text("- a list\n"), "params.yaml: expected a mapping"),
    "empty-params": Edit(_params_text(""), "params.yaml: expected a mapping"),
    "csv-path-in-outputs": Edit(
        _params_edit(lambda p: _set(p, "datasets.csv.path", "data/mine.csv")),
        "datasets.csv.path = 'data/mine.csv' is inside data/, which the pipeline writes",
    ),
    "csv-path-outside": Edit(
        _params_edit(lambda p: _set(p, "datasets.csv.path", "../mine.csv")),
        "datasets.csv.path = '../mine.csv' is not inside the repository",
    ),
    "key-of-another-kind-edit": Edit(
        _params_edit(lambda p: _set(p, "datasets.digits.source", "")),
        "datasets.digits.source: 'source' is a key of cifar10 datasets, not of digits",
    ),
    "dataset-key-missing": Edit(
        _params_edit(lambda p: _delete(p, "datasets.blobs.cluster_std")),
        "key 'datasets.blobs.cluster_std' is missing",
    ),
    "csv-kind-elsewhere": Edit(
        _params_edit(lambda p: _set(p, "datasets.blobs.kind", "csv")),
        "datasets.blobs.kind = 'csv' is only allowed for datasets.csv",
    ),
}


@dataclass(frozen=True)
class Damage:
    damage: Callable[[Path], None]  # breaks or removes a file in a finished smoke run
    stage: tuple[str, ...]  # the stage script (and arguments) that reads it
    expect: str
    offline: bool = False  # run with every download refused (an unreachable proxy)
    # a process of its own, as `dvc repro` starts it (its start-up notices, exit code);
    # the other cases run the script in the test's process (`run_script_here`)
    process: bool = False


def _write(rel: str, content: bytes) -> Callable[[Path], None]:
    return lambda repo: (repo / rel).write_bytes(content)


def _truncate(rel: str) -> Callable[[Path], None]:
    def cut(repo: Path) -> None:
        raw = (repo / rel).read_bytes()
        (repo / rel).write_bytes(raw[: len(raw) // 2 + 3])

    return cut


def _cifar(source: str, name: str) -> Callable[[Path], None]:
    """Add a small CIFAR-10 dataset `name` read from `source` ('' = download)."""

    def add(repo: Path) -> None:
        def entry(params: dict) -> None:
            params["datasets"][name] = {
                "kind": "cifar10",
                "n_samples": 30,
                "n_train": 20,
                "scale": "unit",
                "source": source and str(repo / source),
            }

        edit_params(repo, entry)

    return add


def _cifar_garbage(repo: Path) -> None:
    folder = repo / "garbage_cifar"
    folder.mkdir(exist_ok=True)
    for name in ("data_batch_1", "test_batch"):
        (folder / name).write_bytes(b"\x80\x04 not a pickle")
    _cifar("garbage_cifar", "cifar_here")(repo)


def _table(content: bytes | None, target: str = "label") -> Callable[[Path], None]:
    """The baseline's data as a CSV file datasets/bad.csv holding `content` (None: no file)."""

    def write(repo: Path) -> None:
        path = repo / "datasets/bad.csv"
        path.unlink(missing_ok=True)
        if content is not None:
            path.write_bytes(content)

        def point_at_it(params: dict) -> None:
            params["data"]["name"] = "csv"
            params["datasets"]["csv"].update(path="datasets/bad.csv", target=target)

        edit_params(repo, point_at_it)

    return write


def _rows(n: int, classes: str = "ab", extra: str = "") -> bytes:
    lines = ["x1,x2,label"] + [f"{i},{i % 7},{classes[i % len(classes)]}" for i in range(n)]
    return ("\n".join(lines) + "\n" + extra).encode()


NOISE = np.random.default_rng(0).bytes(2048)
FILES = {
    "metrics-not-json": Damage(
        _write("results/baseline/metrics.json", b'{"n_replicas": 3,'),
        ("stages/report.py",),
        "results/baseline/metrics.json: not valid JSON",
        process=True,
    ),
    "metrics-wrong-shape": Damage(
        _write("results/baseline/metrics.json", b"{}\n"),
        ("stages/report.py",),
        "results/ do not hold what the report expects",
    ),
    "curves-truncated": Damage(
        _truncate("results/baseline/curves.csv"),
        ("stages/report.py",),
        "results/baseline/curves.csv: truncated or damaged CSV",
    ),
    "metrics-missing": Damage(
        lambda repo: (repo / "results/baseline/metrics.json").unlink(),
        ("stages/report.py",),
        "results/baseline/metrics.json: file not found",
    ),
    "replicas-npz-noise": Damage(
        _write("results/baseline/replicas.npz", NOISE),
        ("stages/greedy_supervised.py",),
        "results/baseline/replicas.npz: not a valid replica file",
        process=True,  # a training stage: TensorFlow's start-up before the line
    ),
    "dataset-missing": Damage(
        lambda repo: (repo / "data/blobs.npz").unlink(),
        ("stages/baseline.py",),
        "data/blobs.npz: file not found",
    ),
    "dataset-corrupt": Damage(
        _write("data/blobs.npz", b"PK\x03\x04 truncated"),
        ("stages/baseline.py",),
        "data/blobs.npz: not a readable dataset file",
    ),
    "source-model-noise": Damage(
        _write("results/transfer_source/models/p1.keras", NOISE),
        ("stages/transfer.py",),
        "results/transfer_source/models/p1.keras: not a readable .keras model",
    ),
    "cifar-folder-garbage": Damage(
        _cifar_garbage,
        ("stages/data.py", "cifar_here"),
        "garbage_cifar/data_batch_1: not a CIFAR-10 batch",
    ),
    "cifar-offline": Damage(
        _cifar("", "cifar_net"),
        ("stages/data.py", "cifar_net"),
        "could not download CIFAR-10 (for a dataset of kind cifar10",
        offline=True,
        process=True,  # Keras reads KERAS_HOME once, when it is first imported
    ),
    "unknown-data-argument": Damage(
        lambda repo: None, ("stages/data.py", "nosuch"), "unknown dataset 'nosuch'"
    ),
    # the user's table: refused by the check stage (which reads it first) and by data
    "csv-missing": Damage(
        _table(None), ("stages/check.py",), "datasets/bad.csv: file not found", process=True
    ),
    "csv-empty": Damage(_table(b""), ("stages/check.py",), "datasets/bad.csv: empty file"),
    "csv-no-target-column": Damage(
        _table(_rows(60), target="species"),
        ("stages/check.py",),
        "datasets/bad.csv: no column 'species' for datasets.csv.target (columns: 'x1', 'x2', "
        "'label')",
    ),
    "csv-text-feature": Damage(
        _table(_rows(60, extra="3,lots,a\n")),
        ("stages/check.py",),
        "datasets/bad.csv: feature column 'x2' is not numeric (row 61: 'lots')",
    ),
    "csv-text-feature-data-stage": Damage(
        _table(_rows(60, extra="3,lots,a\n")),
        ("stages/data.py", "csv"),
        "datasets/bad.csv: feature column 'x2' is not numeric (row 61: 'lots')",
    ),
    "csv-class-of-one-row": Damage(
        _table(_rows(60, extra="3,4,c\n")),
        ("stages/check.py",),
        "datasets/bad.csv: class 'c' of column 'label' has only 1 row (allowed: at least 2",
    ),
    "csv-fewer-rows-than-a-batch": Damage(
        _table(_rows(20)),
        ("stages/check.py",),
        "datasets/bad.csv: its 20 rows leave 14 training rows, fewer than baseline.batch_size = 32",
    ),
}


# -- the assertions every case shares ------------------------------------------------------


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip() and not TF_NOTICES.match(ln)]


def assert_refused(result, expect: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expect in lines[0], lines[0]


# -- make test ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(OVERRIDES.values()), ids=list(OVERRIDES))
def test_an_override_is_refused_while_composing(stage_repo, case, monkeypatch, capsys):
    """The composition command's `main`, called in this process (a second process costs
    seconds per case, and the command line is the next test's): an exception escaping it
    fails the test, as a traceback would."""
    before = snapshot(stage_repo)
    monkeypatch.chdir(stage_repo)
    code = compose_command.main(["experiment=smoke", *case.overrides])
    out, err = capsys.readouterr()
    assert_refused(subprocess.CompletedProcess([], code, out, err), case.expect)
    assert snapshot(stage_repo) == before


def test_the_composition_command_refuses_in_one_line(stage_repo):
    """`python -m layerwise.config.compose` itself: the same line, exit code 2, no
    traceback and nothing written."""
    before = snapshot(stage_repo)
    cmd = [sys.executable, "-m", "layerwise.config.compose", "experiment=smoke"]
    result = run([*cmd, *OVERRIDES["zero-replicas"].overrides], stage_repo, check=False)
    assert_refused(result, OVERRIDES["zero-replicas"].expect)
    assert result.returncode == 2
    assert snapshot(stage_repo) == before


@pytest.mark.parametrize("case", list(EDITS.values()), ids=list(EDITS))
def test_a_hand_edit_of_params_is_refused_by_the_check_stage(stage_repo, case, monkeypatch):
    """The loader the check stage runs (`load_params` with the repository as the data
    root: stages/check.py), called in this process; the stage's own line and exit code
    are the next test's, and the csv cases of FILES run the script."""
    case.edit(stage_repo)
    before = snapshot(stage_repo)
    monkeypatch.chdir(stage_repo)
    with pytest.raises(UserError) as refused:
        load_params("params.yaml", data_root=".")
    line = f"error: {refused.value}"
    assert_refused(subprocess.CompletedProcess([], 2, "", line + "\n"), case.expect)
    assert snapshot(stage_repo) == before


def test_the_check_stage_refuses_a_hand_edit_in_one_line(stage_repo):
    case = EDITS["renamed-key-edit"]
    case.edit(stage_repo)
    before = snapshot(stage_repo)
    result = run([sys.executable, "stages/check.py"], stage_repo, check=False)
    assert_refused(result, case.expect)
    assert result.returncode == 2
    assert snapshot(stage_repo) == before


@pytest.mark.parametrize("case", list(FILES.values()), ids=list(FILES))
def test_a_damaged_file_is_named_by_the_stage_that_reads_it(smoke_run, case, monkeypatch, capsys):
    repo = smoke_run.repo  # a copy of the finished smoke run, this test's own
    case.damage(repo)
    before = snapshot(repo)
    if case.process:
        env = None
        if case.offline:  # nothing cached (an empty KERAS_HOME), nothing reachable
            proxy = "http://127.0.0.1:9"
            keras_home = repo / "empty_keras_home"
            keras_home.mkdir(exist_ok=True)
            env = {"HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy}
            env |= {"http_proxy": proxy, "KERAS_HOME": str(keras_home)}
        result = run([sys.executable, *case.stage], repo, check=False, env=env)
    else:
        code = run_script_here(repo, case.stage, monkeypatch)
        out, err = capsys.readouterr()
        result = subprocess.CompletedProcess(list(case.stage), code, out, err)
    assert_refused(result, case.expect)
    assert result.returncode == 2  # the stage runner's code for bad input
    assert snapshot(repo) == before


def test_the_tables_hold_at_least_forty_cases():
    assert len(OVERRIDES) + len(EDITS) + len(FILES) >= 40


# -- make test-all: every override through `dvc exp run` ----------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("case", list(OVERRIDES.values()), ids=list(OVERRIDES))
def test_an_override_given_to_dvc_exp_run_is_refused_before_any_stage(smoke_run, case):
    """`dvc exp run -S` refuses while composing (the `checked` key runs the schema's
    checks) or, for a check that reads a data file, in the `check` stage: nothing else
    runs and every output keeps its bytes. DVC words the failure its
    own way ('ERROR: unexpected error - ...'), with our message in it."""
    params = smoke_run.repo / "params.yaml"
    original = params.read_bytes()
    before = snapshot(smoke_run.repo)
    args = ["exp", "run", "-S", "experiment=smoke"]
    for override in case.overrides:
        args += ["-S", override]
    result = smoke_run.dvc(*args, check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    # refused while composing; a check that reads a data file (the csv dataset's)
    # is the check stage's, which DVC runs first, before any output is deleted
    assert ran_stages(result.stdout) <= {"check"}, result.stdout
    ours = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    said = result.stdout + result.stderr
    assert len(ours) <= 1 and case.expect in said, said
    params.write_bytes(original)  # DVC may have composed it before the check refused it
    assert snapshot(smoke_run.repo) == before
