"""A `dvc repro` killed (SIGKILL, the whole process group) inside a training stage or the
report loses nothing that the next `dvc repro` does not give back bit for bit: the
metrics, tables and report come back identical and the pipeline is up to date.

A training stage is killed while it trains, and the test knows it: the stage prints a
progress line for every step (LAYERWISE_PROGRESS_SECONDS=0), and the kill follows its
first line "k/n" with k < n, which comes after the first step of training and before the
last. Its training is made long for the killed run (LONGER: many more epochs, so that
the remaining steps take seconds, not the moment a kill takes), and params.yaml is put
back before the `dvc repro` that must give back the first run's outputs. The report
trains nothing: it is killed as soon as its header is out.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess

import pytest

from ..helpers.commands import DVC, command_env, ran_stages, snapshot

# stage -> overrides (of the smoke preset) for the killed run: training that lasts
LONGER = {
    "baseline": ("baseline.epochs=400",),
    "greedy_supervised": ("greedy.supervised.epochs=60", "greedy.supervised.fine_tune_epochs=60"),
    "transfer": ("transfer.epochs=200",),
    "report": (),
}
PROGRESS = re.compile(r"^  .+: (\d+)/(\d+) ")


def mid_training(line: str) -> bool:
    """A progress line k/n with 0 < k < n: training has begun and has steps left."""
    found = PROGRESS.match(line)
    return found is not None and 0 < int(found.group(1)) < int(found.group(2))


def repro_killed_inside(smoke_run, stage: str) -> tuple[str, str]:
    """Start `dvc repro -f -s <stage>` and kill it at its first progress line mid-training
    (at its header for a stage that does not train): (output up to the kill, the rest)."""
    env = {**smoke_run.env, "LAYERWISE_PROGRESS_SECONDS": "0"}
    process = subprocess.Popen(
        [*DVC, "repro", "-f", "-s", stage],
        cwd=smoke_run.repo,
        env=command_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    header, seen = f"== {stage}:", []
    trains = bool(LONGER[stage])
    for line in process.stdout:
        seen.append(line)
        in_stage = any(s.startswith(header) for s in seen)
        if in_stage and (mid_training(line) if trains else line.startswith(header)):
            break
    with contextlib.suppress(ProcessLookupError):  # ended before: the checks say so
        os.killpg(process.pid, signal.SIGKILL)
    rest = process.stdout.read()
    process.wait()
    return "".join(seen), rest


# the default tier kills one training stage; the others and the report (same atomic
# writer, same runner) are the slow tier's
SLOW_KILLS = {"greedy_supervised", "transfer", "report"}


@pytest.mark.parametrize(
    "stage",
    [pytest.param(s, marks=pytest.mark.slow) if s in SLOW_KILLS else s for s in LONGER],
)
def test_a_kill_inside_a_stage_then_repro_gives_identical_results(smoke_run, stage):
    params = smoke_run.repo / "params.yaml"
    original = params.read_bytes()
    before = snapshot(smoke_run.repo)
    if LONGER[stage]:
        compose = ["-m", "layerwise.config.compose", "experiment=smoke", *LONGER[stage]]
        smoke_run.python(*compose)
    output, rest = repro_killed_inside(smoke_run, stage)
    # the kill landed inside the stage: after its header (and, for a training stage, after
    # a step of training with steps to go), before it said it was done
    lines = output.splitlines()
    assert any(line.startswith(f"== {stage}:") for line in lines), output
    if LONGER[stage]:
        assert mid_training(lines[-1]), output
    assert f"== {stage}: done" not in output + rest, output + rest
    params.write_bytes(original)

    again = smoke_run.dvc("repro")
    # DVC either runs the stage again or, holding that exact run in its run cache,
    # restores its outputs from there: both must give back the same bytes (DVC had
    # deleted the outputs before starting the stage, so it cannot find them unchanged)
    rebuilt = stage in ran_stages(again.stdout)
    restored = f"Stage '{stage}' is cached" in again.stdout
    assert rebuilt or restored, again.stdout
    after_files = snapshot(smoke_run.repo)
    changed = {
        rel
        for rel in before.keys() | after_files.keys()
        if before.get(rel) != after_files.get(rel)
        and not rel.startswith("results/timing/")  # wall times differ from run to run
        and not rel.endswith(".keras")  # Keras stamps the save date into the archive
    }
    # the report lists the timings: its bytes differ in those lines only
    changed.discard("reports/report.md")
    assert changed == set(), sorted(changed)
    report_before = before["reports/report.md"].decode().split("## Run")[0]
    report_after = after_files["reports/report.md"].decode().split("## Run")[0]
    assert report_after == report_before
    assert smoke_run.status() == {}
