"""Run a sweep's points on a Dask cluster, each an ordinary DVC experiment, gathered
through the git remote and the DVC remote.

python -m layerwise.sweeps.cluster -S experiment=smoke -S 'baseline.epochs=3,4,6'
python -m layerwise.sweeps.cluster -S 'optimizer.learning_rate=0.005,0.1' \\
    --address tcp://host:8786

`-S` takes what `dvc exp run -S ... --queue` takes, and DVC expands it the same way
(several -S: their cross product). Each point runs on a worker in a fresh clone of the git
remote at this commit: `dvc exp run --pull` (a stage already run anywhere with the same
code, data and params comes from the DVC remote's run cache), then its outputs and run
cache go to the DVC remote and its ref to the git remote. This machine then pulls them
(`dvc exp pull`), so `dvc exp show` lists them beside local ones. Without --address a
local cluster of --workers processes runs the points.

Before any point starts, the sweep is refused with one line if the workspace has
uncommitted changes, a remote is missing or cannot be reached, this commit is not on the
git remote, or the engine cannot be reached; a point whose values the configuration's
checks refuse fails alone. The summary lists every point with its experiment or its
error, and --record (default .dvc/tmp/cluster_sweep.json) keeps it as JSON.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import write_json
from layerwise.sweeps.preflight import (
    CONNECT_TIMEOUT,
    RECORD,
    check_address,
    check_base_on_remote,
    check_clean,
    check_record,
    dvc_remote,
    experiment_names,
    first_line,
    git,
    git_out,
    git_remote_url,
    last_line,
    remote_refs,
    taken_names,
)
from layerwise.sweeps.task import Task, run_point

DEBUG_ENV = "LAYERWISE_DEBUG"
IDENTITY = {
    "user.name": ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"),
    "user.email": ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"),
}


def expand(set_params: list[str]) -> list[tuple[str, ...]]:
    """The sweep's points as `dvc exp run -S ... --queue` expands them (DVC's own code: Hydra's
    override parser and basic sweeper): each point a tuple of `-S` values."""
    from dvc.dependency.param import ParamsDependency
    from dvc.utils.cli_parse import to_path_overrides
    from dvc.utils.hydra import get_hydra_sweeps

    try:
        sweeps = get_hydra_sweeps(to_path_overrides(set_params))
    except Exception as err:  # Hydra's parser errors, DVC's "glob not supported"
        raise UserError(f"-S: {first_line(err)}") from err
    default = ParamsDependency.DEFAULT_PARAMS_FILE
    return [
        tuple(
            o if path == default else f"{path}:{o}"
            for path, values in point.items()
            for o in values
        )
        for point in sweeps
    ]


def refusal(point: tuple[str, ...]) -> str | None:
    """Why the configuration's checks refuse this point's values (one line), or None: what
    `dvc exp run` would say while composing, found here before any worker is asked."""
    from layerwise.config.compose import compose_checked

    try:
        compose_checked([value for value in point if ":" not in value.partition("=")[0]])
    except UserError as err:
        return str(err)
    return None


@contextmanager
def engine(address: str | None, workers: int):
    """A Dask client: of the scheduler at `address`, or of a local cluster of `workers`
    processes (one thread each: a point's stages already use every core)."""
    from distributed import Client, LocalCluster

    if address is None:
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client, f"a local cluster of {workers} worker processes"
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except OSError as err:  # something answers there, but not a Dask scheduler
        raise UserError(f"--address {address}: {first_line(err)}") from err
    with client:
        n = len(client.scheduler_info().get("workers", {}))
        yield client, f"the Dask scheduler at {address} ({n} workers now)"


def run_sweep(client, tasks: list[Task], points: dict[str, dict], save) -> None:
    """Submit every task; fill in its point as its result comes back, and `save()`."""
    from distributed import as_completed

    futures = {
        client.submit(run_point, task, key=f"layerwise-sweep-{task.name}", pure=False): task
        for task in tasks
    }
    for k, future in enumerate(as_completed(futures), 1):
        task = futures[future]
        try:
            outcome = future.result()
        except Exception as err:  # the engine gave up, e.g. KilledWorker: lost too often
            outcome = {"error": f"{type(err).__name__}: {first_line(err)}"}
        point = points[task.name]
        point.update(outcome, status="done" if outcome.get("experiment") else "failed")
        took = f" in {outcome['seconds']:.0f} s" if "seconds" in outcome else ""
        where = f" on {outcome['host']}" if "host" in outcome else ""
        result = "done" if point["status"] == "done" else f"failed: {point['error']}"
        values = " ".join(task.params)
        print(f"[{k}/{len(tasks)}] {task.name} ({values}): {result}{took}{where}", flush=True)
        save()


def pull(git_remote: str, dvc_remote: str, names: list[str]) -> None:
    """The experiments' refs from the git remote, their outputs and the run cache from the
    DVC remote, into this repository."""
    dvc = [sys.executable, "-m", "dvc"]
    cmd = [*dvc, "exp", "pull", "--run-cache", "-r", dvc_remote, git_remote, *names]
    pulled = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if pulled.returncode != 0:
        raise UserError(
            f"dvc exp pull: {last_line(pulled.stderr)}; the experiments are on "
            f"'{git_remote}': pull them with `dvc exp pull {git_remote} {' '.join(names)}`"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m layerwise.sweeps.cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "-S",
        "--set-param",
        action="append",
        default=[],
        metavar="[FILE:]KEY=VALUES",
        help="as for dvc exp run: 'a=1,2' sweeps a key; several -S sweep their cross product",
    )
    add("--address", help="the Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    add("-j", "--workers", type=int, help="worker processes of the local cluster (default: 2)")
    add("--git-remote", default="origin", help="git remote the workers clone and push to")
    add("--dvc-remote", help="DVC remote for outputs and run cache (default: the default one)")
    add("-n", "--name", help="name the experiments NAME-1, NAME-2, ... (default: random names)")
    add("--work-dir", help="folder of the workers' clones (default: each worker's temp folder)")
    add("--record", type=Path, default=RECORD, help=f"the sweep as JSON (default: {RECORD})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return sweep(args)
    except UserError as err:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"error: sweep interrupted; `dvc exp list {args.git_remote}` lists the points "
            "already pushed",
            file=sys.stderr,
        )
        return 130


def sweep(args: argparse.Namespace) -> int:
    """Check everything, run every point the checks let through, pull, summarize."""
    if args.address is not None and args.workers is not None:
        raise UserError(
            "--workers sizes the local cluster: with --address the workers are the ones "
            "started with `dask worker`"
        )
    workers = 2 if args.workers is None else args.workers
    if workers < 1:
        raise UserError(f"--workers {workers}: allowed: 1 or more")
    root = git("rev-parse", "--show-toplevel").stdout.strip()
    if not root:
        raise UserError("not inside a git repository: run from the project's checkout")
    os.chdir(root)
    started = time.monotonic()
    check_clean()
    base = git_out("rev-parse", "HEAD")
    git_url = git_remote_url(args.git_remote)
    dvc_name, dvc_url = dvc_remote(args.dvc_remote)
    record_path = check_record(args.record)
    refs = remote_refs(args.git_remote, git_url)
    check_base_on_remote(args.git_remote, refs, base)
    if args.address is not None:
        check_address(args.address)
    values = expand(args.set_param)
    names = experiment_names(len(values), args.name, taken_names(refs, base))
    identity = {
        variable: value
        for key, variables in IDENTITY.items()
        if (value := git("config", key).stdout.strip())
        for variable in variables
    }

    points: dict[str, dict] = {}
    tasks: list[Task] = []
    for name, params in zip(names, values):
        why = refusal(params)
        status = "refused" if why else "pending"
        points[name] = {
            "params": list(params),
            "name": name,
            "status": status,
            "experiment": None,
            "error": why,
        }
        if why is None:
            task = Task(name, params, base, git_url, dvc_name, dvc_url, args.work_dir, identity)
            tasks.append(task)
        else:
            print(f"refused: {' '.join(params)}: {why}", flush=True)
    record = {
        "base": base,
        "git_remote": {"name": args.git_remote, "url": git_url},
        "dvc_remote": {"name": dvc_name, "url": dvc_url},
        "engine": args.address or f"local cluster of {workers} workers",
        "points": list(points.values()),
    }

    def save() -> None:
        write_json(record_path, record)

    if tasks:
        with engine(args.address, workers) as (client, where):
            what = f"{len(tasks)} point{'s' if len(tasks) > 1 else ''}"
            print(f"sweep of {what} from commit {base[:7]} on {where}", flush=True)
            save()
            run_sweep(client, tasks, points, save)
        done = [name for name, point in points.items() if point["status"] == "done"]
        if done:
            pull(args.git_remote, dvc_name, done)
    record["seconds"] = round(time.monotonic() - started, 1)
    save()
    return summarize(record["points"], record_path)


def summarize(points: list[dict], record: Path) -> int:
    """Every point with its experiment or its error; 0 if every point is done."""
    done = sum(point["status"] == "done" for point in points)
    print(f"\n{done} of {len(points)} points done (record: {record})")
    width = max(len(point["name"]) for point in points)
    for point in points:
        values = " ".join(point["params"])
        if point["status"] == "done":
            print(f"  {point['name']:<{width}}  {values}")
        else:
            print(f"  {'-':<{width}}  {values}  {point['status']}: {point['error']}")
    if done:
        print("`dvc exp show` lists them beside the local experiments")
    return 0 if done == len(points) else 1


if __name__ == "__main__":
    sys.exit(main())
