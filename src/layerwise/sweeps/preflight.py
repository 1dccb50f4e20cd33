"""What must hold before a cluster sweep starts any task (layerwise.sweeps.cluster), each
refused with one line naming what is wrong and what to do: a clean workspace, a git remote
the workers can clone that has the commit, a DVC remote that exists, a record path
outside DVC's outputs, experiment names still free, an engine address where something
answers."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from layerwise.pipeline.errors import UserError
from layerwise.sweeps.task import exp_ref

RECORD = Path(".dvc/tmp/cluster_sweep.json")  # git-ignored, outside every DVC output
CONNECT_TIMEOUT = 10  # seconds to reach a scheduler
GIT_TIMEOUT = 60  # seconds for the git remote to answer


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def git(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
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


def git_out(*args: str) -> str:
    """git's output; its last error line as a UserError if it fails."""
    done = git(*args)
    if done.returncode != 0:
        raise UserError(f"git {args[0]}: {last_line(done.stderr)}")
    return done.stdout.strip()


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "failed with no output"


def check_clean() -> None:
    changed = git_out("diff", "HEAD", "--name-only").splitlines()  # staged or not
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise UserError(
            f"uncommitted changes to {', '.join(changed[:3])}{more}: the workers run the last "
            "commit as the git remote has it, so commit (and push) or stash them first"
        )


def git_remote_url(name: str) -> str:
    """The URL workers clone from: a local path made absolute, no password in it."""
    found = git("remote", "get-url", name)
    if found.returncode != 0:
        known = ", ".join(git_out("remote").split()) or "none"
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
    listing = git("ls-remote", url, timeout=GIT_TIMEOUT)
    if listing.returncode != 0:
        raise UserError(
            f"git remote '{name}' ({url}) cannot be reached: {last_line(listing.stderr)}"
        )
    pairs = (line.split("\t") for line in listing.stdout.splitlines() if "\t" in line)
    return {ref.removesuffix("^{}"): sha for sha, ref in pairs}


def check_base_on_remote(name: str, refs: dict[str, str], base: str) -> None:
    """Refuse unless `base` is on the git remote's branches or tags (what a clone gets)."""
    tips = {sha for ref, sha in refs.items() if ref.startswith(("refs/heads/", "refs/tags/"))}
    if base in tips:
        return
    if any(git("merge-base", "--is-ancestor", base, sha).returncode == 0 for sha in tips):
        return
    branch = git("branch", "--show-current").stdout.strip() or "HEAD"
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
                f"DVC remote '{name}' ({url}) cannot be reached: {first_line(err)}"
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
    local = git("for-each-ref", "--format=%(refname)", prefix).stdout.split()
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
    if "/" in prefix or git("check-ref-format", exp_ref("0" * 40, names[0])).returncode:
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
