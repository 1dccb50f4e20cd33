"""The study on a user's own table, as the user runs it: scikit-learn's wine data written
as a CSV file into a copy of the finished smoke run, then one `dvc exp run` that points
the baseline, the greedy studies and the ensemble comparison at it.

The run is made once per module (`csv_shared`); each test works on a private copy of it
(`csv_run`), so that any test can run alone or in any order: the run, an edit of the file
(what reruns), bad files (stopped by `check`, every result kept).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from ..helpers.audit_log import audit_env, read_audit
from ..helpers.commands import DVC, copy_run, ran_stages, run, snapshot

# a second pipeline run on its own table (about two minutes here): the slow tier; the
# table's parsing, bounds and refusals are tests/config/test_csv_config.py's (make test)
pytestmark = pytest.mark.slow

TABLE = "datasets/wine.csv"
COMMAND = (
    "exp",
    "run",
    "-S",
    "experiment=smoke",
    "-S",
    "data=csv",
    "-S",
    f"datasets.csv.path={TABLE}",
    "-S",
    "datasets.csv.target=target",
    "-S",
    "ensembles.compare.dataset=csv",
)
# what trains on the table, and what follows from it
ON_THE_TABLE = {
    "baseline",
    "greedy_supervised",
    "greedy_unsupervised",
    "greedy_activations",
    "greedy_depth",
    "ensemble_compare",
    "report",
}


@dataclass
class CsvRun:
    repo: Path
    env: dict[str, str]  # the audit hook's, for the commands run in `repo`
    log: Path  # the audit log of COMMAND's run
    first: object  # the CompletedProcess of COMMAND

    def dvc(self, *args: str, check: bool = True):
        return run([*DVC, *args], self.repo, check=check, env=self.env)

    def status(self) -> dict:
        return json.loads(self.dvc("status", "--json").stdout or "{}")


@pytest.fixture(scope="module")
def csv_shared(shared_smoke_run, keep_unchanged, tmp_path_factory) -> CsvRun:
    """A copy of the finished smoke run (its own audit log), the wine table written into
    it, and COMMAND run once: copied by `csv_run`, never changed (checked after every
    test)."""
    from sklearn.datasets import load_wine

    root = tmp_path_factory.mktemp("csv")
    repo = copy_run(shared_smoke_run.repo, root / "repo")
    load_wine(as_frame=True).frame.to_csv(repo / TABLE, index=False)
    log = root / "audit.log"
    env = audit_env(log)
    first = run([*DVC, *COMMAND], repo, env=env)
    keep_unchanged(repo)
    return CsvRun(repo, env, log, first)


@pytest.fixture
def csv_run(csv_shared, tmp_path) -> CsvRun:
    """A private copy of the run on the table: this test's own to edit and rerun in (its
    stages audited to a log of its own; `log` stays the first run's)."""
    repo = copy_run(csv_shared.repo, tmp_path / "repo")
    return replace(csv_shared, repo=repo, env=audit_env(tmp_path / "audit.log"))


def test_one_command_runs_the_studies_on_the_table(csv_run):
    ran = ran_stages(csv_run.first.stdout)
    assert ran == {"check", "data", "claims"} | ON_THE_TABLE, csv_run.first.stdout
    assert (
        "csv: csv (datasets/wine.csv, target 'target': 3 classes, 13 features), 124 train rows"
        in csv_run.first.stdout
    )
    results = csv_run.repo / "results"
    for stage in ("baseline", "greedy_supervised", "greedy_depth"):
        assert json.loads((results / stage / "metrics.json").read_text())["dataset"] == "csv"
    compare = json.loads((results / "ensemble_compare/summary.json").read_text())
    assert compare["dataset"] == "csv" and compare["training_rows"] == 124
    # the baseline's saved model: 13 inputs, 3 classes (its Keras config, read as JSON)
    with zipfile.ZipFile(results / "baseline/model.keras") as model:
        layers = json.loads(model.read("config.json"))["config"]["layers"]
    assert layers[0]["config"]["batch_shape"] == [None, 13]
    assert layers[-1]["config"]["units"] == 3
    with np.load(csv_run.repo / "data/csv.npz") as built:
        assert built["x_train"].shape == (124, 13)
        assert built["class_names"].tolist() == ["0", "1", "2"]
    report = (csv_run.repo / "reports/report.md").read_text()
    assert "The baseline trains on **csv**, the table `datasets/wine.csv`" in report
    assert "3 classes, 0, 1, 2; 13 feature columns; 124 training rows, 54 test rows" in report
    assert "(figures/data_csv.png)" in report


def test_only_check_and_data_read_the_table(csv_run):
    audit = read_audit(csv_run.log)
    readers = {stage for stage, seen in audit.items() if TABLE in seen.reads}
    assert readers == {"check", "data"}


def test_an_edit_to_the_table_reruns_data_and_what_depends_on_it(csv_run):
    """Dropping rows changes the file: check and data see it first; once data has rebuilt
    data/csv.npz, every stage on the table is out of date (and nothing else)."""
    path = csv_run.repo / TABLE
    lines = path.read_text().splitlines(keepends=True)
    assert csv_run.status() == {}
    path.write_text("".join(lines[:-10]))
    assert set(csv_run.status()) == {"check", "data"}
    rebuilt = csv_run.dvc("repro", "data")
    assert ran_stages(rebuilt.stdout) == {"check", "data"}
    assert "117 train rows" in rebuilt.stdout  # 168 rows, 51 of them test
    assert set(csv_run.status()) == ON_THE_TABLE


def test_a_bad_table_stops_at_check_and_every_result_stays(csv_run):
    """An edit that breaks the file is refused by `check`, which depends on the file: DVC
    runs it before `data` would delete data/."""
    path = csv_run.repo / TABLE
    good = path.read_bytes()
    before = snapshot(csv_run.repo)
    try:
        rows = [line.split(",") for line in good.decode().splitlines()]
        rows[5][2] = "n/a?"  # data row 5, column ash
        path.write_text("".join(",".join(row) + "\n" for row in rows))
        bad = csv_run.dvc("repro", check=False)
        assert bad.returncode != 0 and ran_stages(bad.stdout) == {"check"}, bad.stdout
        errors = [ln for ln in bad.stderr.splitlines() if ln.startswith("error: ")]
        assert errors == [
            "error: datasets/wine.csv: feature column 'ash' is not numeric (row 5: 'n/a?'); "
            "leave it out with datasets.csv.features or encode it as numbers"
        ], bad.stderr
        assert snapshot(csv_run.repo) == before
    finally:
        path.write_bytes(good)


def test_a_missing_table_is_named_by_dvc_and_nothing_runs(csv_run):
    """A path to no file: DVC refuses the missing dependency of `check` itself, in one
    line naming it, before any stage runs."""
    params = csv_run.repo / "params.yaml"
    original, before = params.read_bytes(), snapshot(csv_run.repo)
    try:
        missing = csv_run.dvc(
            *("exp", "run", "-S", "experiment=smoke", "-S", "data=csv"),
            *("-S", "datasets.csv.path=datasets/no.csv", "-S", "datasets.csv.target=target"),
            check=False,
        )
        assert missing.returncode != 0 and ran_stages(missing.stdout) == set()
        said = missing.stdout + missing.stderr
        assert "failed to reproduce 'check'" in said and "datasets/no.csv" in said, said
        params.write_bytes(original)
        assert snapshot(csv_run.repo) == before
    finally:
        params.write_bytes(original)
