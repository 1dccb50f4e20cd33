"""A `dvc repro` killed (SIGKILL, the whole process group) inside a training stage or the
report loses nothing that the next `dvc repro` does not give back bit for bit: the
metrics, tables and report come back identical and the pipeline is up to date."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from ..helpers.commands import DVC, command_env, ran_stages
from .test_bad_inputs import snapshot

# stage -> seconds to let it run after its header line before the kill
KILLS = {"baseline": 1.0, "greedy_supervised": 2.0, "transfer": 2.0, "report": 0.5}


def repro_killed_inside(smoke_run, stage: str, after: float) -> str:
    """Start `dvc repro -f -s <stage>`, kill it `after` seconds into the stage; its output."""
    process = subprocess.Popen(
        [*DVC, "repro", "-f", "-s", stage],
        cwd=smoke_run.repo,
        env=command_env(smoke_run.env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith(f"== {stage}:"):
            time.sleep(after)
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return "".join(seen)


@pytest.mark.parametrize(("stage", "after"), list(KILLS.items()), ids=list(KILLS))
def test_a_kill_inside_a_stage_then_repro_gives_identical_results(smoke_run, stage, after):
    before = snapshot(smoke_run.repo)
    output = repro_killed_inside(smoke_run, stage, after)
    assert f"== {stage}:" in output, output  # the kill landed inside the stage
    again = smoke_run.dvc("repro")
    # DVC either runs the stage again or, holding that exact run in its run cache,
    # restores its outputs from there: both must give back the same bytes
    rebuilt = stage in ran_stages(again.stdout)
    restored = f"Stage '{stage}' is cached" in again.stdout
    untouched = f"Stage '{stage}' didn't change" in again.stdout  # killed before deleting
    assert rebuilt or restored or untouched, again.stdout
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
