"""Wall time of a smoke sweep through the cluster command (a local Dask cluster of 2
workers) beside the same points through DVC's own queue (`dvc queue start -j 2`).

    python benchmarks/bench_cluster_sweep.py [--points 3,4,6,7] [--jobs 2] [--repeats 1]

A copy of the project (its git-tracked files) runs the smoke preset once (`dvc exp run
-S experiment=smoke`, a few minutes), commits the result and publishes it: the commit to a
bare git repository, its outputs and run cache to a folder standing for the DVC remote.
Each measurement starts from its own copy of that, so no run shares another's run cache:
`python -m layerwise.sweeps.cluster -S experiment=smoke -S baseline.epochs=<points>` (clone,
pull, run, push on each worker, then `dvc exp pull`), against `dvc exp run --queue` with
the same -S and `dvc queue start -j <jobs>`, waited for with `dvc queue status`. Both
rerun check, baseline, greedy_supervised and report per point; every other stage comes
from the smoke run. With --repeats the two alternate (cluster first, then queue first).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DVC = [sys.executable, "-m", "dvc"]
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
SMOKE = ["-S", "experiment=smoke"]


def sh(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # the stage commands say `python`: this interpreter's, as under `make`
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, "TF_CPP_MIN_LOG_LEVEL": "2", "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed in {cwd}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def published(work: Path) -> Path:
    """The smoke run committed, on a bare `origin`, its outputs on the folder `storage`."""
    repo = work / "smoke"
    files = sh(["git", "ls-files"], ROOT).stdout.splitlines()
    for rel in files:
        if (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, repo / rel)
    sh(["git", "init", "-q"], repo)
    sh([*GIT, "add", "-A"], repo)
    sh([*GIT, "commit", "-qm", "copy"], repo)
    print("running the smoke preset once ...", flush=True)
    sh([*DVC, "exp", "run", *SMOKE], repo)
    sh([*GIT, "add", "params.yaml", "dvc.lock"], repo)
    sh([*GIT, "commit", "-qm", "smoke run"], repo)
    return repo


def fresh(repo: Path, work: Path, name: str) -> Path:
    """A copy of `repo` with remotes of its own: a bare origin and a folder DVC remote."""
    root = work / name
    root.mkdir()
    copy = shutil.copytree(repo, root / "repo", symlinks=True)
    sh(["git", "init", "-q", "--bare", str(root / "origin.git")], root)
    sh(["git", "remote", "add", "origin", str(root / "origin.git")], copy)
    sh(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], copy)
    (root / "storage").mkdir()
    sh([*DVC, "remote", "add", "--local", "-d", "storage", str(root / "storage")], copy)
    sh([*DVC, "push", "--run-cache"], copy)
    return copy


def through_cluster(repo: Path, points: str, jobs: int) -> tuple[float, int]:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "layerwise.sweeps.cluster", *SMOKE, "-S", points]
    done = subprocess.run([*cmd, "-j", str(jobs)], cwd=repo, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    found = re.search(r"(\d+) of \d+ points done", done.stdout)
    return seconds, int(found.group(1)) if found else 0


def through_queue(repo: Path, points: str, jobs: int) -> tuple[float, int]:
    start = time.perf_counter()
    sh([*DVC, "exp", "run", "--queue", *SMOKE, "-S", points], repo)
    sh([*DVC, "queue", "start", "-j", str(jobs)], repo)
    while re.search(r"\b(Queued|Running)\b", status := sh([*DVC, "queue", "status"], repo).stdout):
        time.sleep(1)
    seconds = time.perf_counter() - start
    return seconds, len(re.findall(r"\bSuccess\b", status))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", default="3,4,6,7", help="values of baseline.epochs")
    parser.add_argument("--jobs", type=int, default=2, help="cluster workers / queue jobs")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    n = len(args.points.split(","))
    points = f"baseline.epochs={args.points}"
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    try:
        repo = published(work)
        ways = {"cluster": through_cluster, "queue": through_queue}
        for repeat in range(args.repeats):
            order = list(ways) if repeat % 2 == 0 else list(reversed(ways))
            for way in order:
                copy = fresh(repo, work, f"{way}-{repeat}")
                seconds, done = ways[way](copy, points, args.jobs)
                print(f"{way:8s} {n} points, {args.jobs} workers: {seconds:6.1f} s ({done} done)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
