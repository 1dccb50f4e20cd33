"""How `make test` runs.

- Scheduling: tests/conftest.py gives each test file an `xdist_group`, so that a costly
  fixture of a module is built once, on one worker. Nothing fails when pytest-xdist stops
  honouring the groups (with pytest 9.2 it silently did, pytest-dev/pytest-xdist#1386: a
  module's fixture was then built on both workers); the first test here does.
- Temporary folders: in memory when the machine has room (tests/helpers/scratch.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict

from .helpers.scratch import memory_folder, use_memory_for_temporary_files

CONFTEST = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(item.path.name))
"""

MODULE = """
import time
import pytest

@pytest.mark.parametrize("i", range(4))
def test_case(i):
    time.sleep(0.05)
"""


def test_pytest_xdist_runs_each_group_on_one_worker(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name in ("test_a.py", "test_b.py"):
        (tmp_path / name).write_text(MODULE)
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-n", "2"]
        + ["--dist", "loadgroup", "--no-loadscope-reorder"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    workers = defaultdict(set)
    for worker, module in re.findall(r"\[(gw\d)\].*PASSED (test_\w)\.py::", ran.stdout):
        workers[module].add(worker)
    assert set(workers) == {"test_a", "test_b"}, ran.stdout
    assert all(len(found) == 1 for found in workers.values()), dict(workers)


def test_temporary_folders_go_to_memory_only_with_room_and_unless_told(tmp_path):
    assert memory_folder(tmp_path, needs_free=0) == tmp_path / f"layerwise-tests-{os.getuid()}"
    assert memory_folder(tmp_path, needs_free=2**62) is None  # no room
    assert memory_folder(tmp_path / "absent", needs_free=0) is None
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / f"layerwise-tests-{os.getuid()}").symlink_to(tmp_path)
    assert memory_folder(planted, needs_free=0) is None  # a link is not our folder
    told = {"TMPDIR": str(tmp_path)}
    assert use_memory_for_temporary_files(told) is None and told == {"TMPDIR": str(tmp_path)}
