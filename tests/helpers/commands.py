"""Running the project's commands from tests: subprocesses with this interpreter's
environment, a copy of the repository, and reading DVC's output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DVC = [sys.executable, "-m", "dvc"]


def command_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ, with this interpreter's bin/ first on PATH: dvc.yaml's `python stages/...`
    must be the venv's python however pytest was started (`make test` puts .venv/bin on
    PATH; `.venv/bin/python -m pytest` alone does not)."""
    env = {**os.environ, **(extra or {})}
    env["PATH"] = os.pathsep.join(
        p for p in (str(Path(sys.executable).parent), env.get("PATH", "")) if p
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def run(cmd, cwd, check=True, env=None):
    """Run a command; return the CompletedProcess (text output)."""
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=command_env(env))
    if check and result.returncode != 0:
        raise AssertionError(
            f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def copy_tree(dest: Path) -> Path:
    """The project's files as git sees them (tracked and untracked, not ignored: no
    outputs, no dvc.lock) copied into `dest`."""
    files = run(["git", "ls-files", "-co", "--exclude-standard"], ROOT).stdout.splitlines()
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / "dvc.lock").unlink(missing_ok=True)
    return dest


def copy_repo(dest: Path) -> Path:
    """A fresh git + DVC repository holding the project's files (no outputs, no lock)."""
    copy_tree(dest)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    run(["git", "init", "-q"], dest)
    run([*git, "add", "-A"], dest)
    run([*git, "commit", "-qm", "copy"], dest)
    return dest


def covered(rel: str, deps: list[str]) -> bool:
    """A DVC dependency list covers `rel` (a path relative to the repository): a dep names
    the file itself or a directory above it."""
    return any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps)


def outputs(repo: Path) -> dict[str, bytes]:
    """Every file under the stage output folders (data/, results/, reports/) of `repo`:
    path relative to the repository -> its bytes."""
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for folder in ("data", "results", "reports")
        for p in sorted((repo / folder).rglob("*"))
        if p.is_file()
    }


def ran_stages(output: str) -> set[str]:
    """Stages `dvc repro` / `dvc exp run` ran (not those restored from the run cache)."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]
