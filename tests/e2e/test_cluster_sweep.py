"""Sweeps on a cluster (README, "Sweeps on a cluster"): `python -m layerwise.sweeps.cluster`
runs each point as a task of a local Dask cluster, an ordinary DVC experiment in a fresh
clone, and pulls the experiments back.

Each test publishes a copy of the session's smoke run (tests/e2e/conftest.py): its
workspace committed and pushed to a bare repository standing for the git remote, its
outputs and run cache pushed to a folder standing for the DVC remote. The points sweep
`baseline.epochs`, which reruns `check`, `baseline`, `greedy_supervised` and `report` only
(every other stage comes from the remote); `baseline.epochs=5` is the smoke run's own
value, so such a point trains nothing at all.

The default tier runs one sweep of that kind (no training) beside a refused point; the
slow tier compares a 3-point sweep with the same points through `dvc queue start` byte for
byte, and kills a worker while its point trains.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from ..helpers.commands import DVC, command_env, outputs, run

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
CLUSTER = [sys.executable, "-m", "layerwise.sweeps.cluster"]
SMOKE = ["-S", "experiment=smoke"]


def publish(smoke_run, root: Path) -> Path:
    """A copy of the smoke run's repository whose workspace is committed and pushed to a new
    bare `origin`, and whose outputs and run cache are on a new folder remote `storage`
    (named in .dvc/config.local, as credentials would be)."""
    repo = shutil.copytree(smoke_run.repo, root / "publisher", symlinks=True)
    run(["git", "init", "-q", "--bare", str(root / "origin.git")], root)
    run(["git", "remote", "add", "origin", str(root / "origin.git")], repo)
    run([*GIT, "add", "-u"], repo)
    run([*GIT, "add", "params.yaml", "dvc.lock"], repo)
    run([*GIT, "commit", "-qm", "smoke results", "--allow-empty"], repo)
    run(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], repo)
    (root / "storage").mkdir()
    run([*DVC, "remote", "add", "--local", "-d", "storage", str(root / "storage")], repo)
    run([*DVC, "push", "--run-cache"], repo)
    return repo


def sweep(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return run([*CLUSTER, *args], repo, check=False)


def remote_experiments(root: Path) -> set[str]:
    refs = run(["git", "ls-remote", str(root / "origin.git"), "refs/exps/*"], root).stdout
    return {line.rsplit("/", 1)[-1] for line in refs.splitlines()}


@pytest.mark.slow  # a sweep through a local cluster (about 30 s); tests/sweeps covers the rest
def test_a_refused_point_fails_alone_and_the_others_come_back(smoke_run, tmp_path):
    repo = publish(smoke_run, tmp_path)
    done = sweep(repo, *SMOKE, "-S", "baseline.epochs=5,-1", "-n", "ok", "-j", "1")
    assert done.returncode == 1, done.stdout + done.stderr  # not every point is done
    assert "refused: experiment=smoke baseline.epochs=-1: composed conf/: baseline.epochs = -1" in (
        done.stdout
    )
    assert "sweep of 1 point from commit" in done.stdout
    assert "1 of 2 points done" in done.stdout
    summary = done.stdout.split("points done", 1)[1]
    assert re.search(r"ok-1 +experiment=smoke baseline.epochs=5\n", summary), summary
    assert re.search(r"- +experiment=smoke baseline.epochs=-1 +refused: composed conf/", summary)

    record = json.loads((repo / ".dvc/tmp/cluster_sweep.json").read_text())
    assert record["base"] == run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    assert [(p["name"], p["status"], p["experiment"]) for p in record["points"]] == [
        ("ok-1", "done", "ok-1"),
        ("ok-2", "refused", None),
    ]
    assert remote_experiments(tmp_path) == {"ok-1"}
    # pulled: `dvc exp show` lists it like a local experiment, with its params and metrics
    shown = json.loads(run([*DVC, "exp", "show", "--json"], repo).stdout)
    experiments = {
        rev["name"]: rev["data"]
        for commit in shown
        for experiment in commit.get("experiments") or []
        for rev in experiment["revs"]
    }
    params = experiments["ok-1"]["params"]["params.yaml"]["data"]
    assert params["baseline"]["epochs"] == 5 and params["preset"] == "smoke"
    claims = experiments["ok-1"]["metrics"]["results/claims/claims.json"]["data"]
    assert claims["baseline"]["test_vs_published"]["verdict"] in ("holds", "differs")


@pytest.mark.slow
def test_a_sweep_on_the_cluster_gives_the_bytes_of_the_local_queue(smoke_run, tmp_path):
    """3 points, each training baseline and greedy_supervised: the experiments the cluster
    ran and pushed, once pulled, hold the same files as the same points run by DVC's own
    queue in a copy that shares no run cache with them (wall times and Keras' save dates
    aside)."""
    repo = publish(smoke_run, tmp_path)
    local = shutil.copytree(repo, tmp_path / "local", symlinks=True)
    points = ["-S", "baseline.epochs=3,4,6"]
    done = sweep(repo, *SMOKE, *points, "-n", "cl", "-j", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert remote_experiments(tmp_path) == {"cl-1", "cl-2", "cl-3"}

    run([*DVC, "exp", "run", "--queue", *SMOKE, *points, "-n", "q"], local)
    # one queue worker: with two, the first to find the queue empty broadcast a shutdown
    # here once, and its sibling's running experiment ended with SIGTERM (DVC 3.67)
    run([*DVC, "queue", "start", "-j", "1"], local)
    wait_for_queue(local)
    for k in (1, 2, 3):
        run([*DVC, "exp", "apply", f"cl-{k}"], repo)
        run([*DVC, "exp", "apply", f"q-{k}"], local)
        assert comparable(outputs(repo)) == comparable(outputs(local)), k


def wait_for_queue(repo: Path, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run([*DVC, "queue", "status"], repo).stdout
        if not re.search(r"\b(Queued|Running)\b", status):
            assert not re.search(r"\bFailed\b", status), status
            return
        time.sleep(2)
    raise AssertionError(f"the queue did not finish in {timeout} s:\n{status}")


def comparable(files: dict[str, bytes]) -> dict[str, bytes]:
    """Every output but wall times and Keras' save dates; the report up to its run section,
    which lists the wall times."""
    kept = {
        rel: data
        for rel, data in files.items()
        if not rel.startswith("results/timing/") and not rel.endswith(".keras")
    }
    kept["reports/report.md"] = kept["reports/report.md"].split(b"## Run")[0]
    return kept


@pytest.mark.slow
def test_a_worker_killed_while_training_loses_that_try_only(smoke_run, tmp_path):
    """One point trains (baseline.epochs=7): its worker is killed once the baseline stage
    has started, and the engine runs the point again on a worker it still has. Every point
    ends done, and nothing of the killed try reached either remote."""
    repo = publish(smoke_run, tmp_path)
    work = tmp_path / "work"
    args = [*SMOKE, "-S", "baseline.epochs=5,7", "-n", "kill", "-j", "2", "--work-dir", str(work)]
    process = subprocess.Popen(
        [*CLUSTER, *args],
        cwd=repo,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        log, stage = training(work)
        worker = next(p for p in stage.parents() if "supervise.py" in " ".join(p.cmdline()))
        worker = worker.parent()  # the Dask worker process that started the supervisor
        assert stage.is_running() and "== baseline: done" not in log.read_text()
        worker.kill()
        # the supervisor ends the stage with its worker: nothing goes on in the old clone
        gone, alive = psutil.wait_procs([stage], timeout=30)
        assert not alive
        output, _ = process.communicate(timeout=900)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "2 of 2 points done" in output, output
    killed = log.read_text()
    assert "== baseline: done" not in killed and "dvc push" not in killed  # it pushed nothing
    assert remote_experiments(tmp_path) == {"kill-1", "kill-2"}
    assert unreferenced(tmp_path / "storage", repo) == set()
    # the rerun is complete: its outputs come back and rebuild nothing
    run([*DVC, "exp", "apply", "kill-2"], repo)
    assert json.loads(run([*DVC, "status", "--json"], repo).stdout or "{}") == {}


def training(work: Path, timeout: float = 600) -> tuple[Path, psutil.Process]:
    """The log of the task whose baseline stage has started, and that stage's process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for log in work.glob("*/log.txt"):
            if re.search(r"^== baseline: \d+ replicas", log.read_text(), re.M):
                clone = log.parent / "repo"
                for p in psutil.process_iter(["cmdline", "cwd"]):
                    if p.info["cwd"] == str(clone) and "stages/baseline.py" in (
                        p.info["cmdline"] or []
                    ):
                        return log, p
        time.sleep(0.1)
    raise AssertionError(f"no baseline stage started under {work} in {timeout} s")


def unreferenced(storage: Path, repo: Path) -> set[str]:
    """Objects of the DVC remote that no finished run refers to: neither a run-cache entry
    (every stage a task ran or restored) nor the dvc.lock of an experiment or the commit."""
    objects = {p.parent.name + p.name for p in (storage / "files/md5").rglob("*") if p.is_file()}
    referenced: set[str] = set()
    for entry in (storage / "runs").rglob("*"):
        if entry.is_file():
            referenced |= {out["md5"] for out in yaml.safe_load(entry.read_text())["outs"]}
    refs = run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], repo).stdout.split()
    experiments = [ref for ref in refs if re.match(r"refs/exps/[0-9a-f]{2}/[0-9a-f]{38}/", ref)]
    for rev in ["HEAD", *experiments]:
        lock = yaml.safe_load(run(["git", "show", f"{rev}:dvc.lock"], repo).stdout)
        for stage in lock["stages"].values():
            referenced |= {out["md5"] for out in stage.get("outs", [])}
    for name in [r for r in referenced if r.endswith(".dir")]:
        listing = storage / "files/md5" / name[:2] / name[2:]
        if listing.is_file():
            referenced |= {entry["md5"] for entry in json.loads(listing.read_text())}
    return objects - referenced
