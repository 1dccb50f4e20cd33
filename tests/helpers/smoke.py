"""The shared smoke run of tests/e2e: `dvc exp run -S experiment=smoke` in a copy of the
repo, under the audit hook, started as a background process so that it can run while
the unit tests do (tests/e2e/conftest.py starts it when collection ends)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .audit_log import StageAudit, audit_env, read_audit
from .commands import DVC, command_env, copy_repo, run

FIRST_RUN = [*DVC, "exp", "run", "-S", "experiment=smoke"]


@dataclass
class SmokeRun:
    """The repo after the first run, and what that run left.

    The repo itself moves on as the later steps of tests/e2e/test_smoke_pipeline.py edit
    and rerun; the other fields are the first run's, kept for the read-only tests.
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


class BackgroundSmokeRun:
    """The first run as a child process (its own process group), output to files."""

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.repo = copy_repo(root / "repo")
        self.log = root / "audit.log"
        self.env = audit_env(self.log)
        self.stdout, self.stderr = root / "stdout.txt", root / "stderr.txt"
        with self.stdout.open("w") as out, self.stderr.open("w") as err:
            self.process = subprocess.Popen(
                FIRST_RUN,
                cwd=self.repo,
                env=command_env(self.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self._result: SmokeRun | None = None

    def result(self) -> SmokeRun:
        """Wait for the run to end; its SmokeRun (AssertionError if it failed)."""
        if self._result is None:
            code = self.process.wait()
            first = subprocess.CompletedProcess(
                FIRST_RUN, code, self.stdout.read_text(), self.stderr.read_text()
            )
            if code != 0:
                raise AssertionError(
                    f"{FIRST_RUN} failed ({code}) in {self.repo}:\n{first.stdout}\n{first.stderr}"
                )
            self._result = SmokeRun(
                repo=self.repo,
                env=self.env,
                first=first,
                report=(self.repo / "reports/report.md").read_text(),
                metrics=json.loads((self.repo / "results/baseline/metrics.json").read_text()),
                audit=read_audit(self.log),
                deps=resolved_deps(self.repo),
            )
        return self._result

    def stop(self) -> None:
        """End the run if it is still going (a session cut short), children included."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def resolved_deps(repo: Path) -> dict[str, list[str]]:
    """Every stage of `repo` as DVC resolves it (foreach expanded, ${...} from its params):
    name -> dependency paths as dvc.yaml writes them."""
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        return {s.name: [d.def_path for d in s.deps] for s in dvc_repo.index.stages}
