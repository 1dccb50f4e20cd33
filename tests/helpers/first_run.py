"""The shared smoke run's process: `python tests/helpers/first_run.py <folder>` runs
FIRST_RUN in <folder>/repo, then (when it passed) writes each stage's resolved DVC deps to
<folder>/deps.json, and last its exit code to <folder>/exit_code, which every pytest
process of the session waits for (tests/helpers/smoke.py). A script of its own, so that
its end is recorded whichever process started it and whether or not that one is still
there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FIRST_RUN = [sys.executable, "-m", "dvc", "exp", "run", "-S", "experiment=smoke"]


def resolved_deps(repo: Path) -> dict[str, list[str]]:
    """Every stage of `repo` as DVC resolves it (foreach expanded, ${...} from its params):
    name -> dependency paths as dvc.yaml writes them."""
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        return {s.name: [d.def_path for d in s.deps] for s in dvc_repo.index.stages}


def write(path: Path, text: str) -> None:
    """Write `text` to `path` at once (through a temporary name): a reader sees all or none."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def main(folder: Path) -> int:
    code = 1
    try:
        code = subprocess.call(FIRST_RUN, cwd=folder / "repo")
        if code == 0:
            write(folder / "deps.json", json.dumps(resolved_deps(folder / "repo")))
    finally:
        sys.stdout.flush()
        write(folder / "exit_code", str(code))
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
