"""The shared smoke run of tests/e2e: `dvc exp run -S experiment=smoke` in a copy of the
repo, under the audit hook, started as a background process so that it can run while
the unit tests do (tests/e2e/conftest.py starts it when collection ends).

Tests never run a command in the shared run nor write to it: each works on a private
copy (`SmokeRun.copy`, hard links for DVC's cache), and
tests/e2e/conftest.py checks after every test that the shared run's files are as they
were (`fingerprint`)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from . import first_run
from .audit_log import StageAudit, audit_env, read_audit
from .commands import DVC, command_env, copy_repo, copy_run, run
from .first_run import FIRST_RUN


@dataclass
class SmokeRun:
    """A repository after the first run, and what that run left.

    `repo` is where the commands run (`dvc`, `python`, `status`); a test's `smoke_run` is a
    private copy of the shared run (`copy`), its own to edit and rerun in. The other fields
    are the first run's (its output, report, metrics, audit and stage deps), whatever the
    copy has done since; `env` points the audit hook at the copy's own log.
    """

    repo: Path
    env: dict[str, str]  # the audit hook's: every later command runs under it too
    first: subprocess.CompletedProcess
    report: str
    metrics: dict
    audit: dict[str, StageAudit]
    deps: dict[str, list[str]]  # each stage's resolved DVC deps (def_path)

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run([*DVC, *args], self.repo, check=check, env=self.env)

    def python(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run([sys.executable, *args], self.repo, check=check, env=self.env)

    def status(self) -> dict:
        """`dvc status --json`: stage name -> what changed ({} when up to date)."""
        return json.loads(self.dvc("status", "--json").stdout or "{}")

    def report_context(self, figures: Path):
        """What a report section is drawn from, for this run's params, results and data,
        with its figures written to `figures` (made here)."""
        from layerwise.config import load_params
        from layerwise.report import ReportContext

        figures.mkdir(parents=True)
        cfg = load_params(self.repo / "params.yaml")
        return ReportContext(cfg, self.repo / "results", self.repo / "data", figures, [])

    def copy(self, dest: Path) -> SmokeRun:
        """A private copy at `dest`/repo (see `commands.copy_run`), with the first run's
        fields and its own audit log, `dest`/audit.log."""
        dest.mkdir(parents=True, exist_ok=True)
        repo = copy_run(self.repo, dest / "repo")
        return replace(self, repo=repo, env=audit_env(dest / "audit.log"))


class BackgroundSmokeRun:
    """The first run in the folder `root`, shared by every pytest process of a session
    (pytest-xdist's workers each have one): the first to call `start` copies the repo and
    starts tests/helpers/first_run.py there (a process group of its own, output to files);
    the others find its pid file and wait for the same exit code file."""

    def __init__(self, root: Path):
        self.root, self.repo = root, root / "repo"
        self.log = root / "audit.log"
        self.env = audit_env(self.log)
        self.stdout, self.stderr = root / "stdout.txt", root / "stderr.txt"
        self.pid_file, self.exit_file = root / "pid", root / "exit_code"
        self.process: subprocess.Popen | None = None  # when this process started it
        self._result: SmokeRun | None = None
        self._error: str | None = None

    @classmethod
    def start(cls, root: Path) -> BackgroundSmokeRun:
        """The run in `root`: started here, unless another process of the session has."""
        started = cls(root)
        root.parent.mkdir(parents=True, exist_ok=True)
        with open(root.parent / f"{root.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
            if not started.pid_file.exists():
                started._launch()
        return started

    def _launch(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        copy_repo(self.repo)
        with self.stdout.open("w") as out, self.stderr.open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(first_run.__file__)), str(self.root)],
                cwd=self.repo,
                env=command_env(self.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        first_run.write(self.pid_file, str(self.process.pid))

    def _running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return alive(int(self.pid_file.read_text()))

    def result(self) -> SmokeRun:
        """Wait for the run to end; its SmokeRun (AssertionError if it failed)."""
        if self._error is None and self._result is None:
            while not self.exit_file.exists():
                if not self._running() and not self.exit_file.exists():
                    self._error = f"the smoke run in {self.root} was ended before it finished"
                    break
                time.sleep(0.2)
        if self._error is None and self._result is None:
            code = int(self.exit_file.read_text())
            first = subprocess.CompletedProcess(
                FIRST_RUN, code, self.stdout.read_text(), self.stderr.read_text()
            )
            if code != 0:
                self._error = (
                    f"{FIRST_RUN} failed ({code}) in {self.repo}:\n{first.stdout}\n{first.stderr}"
                )
            else:
                self._result = SmokeRun(
                    repo=self.repo,
                    env=self.env,
                    first=first,
                    report=(self.repo / "reports/report.md").read_text(),
                    metrics=json.loads((self.repo / "results/baseline/metrics.json").read_text()),
                    audit=read_audit(self.log),
                    deps=json.loads((self.root / "deps.json").read_text()),
                )
        if self._error is not None:
            raise AssertionError(self._error)
        return self._result


def needs_smoke_run(item) -> bool:
    """Whether the test `item` uses the shared smoke run (directly or through `smoke_run`)."""
    return "shared_smoke_run" in getattr(item, "fixturenames", ())


def smoke_root(config) -> Path:
    """Where the session's smoke run lives: in the session's base temporary folder, which
    under pytest-xdist holds each worker's own (the first worker to ask starts the run,
    the others wait for the same one)."""
    base = config._tmp_path_factory.getbasetemp()  # tmp_path_factory's
    return (base.parent if hasattr(config, "workerinput") else base) / "smoke"


def stop_run(root: Path) -> None:
    """End the run in `root` if it is still going (a session cut short), children
    included: from the process that ends the session, whichever one started it."""
    pid_file, exit_file = root / "pid", root / "exit_code"
    if not pid_file.exists() or exit_file.exists():
        return
    pid = int(pid_file.read_text())
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not alive(pid):
            return


def alive(pid: int) -> bool:
    """Whether process `pid` is running (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def fingerprint(repo: Path) -> dict[str, tuple[int, int]]:
    """Every file under `repo`, .git and .dvc included: path -> (size, mtime in ns). A file
    written, added or removed changes it; so does one written through a hard link."""
    found = {}
    for folder, _, files in os.walk(repo):
        for name in files:
            path = Path(folder, name)
            info = path.lstat()
            found[path.relative_to(repo).as_posix()] = (info.st_size, info.st_mtime_ns)
    return found
