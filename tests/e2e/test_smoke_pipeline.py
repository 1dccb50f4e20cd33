"""dvc end to end on the smoke preset, as a user drives it.

`dvc exp run -S experiment=smoke` runs once per session in a copy of the repo; each test
gets a private copy of that finished run (`smoke_run`, tests/e2e/conftest.py) and starts
from it, whatever ran before: the checks of the first run, the edits that `dvc status`
judges, and the steps that change params and rerun.
"""

import json
import re

import numpy as np
import pandas as pd
import pytest

from layerwise.config import compose as compose_command

from ..helpers.commands import outputs, ran_stages

BASELINE_METRICS = "results/baseline/metrics.json"
# a case the default tier already holds in another form (the composition in-process:
# tests/e2e/test_bad_inputs.py; another key of the same kind): make test-all
SLOW = pytest.mark.slow

# -- the first run (read-only) -------------------------------------------------------------


def test_the_first_run_runs_every_stage(smoke_run):
    ran = ran_stages(smoke_run.first.stdout)
    assert {"baseline", "report", "data", "ensemble_compare"} <= ran
    assert ran == set(smoke_run.deps), smoke_run.first.stdout


def test_the_report_has_every_section_and_figure(smoke_run):
    report = smoke_run.report
    assert "## Baseline" in report and "Preset **smoke**" in report
    assert "## Greedy layer-wise pretraining" in report
    assert "### One budget, every method" in report
    assert "(figures/baseline_curves.png)" in report
    linked = re.findall(r"\]\((figures/[^)]+\.png)\)", report)
    assert "figures/baseline_curves.png" in linked and "figures/data_blobs.png" in linked
    assert "figures/ensemble_compare.png" in linked
    for link in linked:  # every figure the report shows was written
        assert (smoke_run.repo / "reports" / link).stat().st_size > 1000, link


def test_the_baseline_metrics(smoke_run):
    metrics = smoke_run.metrics
    assert metrics["n_replicas"] == 3 and 0 < metrics["test_accuracy"]["mean"] <= 1


def test_python_json_tool_reads_every_metrics_file_diverged_runs_included(smoke_run):
    files = sorted((smoke_run.repo / "results").rglob("*.json"))
    assert len(files) > 15
    for path in files:
        smoke_run.python("-m", "json.tool", str(path))  # fails on NaN, Infinity, truncation
    # a summary over repeats leaves out the runs that diverged (inf/NaN) and counts them:
    # a positive count where some did, a null mean only where every run did
    for path in files:
        for stat in summaries(json.loads(path.read_text())):
            diverged = stat.get("diverged", 0)
            assert isinstance(diverged, int) and diverged >= 0, (path, stat)
            assert stat["mean"] is not None or diverged > 0 or stat.get("n") == 0, (path, stat)
    # the autoencoders (SGD with momentum: some may diverge): each count is the number of
    # runs of that depth whose value is not finite in the replicas table
    folder = smoke_run.repo / "results/greedy_unsupervised"
    metrics = json.loads((folder / "metrics.json").read_text())
    replicas = pd.read_csv(folder / "replicas.csv")
    for (method, depth), runs in replicas.groupby(["method", "depth"]):
        stats = metrics[method][f"depth_{depth}"]
        for column, stat in stats.items():
            lost = int((~np.isfinite(runs[column].to_numpy(float))).sum())
            assert stat.get("diverged", 0) == lost, (method, depth, column, stat)
            assert (stat["mean"] is None) == (lost == len(runs)), (method, depth, column)
        assert stats["train_mse"].get("diverged", 0) == int(runs["diverged"].sum())


def summaries(node):
    """Every full summary over repeats in a metrics file (`stats.summarize`: a mean and a
    standard deviation; the compact ones `dvc exp show` lists leave out the counts)."""
    if isinstance(node, dict):
        if "mean" in node and "std" in node:
            yield node
            return
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            yield from summaries(value)


# -- what an edit would rerun (dvc status, in a copy of the test's own) -------------------------


def test_a_second_repro_runs_nothing(smoke_run):
    again = smoke_run.dvc("repro")
    assert ran_stages(again.stdout) == set(), again.stdout
    assert smoke_run.status() == {}


def test_what_a_killed_stage_leaves_is_no_change_and_the_next_stage_removes_it(smoke_run):
    """Temporary files (a kill between writing and renaming) sit in output folders: DVC
    ignores them, and the next stage to start deletes them."""
    left = [
        smoke_run.repo / "data/.blobs.png.k2j3.tmp",
        smoke_run.repo / "results/timing/.baseline.json.x8a.tmp",
        smoke_run.repo / "results/baseline/.model.keras.q1.tmp.keras",
    ]
    for path in left:
        path.write_bytes(b"half-written")
    assert smoke_run.status() == {}
    smoke_run.dvc("repro", "-f", "check")  # any stage: a second, and changes nothing
    assert not any(path.exists() for path in left)
    assert smoke_run.status() == {}


def test_an_edit_to_one_study_reruns_that_study_and_the_report(smoke_run):
    """The copy starts up to date (test_a_second_repro_runs_nothing): what `dvc status`
    names is what the edit changed."""
    path = smoke_run.repo / "src/layerwise/studies/transfer/figures.py"
    path.write_bytes(path.read_bytes() + b"# an edit to the transfer study's figures\n")
    assert set(smoke_run.status()) == {"transfer_source", "transfer", "claims", "report"}


@pytest.mark.parametrize(
    ("override", "stages"),
    [
        # `check` reads all of params.yaml: it reruns (a second, no outputs that move)
        pytest.param("transfer.epochs=3", {"check", "transfer", "claims", "report"}, marks=SLOW),
        ("transfer.source.epochs=3", {"check", "transfer_source", "transfer", "claims", "report"}),
        pytest.param(
            "ensembles.snapshot.cycles=2",
            {"check", "ensemble@snapshot", "claims", "report"},
            marks=SLOW,
        ),
        # the greedy studies are cached apart: an unsupervised key leaves the supervised
        # study be (which a baseline key reruns, the test below)
        ("greedy.unsupervised.epochs=2", {"check", "greedy_unsupervised", "claims", "report"}),
        # a baseline key: the baseline, the greedy study that starts from it, the report
        ("baseline.epochs=3", {"check", "baseline", "greedy_supervised", "claims", "report"}),
    ],
)
def test_a_key_of_one_study_reruns_that_study_and_the_report(
    smoke_run, override, stages, monkeypatch
):
    """Composed the way `dvc exp run -S experiment=smoke -S <key>` composes (the command
    `make params` runs, called in this process), without the run: `dvc status` names the
    stages the run would rerun."""
    monkeypatch.chdir(smoke_run.repo)
    assert compose_command.main(["experiment=smoke", override]) == 0
    assert set(smoke_run.status()) == stages


# -- changing params and rerunning ----------------------------------------------------------


def test_the_same_params_give_the_same_metrics_bit_for_bit(smoke_run):
    """The baseline stage run again on the same data (`-s`: its inputs as they are; that
    the data stage builds the same bytes again is tests/pipeline/test_data.py's)."""
    before = (smoke_run.repo / BASELINE_METRICS).read_text()
    assert json.loads(before) == smoke_run.metrics
    smoke_run.dvc("repro", "-f", "-s", "baseline")
    assert json.loads((smoke_run.repo / BASELINE_METRICS).read_text()) == smoke_run.metrics


@pytest.mark.slow  # two `dvc exp run`s, one training three stages (about a minute)
def test_one_baseline_key_reruns_the_baseline_its_greedy_study_and_the_report_and_back(
    smoke_run,
):
    """The round trip through `dvc exp run`: a baseline key trains three stages again,
    and going back restores them from DVC's run cache. `make test` keeps the parts that
    train nothing: the stages a key reruns (`dvc status`, above) and the columns of
    `dvc exp show` (tests/e2e/test_claims.py)."""
    # dvc composes from conf/ with only the overrides given, so the preset is named again
    # (without it every study whose smoke settings differ from the book's would rerun)
    changed = smoke_run.dvc("exp", "run", "-S", "experiment=smoke", "-S", "baseline.epochs=3")
    ran = ran_stages(changed.stdout)
    assert ran == {"check", "baseline", "greedy_supervised", "claims", "report"}, changed.stdout
    report = (smoke_run.repo / "reports/report.md").read_text()
    assert "overrides of that preset: `baseline.epochs=3`" in report
    curves = np.loadtxt(smoke_run.repo / "results/baseline/curves.csv", delimiter=",", skiprows=1)
    assert curves.shape[0] == 3
    shown = smoke_run.dvc("exp", "show", "--md", "--no-pager").stdout
    # the claims are the columns; the stages' detailed summaries are not
    assert "greedy.supervised.vs_end_to_end.deepest.verdict" in shown
    assert "baseline.test_vs_published.effect" in shown
    assert "test_accuracy.mean" not in shown
    # back to the preset: every stage that reran finds the first run in DVC's run cache,
    # so nothing trains and the first run's results come back
    back = smoke_run.dvc("exp", "run", "-S", "experiment=smoke")
    assert ran_stages(back.stdout) <= {"check"}, back.stdout
    for stage in ("baseline", "greedy_supervised", "claims", "report"):
        assert f"Stage '{stage}' is cached" in back.stdout, back.stdout
    assert json.loads((smoke_run.repo / BASELINE_METRICS).read_text()) == smoke_run.metrics


@pytest.mark.slow  # Hydra's own refusal; tests/config/test_config.py composes it in-process
def test_a_wrong_type_is_refused_while_composing_and_results_stay(smoke_run):
    kept = ["results/baseline/metrics.json", "results/baseline/curves.csv", "params.yaml"]
    before = {rel: (smoke_run.repo / rel).read_bytes() for rel in kept}
    bad = smoke_run.dvc("exp", "run", "-S", "baseline.epochs=abc", check=False)
    assert bad.returncode != 0
    assert "could not be converted to Integer" in bad.stdout + bad.stderr
    assert {rel: (smoke_run.repo / rel).read_bytes() for rel in kept} == before


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "baseline.repeats=0",
            "baseline.repeats = 0 is out of range (allowed: a number >= 1)",
        ),
        pytest.param("data.name=nosuch", "data.name = 'nosuch' is not a dataset", marks=SLOW),
        pytest.param(
            "ensembles.compare.budget=7",
            "ensembles.compare.budget = 7 is not possible",
            marks=SLOW,
        ),
        # a list that shapes the pipeline (greedy_few_labels@<name>): refused before DVC
        # checks the workspace out for the stages it would have
        ("greedy.few_labels.datasets=[nosuch]", "greedy.few_labels.datasets: 'nosuch'"),
    ],
    ids=["range", "unknown-dataset", "cross-field", "pipeline-shape"],
)
def test_a_refused_value_stops_dvc_exp_run_while_composing_and_every_result_stays(
    smoke_run, override, message
):
    """A value the schema refuses (a range, a name, a rule across keys) stops `dvc exp run`
    while it composes conf/ (the `checked` key's resolver runs every check), before it
    writes params.yaml or touches an output: nothing runs, every file keeps its bytes."""
    params = smoke_run.repo / "params.yaml"
    original, before = params.read_bytes(), outputs(smoke_run.repo)
    bad = smoke_run.dvc("exp", "run", "-S", "experiment=smoke", "-S", override, check=False)
    assert bad.returncode != 0
    assert ran_stages(bad.stdout) == set(), bad.stdout
    assert message in bad.stderr and "Traceback" not in bad.stdout + bad.stderr
    assert params.read_bytes() == original
    assert outputs(smoke_run.repo) == before


def test_a_hand_edit_refused_under_dvc_repro_stops_at_the_check_stage(smoke_run):
    """`dvc repro` does not compose: the first stage, `check`, refuses a hand edit of
    params.yaml before any other stage runs or loses its outputs."""
    params = smoke_run.repo / "params.yaml"
    original, before = params.read_bytes(), outputs(smoke_run.repo)
    try:
        params.write_text(
            original.decode().replace("baseline:\n  repeats: 3", "baseline:\n  repeats: 0")
        )
        bad = smoke_run.dvc("repro", check=False)
        assert bad.returncode != 0
        assert ran_stages(bad.stdout) == {"check"}, bad.stdout
        errors = [line for line in bad.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "baseline.repeats = 0 is out of range" in errors[0], bad.stderr
        assert outputs(smoke_run.repo) == before
    finally:
        params.write_bytes(original)
    assert smoke_run.status() == {}
