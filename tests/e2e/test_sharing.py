"""Results shared through a DVC remote (README, "Sharing results"): what one person ran,
a teammate pulls into a fresh clone and finds up to date, with no stage to run.

Each test's private copy of the session's smoke run (`smoke_run`, tests/e2e/conftest.py)
is the publisher: a folder stands for the DVC remote, a bare repository for the git
remote, and a `git clone` of it for the teammate.
Nothing here trains: both round trips move what the smoke run already computed. They
are the slow tier's (`make test-all`; a remote, a clone and a dozen DVC commands each):
in `make test`, the DVC cache that a push carries is what every private copy of the
smoke run is made of, and the outputs are checked up to date there
(tests/e2e/test_smoke_pipeline.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ..helpers.commands import DVC, outputs, ran_stages, run

pytestmark = pytest.mark.slow

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def dvc(repo: Path, *args: str):
    return run([*DVC, *args], repo)


def status(repo: Path) -> dict:
    """`dvc status --json`: stage name -> what changed ({} when up to date)."""
    return json.loads(dvc(repo, "status", "--json").stdout or "{}")


def publish(smoke_run, tmp_path: Path) -> Path:
    """The test's copy of the smoke run (workspace, DVC cache, experiments), with a new
    bare repository as its git remote `origin`."""
    repo = smoke_run.repo
    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
    run(["git", "remote", "add", "origin", str(origin)], repo)
    return repo


def push_branch(repo: Path) -> str:
    branch = run(["git", "branch", "--show-current"], repo).stdout.strip()
    run(["git", "push", "-q", "origin", branch], repo)
    return branch


def fresh_clone(tmp_path: Path, branch: str) -> Path:
    teammate = tmp_path / "teammate"
    run(["git", "clone", "-q", "--branch", branch, "origin.git", "teammate"], tmp_path)
    assert outputs(teammate) == {}  # git carries none of them
    return teammate


def assert_nothing_to_run(teammate: Path) -> None:
    assert status(teammate) == {}
    again = dvc(teammate, "repro")
    assert ran_stages(again.stdout) == set(), again.stdout


def test_dvc_pull_in_a_fresh_clone_restores_every_output_and_nothing_reruns(smoke_run, tmp_path):
    repo = publish(smoke_run, tmp_path)
    # the remote in .dvc/config, committed with the results: a clone knows where to pull
    dvc(repo, "remote", "add", "-d", "shared", str(tmp_path / "storage"))
    run([*GIT, "add", "params.yaml", "dvc.lock", ".dvc/config"], repo)
    run([*GIT, "commit", "-qm", "smoke results, and where their outputs are stored"], repo)
    branch = push_branch(repo)
    pushed = dvc(repo, "push")
    assert re.search(r"\d+ files? pushed", pushed.stdout), pushed.stdout

    teammate = fresh_clone(tmp_path, branch)
    dvc(teammate, "pull")
    pulled = outputs(teammate)
    assert "results/check/params.ok" in pulled  # the check stage's marker travels too
    assert pulled == outputs(repo)
    assert_nothing_to_run(teammate)


def test_an_experiment_pushed_and_pulled_needs_no_rerun(smoke_run, tmp_path):
    # the session's first run is itself an experiment: `dvc exp run -S experiment=smoke`
    name = re.search(r"Ran experiment\(s\): (\S+)", smoke_run.first.stdout).group(1)
    repo = publish(smoke_run, tmp_path)
    # DVC reads the remote from the experiment's own commit, and this one was run before
    # any remote existed: each side names the remote in its local config instead
    storage = str(tmp_path / "storage")
    dvc(repo, "remote", "add", "--local", "-d", "shared", storage)
    branch = push_branch(repo)  # the commit the experiment is based on
    pushed = dvc(repo, "exp", "push", "origin", name)
    assert re.search(r"\d+ files? uploaded", pushed.stdout), pushed.stdout
    dvc(repo, "exp", "apply", name)  # its outputs, whatever the session ran since

    teammate = fresh_clone(tmp_path, branch)
    dvc(teammate, "remote", "add", "--local", "-d", "shared", storage)
    dvc(teammate, "exp", "pull", "origin", name)
    dvc(teammate, "exp", "apply", name)
    assert outputs(teammate) == outputs(repo)
    assert_nothing_to_run(teammate)
