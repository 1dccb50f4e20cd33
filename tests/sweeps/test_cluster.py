"""The cluster sweep's pieces that need no engine: expanding -S as DVC does, the
configuration's refusal of a point, the one line a failed step is reported with, the
supervisor that ends a task's processes with its worker, and every refusal that must
come before any task starts (in a copy of the repository with a bare git remote and a
folder as the DVC remote; tests/e2e/test_cluster_sweep.py runs sweeps)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layerwise.sweeps import cluster, supervise
from layerwise.sweeps.task import LOCK, PREFIX, Task, error_line, remove_abandoned, run_point

from ..helpers.commands import DVC, copy_repo, run

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def test_points_are_the_cross_product_dvc_queues():
    points = cluster.expand(["experiment=smoke", "a=1,2", "b=range(1,3)", "other.yaml:c=x"])
    assert points == [
        ("experiment=smoke", "a=1", "b=1", "other.yaml:c=x"),
        ("experiment=smoke", "a=1", "b=2", "other.yaml:c=x"),
        ("experiment=smoke", "a=2", "b=1", "other.yaml:c=x"),
        ("experiment=smoke", "a=2", "b=2", "other.yaml:c=x"),
    ]
    assert cluster.expand([]) == [()]  # one point: the commit's own configuration


@pytest.mark.parametrize("bad", ["a=glob(*)", "a=[1,2"])
def test_a_sweep_dvc_cannot_expand_is_one_line(bad):
    with pytest.raises(cluster.UserError, match=r"^-S: ") as caught:
        cluster.expand([bad])
    assert "\n" not in str(caught.value)


def test_a_value_the_checks_refuse_is_found_before_any_worker():
    assert cluster.refusal(("experiment=smoke", "baseline.epochs=4")) is None
    why = cluster.refusal(("experiment=smoke", "baseline.epochs=-1"))
    assert why == "composed conf/: baseline.epochs = -1 is out of range (allowed: a number >= 1)"
    assert "unknown key 'baseline.nope' (allowed: repeats" in cluster.refusal(("baseline.nope=1",))


def test_the_line_that_says_what_went_wrong():
    stage_failed = [
        "Running stage 'baseline':",
        "error: params.yaml: baseline.epochs = 0 is out of range",
        "ERROR: failed to reproduce 'baseline': failed to run: python stages/baseline.py",
    ]
    assert error_line(stage_failed) == "params.yaml: baseline.epochs = 0 is out of range"
    composition = [
        "ERROR: unexpected error - UserError raised while resolving interpolation: "
        "composed conf/: baseline.epochs = -1 is out of range"
    ]
    assert error_line(composition) == "composed conf/: baseline.epochs = -1 is out of range"
    assert error_line(["fatal: repository '/nowhere' does not exist"]).startswith("repository")
    assert error_line([]) == "failed with no output"


def test_a_task_whose_clone_fails_reports_one_line_and_leaves_nothing(tmp_path):
    task = Task("p-1", ("a=1",), "0" * 40, str(tmp_path / "nowhere.git"), "r", "/r", str(tmp_path))
    outcome = run_point(task)
    assert outcome["experiment"] is None
    assert outcome["error"].startswith("git clone: ") and "\n" not in outcome["error"]
    assert list(tmp_path.iterdir()) == []  # its clone folder is gone


def test_the_supervisor_ends_the_whole_group_when_its_parent_dies(tmp_path):
    """A task's processes die with the worker that started them (here: a parent process
    running the supervisor over a shell that starts a grandchild)."""
    pids = tmp_path / "pids"
    script = _group_script(pids)
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys\n"
            "subprocess.run([sys.executable, '-I', sys.argv[1], str(os.getpid()), *sys.argv[2:]])",
            supervise.__file__,
            "sh",
            "-c",
            script,
        ]
    )
    deadline = time.monotonic() + 20
    while not pids.is_file() and time.monotonic() < deadline:
        time.sleep(0.05)
    group = [int(pid) for pid in pids.read_text().split()]
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _ended(group)


def test_a_signal_that_comes_as_the_command_starts_still_ends_its_group(tmp_path):
    """The parent's death signalled in the instant the command has started, before the
    supervisor has gone back to waiting: the command's group is ended all the same (the
    signal is made to come there, by sending it from inside `Popen`)."""
    pids = tmp_path / "pids"
    script = _group_script(pids)
    program = (
        "import os, signal, subprocess, sys, time\n"
        "from layerwise.sweeps import supervise\n"
        "class Started(subprocess.Popen):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        super().__init__(*args, **kwargs)\n"
        "        while not os.path.exists(sys.argv[1]):\n"
        "            time.sleep(0.01)\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "supervise.subprocess.Popen = Started\n"
        "sys.exit(supervise.main([str(os.getppid()), 'sh', '-c', sys.argv[2]]))"
    )
    ended = subprocess.run([sys.executable, "-c", program, str(pids), script], timeout=60)
    assert ended.returncode == 128 + signal.SIGTERM
    group = [int(pid) for pid in pids.read_text().split()]
    assert _ended(group)


def _group_script(pids: Path) -> str:
    """A shell that starts a child and writes both pids to `pids` (whole: written under
    another name, then renamed), then waits."""
    return f"sleep 60 & echo $$ $! > {pids}.part && mv {pids}.part {pids}; wait"


def _ended(group: list[int], within: float = 10) -> bool:
    """Whether every process of `group` has ended within `within` seconds."""
    deadline = time.monotonic() + within
    while any(_alive(pid) for pid in group) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(pid) for pid in group)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (ended, not yet reaped by init) counts as ended
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


# --- refused before any task starts --------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The project committed and pushed to a bare `origin`, with a folder as its default DVC
    remote (in .dvc/config.local): everything a sweep needs, nothing run."""
    root = tmp_path_factory.mktemp("published")
    repo = copy_repo(root / "repo")
    run(["git", "init", "-q", "--bare", str(root / "origin.git")], root)
    run(["git", "remote", "add", "origin", str(root / "origin.git")], repo)
    run(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], repo)
    (root / "storage").mkdir()
    run([*DVC, "remote", "add", "--local", "-d", "storage", str(root / "storage")], repo)
    return repo


@pytest.fixture
def repo(published, tmp_path) -> Path:
    """A copy of the published repository of this test's own (its remotes shared, untouched
    by a refused sweep)."""
    return shutil.copytree(published, tmp_path / "repo", symlinks=True)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again once the socket is


REFUSALS = {
    "dirty workspace": (["-S", "experiment=smoke"], r"uncommitted changes to params\.yaml"),
    "no such git remote": (["--git-remote", "upstream"], r"git remote 'upstream' does not exist"),
    "git remote unreachable": ([], r"git remote 'origin' \(.*gone\.git\) cannot be reached"),
    "commit not pushed": ([], r"commit [0-9a-f]{7} is not on git remote 'origin'.*git push"),
    "no such DVC remote": (["--dvc-remote", "elsewhere"], r"DVC remote 'elsewhere' does not ex"),
    "no DVC remote": ([], r"no DVC remote for the workers' results"),
    "DVC remote folder missing": ([], r"DVC remote 'storage' \(.*\) does not exist: push"),
    "engine unreachable": (["--address", "tcp://127.0.0.1:{port}"], r"no Dask scheduler answers"),
    "engine address malformed": (["--address", "tcp://host"], r"missing port number"),
    "workers with an address": (["--address", "tcp://h:1", "-j", "3"], r"--workers sizes the"),
    "record in an output": (
        ["--record", "reports/figures/sweep.json"],
        r"inside reports/figures, a DVC output",
    ),
    "bad name": (["--name", "a/b"], r"not a valid experiment name"),
}


def _break(case: str, repo: Path) -> None:
    """Make `repo` (or its surroundings) what `case` refuses."""
    if case == "dirty workspace":
        (repo / "params.yaml").write_text((repo / "params.yaml").read_text() + "# edited\n")
    elif case == "git remote unreachable":
        run(["git", "remote", "set-url", "origin", str(repo.parent / "gone.git")], repo)
    elif case == "commit not pushed":
        (repo / "notes.txt").write_text("not pushed\n")
        run([*GIT, "add", "notes.txt"], repo)
        run([*GIT, "commit", "-qm", "local only"], repo)
    elif case == "no DVC remote":
        (repo / ".dvc/config.local").unlink()
    elif case == "DVC remote folder missing":
        run([*DVC, "remote", "modify", "--local", "storage", "url", str(repo / "gone")], repo)


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_with_one_line_before_any_task(
    case, published, repo, tmp_path, monkeypatch, capsys
):
    options, message = REFUSALS[case]
    _break(case, repo)
    options = [option.format(port=_closed_port()) for option in options]
    work, record = tmp_path / "work", tmp_path / "record.json"
    if "--record" not in options:
        options += ["--record", str(record)]
    monkeypatch.chdir(repo)
    monkeypatch.delenv(cluster.DEBUG_ENV, raising=False)
    code = cluster.main(["-S", "baseline.epochs=3,4", "--work-dir", str(work), *options])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(message, lines[0]), lines[0]
    assert "sweep of" not in out  # no engine asked, no task
    assert not work.exists() and not record.exists()
    refs = run(["git", "ls-remote", str(published.parent / "origin.git")], repo).stdout
    assert "refs/exps/" not in refs


def test_debug_shows_the_traceback(repo, monkeypatch):
    _break("dirty workspace", repo)
    monkeypatch.chdir(repo)
    monkeypatch.setenv(cluster.DEBUG_ENV, "1")
    with pytest.raises(cluster.UserError, match="uncommitted changes"):
        cluster.main(["-S", "baseline.epochs=3"])


def test_the_record_lists_a_refused_point(repo, tmp_path, monkeypatch, capsys):
    """Every point refused: no engine is started, and the summary and the record say why."""
    monkeypatch.chdir(repo)
    record = tmp_path / "record.json"
    code = cluster.main(["-S", "baseline.epochs=-1,0", "-n", "neg", "--record", str(record)])
    out = capsys.readouterr().out
    assert code == 1
    assert "0 of 2 points done" in out and "sweep of" not in out
    points = json.loads(record.read_text())["points"]
    assert [(p["name"], p["status"]) for p in points] == [
        ("neg-1", "refused"),
        ("neg-2", "refused"),
    ]
    assert points[0]["error"].endswith(
        "baseline.epochs = -1 is out of range (allowed: a number >= 1)"
    )


def test_the_folders_of_tasks_whose_worker_died_are_removed(tmp_path):
    abandoned, held, young = (tmp_path / f"{PREFIX}{name}" for name in ("a", "b", "c"))
    for folder in (abandoned, held, young):
        (folder / "repo").mkdir(parents=True)
        (folder / LOCK).touch()
    for folder in (abandoned, held):
        os.utime(folder, (time.time() - 3600,) * 2)
    with (held / LOCK).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a live task's
        assert remove_abandoned(tmp_path) == [abandoned]
    assert sorted(p.name for p in tmp_path.iterdir()) == [held.name, young.name]
