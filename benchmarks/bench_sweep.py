"""A sweep through DVC's queue: its wall time against the stage work it reruns, and the rest.

A 4-point one-key sweep, as a user runs it (`dvc exp run --queue -S key=a,b,c,d`, then
`dvc queue start -j 2`, waiting for the last experiment), in a fresh clone of this
repository (the committed HEAD, or --rev) with its own DVC cache. The baseline is made
first (`dvc repro` there, committed; not timed as the sweep). Printed, all from one run:

    sweep wall time   from `dvc queue start` to the end of the last experiment
    stage work        the rerun stages' own wall_seconds (results/timing/, from each
                      experiment's dvc.lock and the cache)
    start-up          their process_seconds beyond that: interpreter and imports
    untimed stages    check and report (they record no timing), each run once here
    DVC               one experiment in which nothing reruns (`dvc exp run --temp -v`,
                      each log line timed as it comes): the workspace copy (DVC's temp
                      dir), opening it, checking outputs out and building the graph,
                      the status checks, the commit
    imports           `python -c pass` vs `import tensorflow` vs `import layerwise.engine`
                      vs `import layerwise.stage`, side by side, and what `python -X
                      importtime -c 'import tensorflow'` puts under its largest parts

It checks that a stage reran only if its params name the swept key (or all of
params.yaml); every other stage must come back unchanged or from the run cache.

    python benchmarks/bench_sweep.py              # book preset: ~10 min baseline, then the sweep
    python benchmarks/bench_sweep.py --quick      # smoke preset: a few minutes on an idle machine
    python benchmarks/bench_sweep.py --rev REV    # the same at another commit (before/after)

Other agents share this machine: absolute times are noisy, the load average is printed,
and the ratios (measured side by side in this one run) are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DVC = [PYTHON, "-m", "dvc"]
GIT_ID = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
DEFAULT_KEY = "optimizer.learning_rate"
DEFAULT_VALUES = "0.005,0.02,0.05,0.1"
UNTIMED = ("check", "report")  # stages that write no results/timing/ file
IMPORTS = {
    "python -c pass": "pass",
    "import layerwise.stage (every stage)": "import layerwise.stage",
    "import tensorflow": "import tensorflow",
    "import layerwise.engine (training)": "import layerwise.engine",
}
TF_PARTS = (  # what `import tensorflow` spends its time in, by importtime's cumulative
    "keras",
    "sklearn",
    "scipy.stats",
    "matplotlib.pyplot",
    "pandas",
    "tensorflow.python.distribute.combinations",
)


def environment() -> dict[str, str]:
    """The stage commands say `python`: this interpreter's. PYTHONPATH=src is relative, so
    every process (the queue's temp copies too) runs the code of its own checkout."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "DVC_NO_ANALYTICS": "1"}
    env["PYTHONPATH"] = "src"
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


ENV = environment()


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    run(cmd, cwd)
    return time.perf_counter() - start


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


# -- the baseline and the sweep ----------------------------------------------------------


def make_baseline(repo: Path, preset: str, rev: str | None) -> tuple[float, str]:
    """Clone, compose the preset, `dvc repro`, commit: its seconds and the clone's commit."""
    run(["git", "clone", "-q", str(ROOT), str(repo)], repo.parent)
    if rev:
        run(["git", "checkout", "-q", rev], repo)
    head = run(["git", "log", "-1", "--format=%h %s"], repo).stdout.strip()
    if preset != "book":
        run([PYTHON, "-m", "layerwise.config.compose", f"experiment={preset}"], repo)
    seconds = timed([*DVC, "repro"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", *GIT_ID, "commit", "-q", "-m", "baseline for the sweep"], repo)
    return seconds, head


def queue_sweep(repo: Path, preset: str, key: str, values: str) -> list[str]:
    sweep = ["-S", f"experiment={preset}", "-S", f"{key}={values}"]
    out = run([*DVC, "exp", "run", "--queue", *sweep], repo)
    names = re.findall(r"Queued experiment '([^']+)'", out.stdout + out.stderr)
    if len(names) != len(values.split(",")):
        sys.exit(f"expected {len(values.split(','))} queued experiments:\n{out.stdout}{out.stderr}")
    return names


def run_queue(repo: Path, names: list[str], jobs: int) -> tuple[float, dict[str, str]]:
    """`dvc queue start -j jobs`, then follow each experiment's log to its end: the wall
    time until the last one ends, and each experiment's log."""
    start = time.perf_counter()
    run([*DVC, "queue", "start", "-j", str(jobs)], repo)
    logs = {}
    for name in names:
        while True:  # `logs -f` refuses an experiment that has not started yet
            out = run([*DVC, "queue", "logs", "-f", name], repo, check=False)
            if "has not been started" not in out.stderr + out.stdout:
                break
            time.sleep(2)
        logs[name] = out.stdout + out.stderr
    seconds = time.perf_counter() - start
    status = run([*DVC, "queue", "status"], repo).stdout
    failed = [n for n in names if not re.search(rf"\b{re.escape(n)}\b.*Success", status)]
    if len(failed) == len(names):
        sys.exit(f"no experiment succeeded:\n{status}\n{logs.get(failed[0], '')[-3000:]}")
    for name in failed:  # e.g. a stage killed from outside on a shared machine
        print(f"FAILED: {name}; its log ends:\n{logs[name][-1500:]}")
        del logs[name]
    return seconds, logs


def stage_fates(log: str) -> dict[str, str]:
    """stage -> ran / unchanged / run cache, from an experiment's log."""
    fates = {}
    for name in re.findall(r"Running stage '([^']+)'", log):
        fates[name] = "ran"
    for name in re.findall(r"Stage '([^']+)' didn't change, skipping", log):
        fates[name] = "unchanged"
    for name in re.findall(r"Stage '([^']+)' is cached - skipping run", log):
        fates[name] = "run cache"
    return fates


def readers_of(repo: Path, key: str) -> dict[str, bool]:
    """stage -> whether its params (dvc.yaml, resolved) include `key`."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    readers = {}
    with Repo(str(repo)) as dvc_repo:
        for stage in dvc_repo.index.stages:
            names = [p for d in stage.deps if isinstance(d, ParamsDependency) for p in d.params]
            whole = any(isinstance(d, ParamsDependency) and not d.params for d in stage.deps)
            readers[stage.addressing] = whole or any(
                key == p or key.startswith(p + ".") for p in names
            )
    return readers


def experiment_timings(repo: Path, name: str) -> dict[str, dict]:
    """stage -> its results/timing/<stage>.json as the experiment committed it."""
    refs = run(["git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps"], repo)
    refs = dict(line.split() for line in refs.stdout.splitlines())
    sha = next(sha for ref, sha in refs.items() if ref.endswith(f"/{name}"))
    lock = yaml.safe_load(run(["git", "show", f"{sha}:dvc.lock"], repo).stdout)
    found = {}
    for stage, entry in lock["stages"].items():
        for out in entry.get("outs", []):
            if out["path"] == f"results/timing/{stage}.json":
                md5 = out["md5"]
                cached = repo / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
                if cached.is_file():  # dvc.lock may keep entries of stages long gone
                    found[stage] = json.loads(cached.read_text())
    return found


# -- the parts measured one by one ---------------------------------------------------------


def dvc_parts(repo: Path, preset: str) -> dict[str, float]:
    """One experiment in which nothing reruns, each verbose log line timed as it arrives."""
    cmd = [*DVC, "exp", "run", "--temp", "-v", "-S", f"experiment={preset}"]
    proc = subprocess.Popen(
        cmd, cwd=repo, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    start, marks, stage_lines = time.perf_counter(), {}, []
    patterns = {
        "init": "Init temp dir executor",
        "reproducing": "Reproducing experiment",
        "running": "Running repro in",
    }
    for line in proc.stdout:
        now = time.perf_counter() - start
        for mark, text in patterns.items():
            if text in line and mark not in marks:
                marks[mark] = now
        if re.search(r"Stage '[^']+' (didn't change|is cached)|Running stage '", line):
            stage_lines.append(now)
    end = time.perf_counter() - start
    if proc.wait() != 0 or len(marks) < 3 or not stage_lines:
        sys.exit(f"{' '.join(cmd)} failed or logged differently than expected")
    return {
        "start-up, composition and stash (at queue time)": marks["init"],
        "workspace copy (DVC's temp dir: git objects, checkout)": marks["reproducing"]
        - marks["init"],
        "opening the copy (params read for Studio)": marks["running"] - marks["reproducing"],
        "outputs checked out from the cache, stage graph": stage_lines[0] - marks["running"],
        f"status of {len(stage_lines)} stages": stage_lines[-1] - stage_lines[0],
        "metrics gathered, experiment committed, temp dir removed": end - stage_lines[-1],
        "total": end,
    }


def import_times(repos: dict[str, Path], repeats: int) -> dict[str, dict[str, float]]:
    """Median wall time of each IMPORTS command as a fresh process in each checkout
    (name -> path), all interleaved: checkout -> label -> seconds."""
    times = {name: {label: [] for label in IMPORTS} for name in repos}
    for _ in range(repeats):
        for label, code in IMPORTS.items():
            for name, repo in repos.items():
                times[name][label].append(timed([PYTHON, "-c", code], repo))
    return {
        name: {label: statistics.median(t) for label, t in labels.items()}
        for name, labels in times.items()
    }


def import_parts(repo: Path, module: str) -> dict[str, float]:
    """importtime's cumulative seconds of `module` and of each of TF_PARTS (first
    occurrence) under `python -X importtime -c 'import <module>'`; 0 where not imported."""
    err = run([PYTHON, "-X", "importtime", "-c", f"import {module}"], repo).stderr
    found = dict.fromkeys((module, "tensorflow", *TF_PARTS), 0.0)
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name, seconds = parts[2].strip(), int(parts[1]) / 1e6
            if name in found and not found[name]:  # each is imported once
                found[name] = seconds
    return found


# -- the report ----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke preset instead of book")
    parser.add_argument("--key", default=DEFAULT_KEY)
    parser.add_argument("--values", default=DEFAULT_VALUES, help="comma-separated sweep values")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rev", help="commit to clone (default: HEAD)")
    parser.add_argument("--compare", metavar="REV", help="also time the imports at REV")
    parser.add_argument("--repeats", type=int, default=3, help="of each import measurement")
    parser.add_argument("--keep", action="store_true", help="keep the clone (path printed)")
    args = parser.parse_args()
    preset = "smoke" if args.quick else "book"
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    repo = work / "repo"
    try:
        report(args, preset, repo)
    finally:
        if repo.exists():
            run([*DVC, "queue", "stop"], repo, check=False)
        if args.keep:
            print(f"clone kept: {repo}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(args, preset: str, repo: Path) -> None:
    print(f"{os.cpu_count()} cores, {load()} at start; preset {preset}")
    baseline_seconds, head = make_baseline(repo, preset, args.rev)
    print(f"clone at {head[:70]}")
    print(f"baseline `dvc repro` (not part of the sweep): {baseline_seconds:.0f} s")

    names = queue_sweep(repo, preset, args.key, args.values)
    wall, logs = run_queue(repo, names, args.jobs)
    print(f"{load()} after the sweep")
    if len(logs) < len(names):
        print(f"only {len(logs)} of {len(names)} experiments succeeded: the wall time below is")
        print("not that of a whole sweep; the sums are over the experiments that succeeded")
        names = list(logs)

    readers = readers_of(repo, args.key)
    stage_work = process_work = 0.0
    ran_count, wrong, has_process = {}, [], True
    for name in names:
        fates = stage_fates(logs[name])
        timings = experiment_timings(repo, name)
        has_process &= all("process_seconds" in t for t in timings.values())
        for stage, fate in fates.items():
            if (fate == "ran") != readers.get(stage, False):
                wrong.append(f"{name}: {stage} {fate}")
            if fate != "ran":
                continue
            ran_count[stage] = ran_count.get(stage, 0) + 1
            if stage in timings:
                record = timings[stage]
                stage_work += record["wall_seconds"]
                process_work += record.get("process_seconds") or record["wall_seconds"]
    reran = ", ".join(f"{stage} x{count}" for stage, count in sorted(ran_count.items()))
    print(f"stages rerun, times: {reran}")
    print(
        "only the stages that read the key reran: "
        + ("yes" if not wrong else f"NO: {'; '.join(wrong)}")
    )

    # the parts, side by side, after the sweep (the same load conditions, as far as can be)
    untimed = {
        stage: timed([PYTHON, f"stages/{stage}.py"], repo)
        for stage in UNTIMED
        if ran_count.get(stage)
    }
    parts = dvc_parts(repo, preset)
    checkouts = {"this clone": repo}
    if args.compare:  # only its code is needed: no baseline, no sweep
        other = repo.parent / "compare"
        run(["git", "clone", "-q", str(ROOT), str(other)], repo.parent)
        run(["git", "checkout", "-q", args.compare], other)
        checkouts[args.compare] = other
    imports = import_times(checkouts, args.repeats)
    tf_parts = {"tensorflow": import_parts(repo, "tensorflow")}
    for name, checkout in checkouts.items():
        tf_parts[f"engine, {name}"] = import_parts(checkout, "layerwise.engine")
    print(f"{load()} after the measurements of the parts")

    n = len(names)
    print(f"\nsweep of {args.key} = {args.values} ({n} points, -j {args.jobs}), {preset} preset:")
    print(f"  {'sweep wall time':58s} {wall:7.1f} s")
    print(f"  {'stage work (rerun stages own wall_seconds, summed)':58s} {stage_work:7.1f} s")
    print(f"  ratio wall / stage work: {wall / stage_work:.2f}")

    print("\nwhere the time goes, summed over the experiments (serial seconds):")
    rows = {"stage work": stage_work}
    if has_process:
        rows["start-up and imports of those stages (process - wall)"] = process_work - stage_work
    for stage, seconds in untimed.items():
        rows[f"{stage} stage, whole process ({ran_count[stage]} runs)"] = seconds * ran_count[stage]
    per_exp = sum(v for k, v in parts.items() if k != "total" and "queue time" not in k)
    rows["DVC per experiment (below), all experiments"] = per_exp * n
    for label, seconds in rows.items():
        print(f"  {label:58s} {seconds:7.1f} s")
    total = sum(rows.values())
    print(f"  {'sum':58s} {total:7.1f} s")
    print(
        f"  sum / ({args.jobs} workers x wall): {total / (args.jobs * wall):.2f}"
        f"  (wall / sum: {wall / total:.2f}; each stage already uses every core)"
    )
    if not has_process:
        print("  (this code records no process_seconds: start-up is inside the DVC rows' gap)")

    print("\nDVC, one experiment where nothing reruns (dvc exp run --temp):")
    for label, seconds in parts.items():
        print(f"  {label:58s} {seconds:7.1f} s")

    print(f"\nper process, median of {args.repeats}, side by side:")
    print(f"  {'':44s}" + "".join(f"{name[:12]:>13s}" for name in imports))
    for label in IMPORTS:
        print(f"  {label:44s}" + "".join(f"{imports[n][label]:11.2f} s" for n in imports))
    for name, times in imports.items():
        base = times["python -c pass"]
        engine = times["import layerwise.engine (training)"] - base
        tf_alone = times["import tensorflow"] - base
        print(f"  {name}: engine import / tensorflow import: {engine / tf_alone:.2f}")
    if len(imports) == 2:
        (a, ta), (b, tb) = imports.items()
        label, base = "import layerwise.engine (training)", "python -c pass"
        ratio = (ta[label] - ta[base]) / (tb[label] - tb[base])
        print(f"  engine import beyond start-up, {a} / {b}: {ratio:.2f}")
    print("python -X importtime -c 'import ...', cumulative seconds (0: not imported):")
    print(f"  {'':44s}" + "".join(f"{column[:18]:>19s}" for column in tf_parts))
    for name in ("tensorflow", "layerwise.engine", *TF_PARTS):
        print(f"  {name:44s}" + "".join(f"{c.get(name, 0.0):19.2f}" for c in tf_parts.values()))


if __name__ == "__main__":
    main()
