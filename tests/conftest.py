"""Shared fixtures: the real conf/ composed small, datasets built in memory, a repo copy."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

ROOT = Path(__file__).resolve().parents[1]


def compose_config(*overrides: str):
    """The Config that `dvc exp run -S ...` would produce (schema checks included)."""
    from layerwise.config import to_config
    from layerwise.config.compose import compose

    return to_config(compose(list(overrides), ROOT / "conf"), "test composition")


@pytest.fixture(scope="session")
def smoke_cfg():
    return compose_config("experiment=smoke")


@pytest.fixture(scope="session")
def book_cfg():
    return compose_config()


@pytest.fixture(scope="session")
def datasets(smoke_cfg):
    """Every dataset of the smoke configuration, built once per test session."""
    from layerwise.pipeline import data

    return {name: data.build(spec) for name, spec in smoke_cfg.datasets.items()}


def run(cmd, cwd, check=True, env=None):
    """Run a command; return the CompletedProcess (text output)."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=full_env)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture
def repo_copy(tmp_path):
    """A fresh git + DVC repository holding the project's tracked files (no outputs)."""
    dest = tmp_path / "repo"
    files = run(["git", "ls-files", "-co", "--exclude-standard"], ROOT).stdout.split()
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    for lock in ("dvc.lock",):
        (dest / lock).unlink(missing_ok=True)
    run(["git", "init", "-q"], dest)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], dest)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"], dest)
    return dest
