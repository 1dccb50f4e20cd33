"""End-to-end fixtures: the smoke pipeline run once per session in a copy of the repo
(under the audit hook), a private copy of it for every test, and a small copy for the
stage scripts' bad-input runs.

- `smoke_run` (function scope): a private copy of the finished smoke run (a `SmokeRun`,
  tests/helpers/smoke.py): `.repo`, `.dvc(...)`, `.python(...)`, `.status()`, and the
  first run's `.first`, `.report`, `.metrics`, `.audit`, `.deps`. Edit it, rerun in it,
  break it: no other test sees it. A copy takes a fraction of a second (DVC's cache is
  hard links).
- `shared_smoke_run` (session scope): the shared run itself, for fixtures of a wider scope
  to copy from (`shared_smoke_run.copy(folder)`). Run no command in it and write nothing
  to it: after every test its files are checked to be as they were. A fixture that makes
  a shared run of its own (tests/e2e/test_csv_dataset.py) hands it to `keep_unchanged`
  for the same check.

The smoke run is started in the background: by pytest-xdist's controller at session start
when the session is sure to need it (tests/conftest.py: `make test`, `make test-all`),
otherwise as soon as collection ends, when any selected test needs it. The unit tests run
meanwhile (tests/conftest.py puts tests/e2e last), and the fixtures wait for it. It takes
two and a half minutes of one core here (more beside the workers), and the unit tests
about as long on the other.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from ..helpers.commands import copy_tree, run_script_here
from ..helpers.smoke import (
    BackgroundSmokeRun,
    SmokeRun,
    fingerprint,
    needs_smoke_run,
    smoke_root,
)

_SMOKE = pytest.StashKey[BackgroundSmokeRun]()
# shared repositories no test may change: path -> its fingerprint when it was finished
_FROZEN = pytest.StashKey[dict[Path, dict]]()


def _start(config) -> BackgroundSmokeRun:
    if _SMOKE not in config.stash:
        config.stash[_SMOKE] = BackgroundSmokeRun.start(smoke_root(config))
    return config.stash[_SMOKE]


def pytest_collection_finish(session):
    if session.config.option.collectonly or _SMOKE in session.config.stash:
        return
    if not any(needs_smoke_run(item) for item in session.items):
        return
    # if it cannot start here, the fixture tries again and fails where a test reports it
    with contextlib.suppress(Exception):
        _start(session.config)


def freeze(config, repo: Path) -> None:
    """Check after every test from now on that no file of `repo` changed."""
    config.stash.setdefault(_FROZEN, {})[repo] = fingerprint(repo)


@pytest.fixture(scope="session")
def keep_unchanged(request):
    """`keep_unchanged(repo)`: from now on, fail any test after which a file of `repo` (a
    shared run that tests copy) has changed."""
    return lambda repo: freeze(request.config, repo)


@pytest.fixture(autouse=True)
def _shared_runs_stay_as_they_were(request):
    yield
    for repo, before in request.config.stash.get(_FROZEN, {}).items():
        after = fingerprint(repo)
        if after != before:
            changed = sorted(
                k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
            )
            request.config.stash[_FROZEN][repo] = after  # blame this test only
            pytest.fail(
                f"{request.node.nodeid} changed the shared run in {repo} ({len(changed)} files, "
                f"e.g. {changed[:5]}): work in a private copy (the `smoke_run` fixture, or "
                "`shared_smoke_run.copy(...)`)",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def shared_smoke_run(request) -> SmokeRun:
    """The whole pipeline on the smoke preset, once per test session: copy it, never run
    in it or write to it (see the module's docstring)."""
    result = _start(request.config).result()
    if result.repo not in request.config.stash.get(_FROZEN, {}):
        freeze(request.config, result.repo)
    return result


@pytest.fixture
def smoke_run(shared_smoke_run, tmp_path) -> SmokeRun:
    """A private copy of the finished smoke run, this test's alone."""
    return shared_smoke_run.copy(tmp_path / "smoke")


@pytest.fixture(scope="session")
def seeded_template(request, tmp_path_factory) -> Path:
    """The project's files with params.yaml composed on the smoke preset and a valid
    blobs dataset (no git, no DVC run): what a stage script needs to start. Made in this
    process by what `make params` and `python stages/data.py blobs` run (the composition
    command's `main`, the stage script), each worker's own in a second."""
    from layerwise.config import compose as compose_command

    dest = copy_tree(tmp_path_factory.mktemp("seeded") / "repo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(dest)
        assert compose_command.main(["experiment=smoke"]) == 0
        assert run_script_here(dest, ("stages/data.py", "blobs"), patch) == 0
    freeze(request.config, dest)
    return dest


@pytest.fixture
def stage_repo(seeded_template, tmp_path) -> Path:
    """A copy of the seeded template of this test's own (a fraction of a second)."""
    return shutil.copytree(seeded_template, tmp_path / "repo", symlinks=True)
