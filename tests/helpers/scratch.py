"""Where a test session keeps its temporary folders: in memory when the machine offers it.

The end-to-end tests make many small files (each copies a repository; `git`, `dvc exp run`
and DVC's sqlite state write, rename and sync hundreds more), and on a disk file system
that is most of their time: on the 2-core machine `make test` is timed on, a repository
copy took 0.9 s on ext4 and 0.05 s on tmpfs, and the whole suite 5 min 24 s twice against
4 min 14 s and 4 min 49 s. So a session that is not told where (no `--basetemp`, no TMPDIR) puts its
temporary folders, and every process it starts its own, under /dev/shm when that is a
RAM file system with room to spare (a container's default 64 MB is not).
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_MEMORY = Path("/dev/shm")
# a session's temporary files peaked at 62 MB under `make test` (the shared smoke run, the
# copies of the tests running, DVC's temporary files): a passing test's folder goes when it
# ends (pyproject.toml: tmp_path_retention_policy), a failed one's stays with the smoke run,
# and pytest keeps the last three sessions'
NEEDS_FREE = 2 * 1024**3


def memory_folder(base: Path = SHARED_MEMORY, needs_free: int = NEEDS_FREE) -> Path | None:
    """A folder of this user's under `base` for temporary files, or None when `base` is
    not a writable folder with `needs_free` bytes free."""
    try:
        stats = os.statvfs(base)
    except OSError:
        return None
    if stats.f_bavail * stats.f_frsize < needs_free or not os.access(base, os.W_OK | os.X_OK):
        return None
    folder = base / f"layerwise-tests-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
        return None  # not ours: somebody else's file or link in a shared folder
    return folder


def use_memory_for_temporary_files(environ=os.environ) -> Path | None:
    """Point TMPDIR (this process's `tempfile`, pytest's base temporary folder, and every
    process started from here) at `memory_folder()`, unless TMPDIR is set already; the
    folder chosen, or None."""
    import tempfile

    if environ.get("TMPDIR"):
        return None
    folder = memory_folder()
    if folder is not None:
        environ["TMPDIR"] = str(folder)
        tempfile.tempdir = None  # read TMPDIR again
    return folder
