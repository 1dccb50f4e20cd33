"""Wall time of the book-scale greedy stages, each run as DVC runs it: a fresh process.

The issue's budget is two minutes for all of them together on a 2-engine machine. Each
stage command runs in a scratch copy of the inputs it reads (params.yaml, the data
files, the baseline's replicas), so the workspace's results are not touched; missing
inputs are made first with `dvc repro data baseline`. Start-up (Python,
TensorFlow) is included, as it is in `dvc repro`; the stages' own timing files
(results/timing/) leave it out.

    python benchmarks/bench_greedy_stages.py [--repeats 3]

This machine's speed varies from run to run (shared host), so with --repeats the
median of each stage is reported beside the fastest and slowest run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 120.0
STAGES = [
    ("greedy_supervised", []),
    ("greedy_unsupervised", []),
    ("greedy_activations", []),
    ("greedy_depth", []),
    ("greedy_few_labels@blobs", ["blobs"]),
    ("greedy_few_labels@digits", ["digits"]),
]
INPUTS = ["params.yaml", "data/blobs.npz", "data/digits.npz", "results/baseline"]


def scratch_copy() -> Path:
    if any(not (ROOT / p).exists() for p in INPUTS):  # a fresh checkout: make the inputs
        command = [sys.executable, "-m", "dvc", "repro", "data", "baseline"]
        # the stage commands say `python`: this interpreter's, as under `make`
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        made = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PATH": path}
        )
        if made.returncode != 0:
            sys.exit(f"could not make the inputs ({' '.join(command[1:])}):\n{made.stderr[-2000:]}")
    work = Path(tempfile.mkdtemp(prefix="bench-greedy-"))
    for item in INPUTS + ["stages", "conf", "hydra_plugins"]:  # conf: the header composes it
        source, target = ROOT / item, work / item
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return work


def run_stage(work: Path, stage: str, args: list[str]) -> float:
    script = f"stages/{stage.split('@')[0]}.py"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, script, *args], cwd=work, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{stage} failed:\n{result.stderr[-2000:]}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    work = scratch_copy()
    try:
        times = {stage: [] for stage, _ in STAGES}
        for _ in range(args.repeats):
            for stage, stage_args in STAGES:
                times[stage].append(run_stage(work, stage, stage_args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for stage, seconds in times.items():
        spread = f"  ({min(seconds):.1f}..{max(seconds):.1f})" if len(seconds) > 1 else ""
        print(f"{stage:26s} {statistics.median(seconds):6.1f} s{spread}")
    runs = [sum(times[stage][i] for stage in times) for i in range(args.repeats)]
    total = statistics.median(runs)
    spread = f"  ({min(runs):.1f}..{max(runs):.1f})" if len(runs) > 1 else ""
    print(f"{'all greedy stages':26s} {total:6.1f} s{spread}  (budget {BUDGET_SECONDS:.0f} s)")
    print(f"share of budget: {total / BUDGET_SECONDS:.2f}")


if __name__ == "__main__":
    main()
