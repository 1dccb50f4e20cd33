"""End-to-end fixtures: the smoke pipeline run once per session in a copy of the repo
(under the audit hook), and a small copy for the stage scripts' bad-input runs.

The smoke run is started in the background as soon as collection ends, when any selected
test needs it; the unit tests run meanwhile (tests/conftest.py puts tests/e2e last), and
the `smoke_run` fixture waits for it. It takes two minutes of mostly one core, and the
unit tests about as long.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path

import pytest

from ..helpers.commands import copy_tree, run
from ..helpers.smoke import BackgroundSmokeRun, SmokeRun

_SMOKE = pytest.StashKey[BackgroundSmokeRun]()


def _start(config, root: Path) -> BackgroundSmokeRun:
    config.stash[_SMOKE] = BackgroundSmokeRun(root)
    return config.stash[_SMOKE]


def pytest_collection_finish(session):
    if session.config.option.collectonly or _SMOKE in session.config.stash:
        return
    if not any("smoke_run" in getattr(item, "fixturenames", ()) for item in session.items):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)  # tmp_path_factory's
    if factory is None:  # the fixture starts the run when first asked
        return
    # if it cannot start here, the fixture tries again and fails where a test reports it
    with contextlib.suppress(Exception):
        _start(session.config, factory.mktemp("smoke"))


def pytest_sessionfinish(session):
    started = session.config.stash.get(_SMOKE, None)
    if started is not None:
        started.stop()


@pytest.fixture(scope="session")
def smoke_run(request, tmp_path_factory) -> SmokeRun:
    """The whole pipeline on the smoke preset, once per test session."""
    started = request.config.stash.get(_SMOKE, None)
    if started is None:
        started = _start(request.config, tmp_path_factory.mktemp("smoke"))
    return started.result()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    """The project's files with params.yaml composed on the smoke preset and a valid
    blobs dataset (no git, no DVC run): what a stage script needs to start."""
    dest = copy_tree(tmp_path_factory.mktemp("seeded") / "repo")
    run([sys.executable, "-m", "layerwise.config.compose", "experiment=smoke"], dest)
    run([sys.executable, "stages/data.py", "blobs"], dest)
    return dest


@pytest.fixture
def stage_repo(seeded_template, tmp_path) -> Path:
    """A copy of the seeded template of this test's own (a fraction of a second)."""
    return shutil.copytree(seeded_template, tmp_path / "repo", symlinks=True)
