"""Shared fixtures: the real conf/ composed small and datasets built in memory.
Helper functions live in tests/helpers/ (import them from there, not from here)."""

from __future__ import annotations

import contextlib
import os
import random
from pathlib import Path

import pytest

from .helpers.commands import ROOT
from .helpers.config import compose_config
from .helpers.scratch import use_memory_for_temporary_files
from .helpers.smoke import BackgroundSmokeRun, needs_smoke_run, smoke_root, stop_run

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
# One thread per process, in pytest's workers and in every stage they start: the test run
# keeps each core busy with processes of its own (the workers, the smoke run's stages), so
# threads inside one would only contend for them (make test, two runs one after the other
# on 2 cores: 6 min 10 s with the usual threads, 5 min 25 s with one). Every test compares
# runs made under the same setting; the engine's replica threads are tested explicitly
# (tests/engine/test_replicas.py).
for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "LAYERWISE_THREADS"):
    os.environ.setdefault(_name, "1")

E2E = ROOT / "tests" / "e2e"


def pytest_addoption(parser):
    parser.addoption(
        "--shuffle",
        type=int,
        metavar="SEED",
        help="run the tests in a random order drawn from SEED (every pytest-xdist worker "
        "draws the same): a check that no test depends on another having run before it",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest's base temporary folder is chosen
def pytest_configure(config):
    """Temporary folders in memory when the machine has room (tests/helpers/scratch.py),
    unless `--basetemp` or TMPDIR says where; pytest-xdist's workers inherit the choice."""
    if not hasattr(config, "workerinput") and not config.option.basetemp:
        use_memory_for_temporary_files()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """How tests are handed out to pytest-xdist's workers (`make test`: two, with
    `--dist loadgroup --no-loadscope-reorder`).

    Order: the unit tests first, then the end-to-end tests that need no smoke run, then
    those that do, so that the shared smoke run (started in the background when
    collection ends, see tests/e2e/conftest.py) goes on meanwhile; otherwise the order
    written.

    Groups: a test file goes whole to one worker (an `xdist_group` per file), so that a
    fixture it shares between tests is built once; but a test that works on its own copy
    of the smoke run and shares no fixture of a narrower scope than the session is handed
    out alone, so that the two workers share the end-to-end tests evenly once the run has
    finished rather than each taking whole files.
    """

    def order(item) -> tuple[bool, bool]:
        e2e = Path(item.path).is_relative_to(E2E)
        return e2e, needs_smoke_run(item)

    items.sort(key=order)
    if config.getoption("shuffle") is not None:
        random.Random(config.getoption("shuffle")).shuffle(items)
    for item in items:
        if not (needs_smoke_run(item) and not shares_fixtures(item)):
            item.add_marker(pytest.mark.xdist_group(Path(item.path).relative_to(ROOT).as_posix()))


def shares_fixtures(item) -> bool:
    """Whether `item` uses a fixture built once for several tests of its file (a module,
    class or package scope)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return True
    return any(
        defs and defs[-1].scope in ("module", "class", "package")
        for defs in info.name2fixturedefs.values()
    )


def pytest_sessionstart(session):
    """Under pytest-xdist the controller starts the shared smoke run, before its workers
    collect (the first of them to need it would start it seconds later: see
    tests/e2e/conftest.py), when the session is sure to select the end-to-end tests that
    need it: a folder holding tests/e2e among the paths (as `make test` gives), not
    ignored, no -k, and no marker expression other than the default one or none."""
    config = session.config
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("dsession"):
        return
    if config.option.collectonly or config.option.keyword:
        return
    if config.option.markexpr not in ("", "not slow"):
        return
    here = Path(config.invocation_params.dir)
    if any(E2E.is_relative_to((here / p).resolve()) for p in config.getoption("ignore") or []):
        return
    folders = [(here / arg.split("::")[0]).resolve() for arg in config.args]
    if any(folder.is_dir() and E2E.is_relative_to(folder) for folder in folders):
        with contextlib.suppress(Exception):  # the workers try again, and report it
            BackgroundSmokeRun.start(smoke_root(config))


def pytest_sessionfinish(session):
    """A session cut short ends the shared smoke run (tests/e2e/conftest.py starts it):
    here, in the process that ends last (pytest-xdist's controller, which outlives its
    workers and loads this file, or the only one)."""
    if hasattr(session.config, "workerinput"):
        return
    with contextlib.suppress(Exception):
        stop_run(smoke_root(session.config))


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

    return {name: data.build(spec, ROOT) for name, spec in smoke_cfg.datasets.items()}
