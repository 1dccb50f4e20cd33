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
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import write_json
from layerwise.sweeps.task import Task, exp_ref, run_point

DEBUG_ENV = "LAYERWISE_DEBUG"
RECORD = Path(".dvc/tmp/cluster_sweep.json")  # git-ignored, outside every DVC output
CONNECT_TIMEOUT = 10  # seconds to reach a scheduler
GIT_TIMEOUT = 60  # seconds for the git remote to answer
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
        raise UserError(f"-S: {_first_line(err)}") from err
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


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _git(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}  # no password prompt: fail instead
    try:
        return subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as err:
        raise UserError(f"git {args[0]} did not answer within {timeout:.0f} s") from err


def _git_out(*args: str) -> str:
    """git's output; its last error line as a UserError if it fails."""
    done = _git(*args)
    if done.returncode != 0:
        raise UserError(f"git {args[0]}: {_last_line(done.stderr)}")
    return done.stdout.strip()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "failed with no output"


def check_clean() -> None:
    changed = _git_out("diff", "HEAD", "--name-only").splitlines()  # staged or not
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise UserError(
            f"uncommitted changes to {', '.join(changed[:3])}{more}: the workers run the last "
            "commit as the git remote has it, so commit (and push) or stash them first"
        )


def git_remote_url(name: str) -> str:
    """The URL workers clone from: a local path made absolute, no password in it."""
    found = _git("remote", "get-url", name)
    if found.returncode != 0:
        known = ", ".join(_git_out("remote").split()) or "none"
        raise UserError(
            f"git remote '{name}' does not exist (configured: {known}); add the repository "
            f"the workers clone from with `git remote add {name} URL`, or pass --git-remote"
        )
    url = found.stdout.strip()
    if urlsplit(url).password:
        raise UserError(
            f"git remote '{name}' has a password in its URL, which every worker would be "
            "sent: use an SSH key or a git credential helper on each machine instead"
        )
    return str(Path(url).resolve()) if Path(url).exists() else url


def remote_refs(name: str, url: str) -> dict[str, str]:
    """Every ref of the git remote -> its commit; refused if the remote cannot be reached."""
    listing = _git("ls-remote", url, timeout=GIT_TIMEOUT)
    if listing.returncode != 0:
        raise UserError(
            f"git remote '{name}' ({url}) cannot be reached: {_last_line(listing.stderr)}"
        )
    pairs = (line.split("\t") for line in listing.stdout.splitlines() if "\t" in line)
    return {ref.removesuffix("^{}"): sha for sha, ref in pairs}


def check_base_on_remote(name: str, refs: dict[str, str], base: str) -> None:
    """Refuse unless `base` is on the git remote's branches or tags (what a clone gets)."""
    tips = {sha for ref, sha in refs.items() if ref.startswith(("refs/heads/", "refs/tags/"))}
    if base in tips:
        return
    if any(_git("merge-base", "--is-ancestor", base, sha).returncode == 0 for sha in tips):
        return
    branch = _git("branch", "--show-current").stdout.strip() or "HEAD"
    raise UserError(
        f"commit {base[:7]} is not on git remote '{name}', where the workers clone it "
        f"from: push it first (git push {name} {branch})"
    )


def dvc_remote(name: str | None) -> tuple[str, str]:
    """The DVC remote's name and URL (absolute for a folder), refused unless it exists."""
    from dvc.repo import Repo

    with Repo(".") as repo:
        remotes = repo.config["remote"]
        name = name or repo.config["core"].get("remote")
        if not name:
            raise UserError(
                "no DVC remote for the workers' results: set a default one (`dvc remote add "
                "-d NAME URL`, credentials with `dvc remote modify --local`) or pass --dvc-remote"
            )
        if name not in remotes:
            known = ", ".join(remotes) or "none"
            raise UserError(
                f"DVC remote '{name}' does not exist (configured: {known}); add it with "
                f"`dvc remote add {name} URL`"
            )
        url = remotes[name]["url"]
        try:
            remote = repo.cloud.get_remote(name)
            exists = remote.fs.exists(remote.path)
        except Exception as err:  # credentials, network, a missing extra such as dvc[s3]
            raise UserError(
                f"DVC remote '{name}' ({url}) cannot be reached: {_first_line(err)}"
            ) from err
        if not exists:
            raise UserError(
                f"DVC remote '{name}' ({url}) does not exist: push this commit's outputs and "
                f"run cache there first (dvc push --run-cache -r {name})"
            )
    return name, url


def check_record(path: Path) -> Path:
    """Refuse a record path inside a DVC output (the next run would delete it)."""
    from dvc.repo import Repo

    path = path.resolve()
    with Repo(".") as repo:
        for out in repo.index.outs:
            target = Path(out.fs_path).resolve()
            if path == target or target in path.parents:
                raise UserError(
                    f"--record {path}: inside {target.relative_to(Path.cwd())}, a DVC output; "
                    f"allowed: a path outside every stage output, such as {RECORD}"
                )
    return path


def taken_names(refs: dict[str, str], base: str) -> set[str]:
    """Names of the experiments of `base` on the git remote (`refs`) or in this repository."""
    prefix = exp_ref(base, "")
    local = _git("for-each-ref", "--format=%(refname)", prefix).stdout.split()
    return {ref[len(prefix) :] for ref in [*refs, *local] if ref.startswith(prefix)}


def experiment_names(n: int, prefix: str | None, taken: set[str]) -> list[str]:
    """`prefix-1` .. `prefix-n` (as `dvc exp run --queue -n` names a sweep's points), or
    DVC's own random names; refused where an experiment of this commit has the name."""
    from dvc.repo.experiments.utils import gen_random_name

    if prefix is None:
        names: list[str] = []
        while len(names) < n:
            if (name := gen_random_name()) not in taken and name not in names:
                names.append(name)
        return names
    names = [f"{prefix}-{k}" for k in range(1, n + 1)]
    if "/" in prefix or _git("check-ref-format", exp_ref("0" * 40, names[0])).returncode:
        raise UserError(f"--name {prefix}: not a valid experiment name (a git ref name, no '/')")
    clash = [name for name in names if name in taken]
    if clash:
        raise UserError(
            f"--name {prefix}: experiment '{clash[0]}' of this commit exists already "
            "(allowed: a prefix that no experiment of this commit starts with)"
        )
    return names


def check_address(address: str) -> None:
    """Refuse an address that is not tcp:// or tls:// HOST:PORT, or where nothing answers
    (probed here: a Client that cannot connect keeps the process waiting at exit)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            raise ValueError(f"unsupported scheme '{scheme}'")
        host, port = parse_host_port(location)
    except ValueError as err:
        raise UserError(
            f"--address {address}: {err} (allowed: tcp://HOST:PORT or tls://HOST:PORT, the "
            "address `dask scheduler` prints)"
        ) from err
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as err:
        raise UserError(
            f"--address {address}: no Dask scheduler answers there ({err.strerror or err}); "
            f"start one with `dask scheduler` and workers with `dask worker {address}`"
        ) from err


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
        raise UserError(f"--address {address}: {_first_line(err)}") from err
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
            outcome = {"error": f"{type(err).__name__}: {_first_line(err)}"}
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
            f"dvc exp pull: {_last_line(pulled.stderr)}; the experiments are on "
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
    root = _git("rev-parse", "--show-toplevel").stdout.strip()
    if not root:
        raise UserError("not inside a git repository: run from the project's checkout")
    os.chdir(root)
    started = time.monotonic()
    check_clean()
    base = _git_out("rev-parse", "HEAD")
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
        if (value := _git("config", key).stdout.strip())
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
