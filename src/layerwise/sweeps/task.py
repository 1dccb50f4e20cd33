"""One point of a cluster sweep, as a worker runs it: an ordinary DVC experiment in a fresh
clone, pushed only once it has succeeded (see layerwise.sweeps.cluster).

The task carries plain data (the commit, the remotes' names and URLs, the `-S` values),
never a credential: a worker reaches the remotes with its own (its environment, its SSH
keys, or `dvc remote modify --global` on that machine). It runs nothing but git and DVC
on the project at that commit: `dvc exp run` runs the stages dvc.yaml declares there.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from layerwise.sweeps import supervise

LOG_TAIL = 20  # lines of a failed step's output kept in the sweep's record
PREFIX = "layerwise-sweep-"  # a task's folder: its clone, its log and its lock
LOCK = ".lock"


@dataclass(frozen=True)
class Task:
    name: str  # the experiment's name, chosen by the machine that started the sweep
    params: tuple[str, ...]  # `dvc exp run -S` values
    base: str  # the commit every point runs from (full sha)
    git_url: str  # where the workers clone from and push the experiment's ref to
    dvc_remote: str  # the DVC remote's name ...
    dvc_url: str  # ... and its URL (nothing else of its configuration travels)
    work_dir: str | None = None  # where the clone goes (None: the system's temp folder)
    identity: dict[str, str] = field(default_factory=dict)  # GIT_AUTHOR_NAME, ...


def exp_ref(base: str, name: str) -> str:
    """The git ref DVC keeps experiment `name` of commit `base` under."""
    return f"refs/exps/{base[:2]}/{base[2:]}/{name}"


def run_point(task: Task) -> dict:
    """Clone, run, push; {"experiment": name} or {"error": one line, "log": its tail}, with
    the host and the seconds it took. A step that fails stops the task and nothing after
    it runs: the outputs and run cache go to the DVC remote only after `dvc exp run`
    succeeded, and the experiment's git ref after them, so a ref on the git remote always
    has its outputs on the DVC remote."""
    started = time.monotonic()
    outcome: dict = {"experiment": None, "error": None, "host": socket.gethostname()}
    parent = Path(task.work_dir or tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(parent)
    root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{task.name}-", dir=parent))
    claim = (root / LOCK).open("w")
    fcntl.flock(claim, fcntl.LOCK_EX)  # held until this task ends, or its process dies
    repo, log = root / "repo", root / "log.txt"
    env = _environment(task, repo)
    try:
        if _already_pushed(task, env):  # an earlier try pushed it, then lost its worker
            outcome.update(experiment=task.name, reused=True)
            return outcome
        for what, cmd, cwd in _steps(task, repo, root):
            code, output = _call(cmd, cwd, env, log)
            if code != 0:
                lines = [line for line in output.splitlines() if line.strip()]
                outcome.update(error=f"{what}: {error_line(lines)}", log=lines[-LOG_TAIL:])
                return outcome
        outcome["experiment"] = task.name
        return outcome
    finally:
        outcome["seconds"] = round(time.monotonic() - started, 1)
        shutil.rmtree(root, ignore_errors=True)
        claim.close()


def remove_abandoned(parent: Path, min_age: float = 60) -> list[Path]:
    """Delete the task folders under `parent` that no live task holds (their worker died
    mid-task), leaving those younger than `min_age` seconds: one may be about to be
    claimed. The folders removed."""
    removed = []
    for folder in parent.glob(f"{PREFIX}*"):
        try:
            if time.time() - folder.stat().st_mtime < min_age:
                continue
            with (folder / LOCK).open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:  # held by a live task, or gone meanwhile
            continue
    return removed


def _steps(task: Task, repo: Path, root: Path):
    dvc = [sys.executable, "-m", "dvc"]
    sets = [arg for value in task.params for arg in ("-S", value)]
    remote = ["-r", task.dvc_remote]
    return [
        ("git clone", ["git", "clone", "-q", "--no-checkout", task.git_url, str(repo)], root),
        ("git checkout", ["git", "checkout", "-q", "--detach", task.base], repo),
        (
            "dvc remote",
            [
                *dvc,
                "remote",
                "add",
                "--local",
                "--force",
                "--default",
                task.dvc_remote,
                task.dvc_url,
            ],
            repo,
        ),
        # the commit's own outputs in one go (what is missing there the stages rebuild) ...
        ("dvc pull", [*dvc, "pull", "--allow-missing", *remote], repo),
        # ... then the run cache (--pull), and every stage whose code,
        # data and params ran anywhere before is restored from there instead of rerun
        ("dvc exp run", [*dvc, "exp", "run", "--pull", "-n", task.name, *sets], repo),
        # the experiment is applied to this clone's workspace: its outputs and run cache
        ("dvc push", [*dvc, "push", "--run-cache", *remote], repo),
        ("dvc exp push", [*dvc, "exp", "push", "--no-cache", "origin", task.name], repo),
    ]


def _environment(task: Task, repo: Path) -> dict[str, str]:
    """The worker's environment, with its interpreter's bin/ first on PATH (dvc.yaml's
    `python stages/...`) and the clone's src/ first on PYTHONPATH, so that the stages run
    the code of the commit rather than whatever checkout the worker was installed from."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        p for p in (str(Path(sys.executable).parent), env.get("PATH", "")) if p
    )
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(repo / "src"), env.get("PYTHONPATH", "")) if p
    )
    env.update({"DVC_NO_ANALYTICS": "1", "GIT_TERMINAL_PROMPT": "0", **task.identity})
    return env


def _already_pushed(task: Task, env: dict[str, str]) -> bool:
    found = subprocess.run(
        ["git", "ls-remote", task.git_url, exp_ref(task.base, task.name)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return found.returncode == 0 and bool(found.stdout.strip())


def _call(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[int, str]:
    """Run `cmd` under the supervisor (it dies with this worker), its output appended to
    `log` as it comes; its exit code and output."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        start = out.tell()
        # -I: the supervisor imports nothing but the standard library, whatever PYTHONPATH
        wrapped = [sys.executable, "-I", supervise.__file__, str(os.getpid()), *cmd]
        code = subprocess.call(
            wrapped, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    with log.open() as out:
        out.seek(start)
        return code, out.read()


_INTERPOLATION = re.compile(r"^unexpected error - \w+ raised while resolving interpolation: ")


def error_line(lines: list[str]) -> str:
    """The line that says what went wrong: a stage's own `error:` line, else DVC's first
    `ERROR:` line or git's `fatal:` line, else the last line."""
    for prefix, pick in (("error: ", -1), ("ERROR: ", 0), ("fatal: ", 0)):
        found = [line.strip() for line in lines if line.startswith(prefix)]
        if found:
            return _INTERPOLATION.sub("", found[pick][len(prefix) :])
    return lines[-1].strip() if lines else "failed with no output"
