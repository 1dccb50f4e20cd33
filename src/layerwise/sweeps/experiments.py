"""The experiments of a sweep as DVC lists them, and each one's claims.

`collect` asks DVC (`Repo.experiments.show`, what `dvc exp show` prints) and
`from_states` turns its ExpState objects into plain `Experiment` records: that seam
keeps everything after it (tables, statistics, figures) free of DVC, so that it is tested
on constructed experiments. `read_detail` reads an experiment's claims file from the
local DVC cache, where the hash its dvc.lock records puts it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from layerwise.pipeline.errors import UserError

DETAIL = "results/claims/detail.json"  # the claims stage's detailed output (a cached out)
PARAMS = "params.yaml"
FINISHED = "success"
SWEEP_HINT = (
    "run a sweep with `dvc exp run --queue -S 'key=a,b,c'` (e.g. "
    "-S 'optimizer.learning_rate=0.001,0.01,0.1'), then `dvc queue start -j 2`"
)


@dataclass(frozen=True)
class Experiment:
    """One DVC experiment as the sweep report needs it."""

    name: str
    rev: str  # its commit (queued ones: the stash entry that will run)
    baseline: str  # the commit it ran from
    state: str  # success | queued | running | failed
    params: dict[str, Any]  # params.yaml as it ran, nested
    detail_hash: str | None  # DETAIL's hash in its dvc.lock (None: not one of its outputs)
    detail_file: str | None = None  # where the local DVC cache keeps that file (collect)

    @property
    def detail_recorded(self) -> bool:
        return self.detail_hash is not None


class NotInCacheError(Exception):
    """An experiment's claims file is recorded but cannot be read here (not in the local
    DVC cache)."""


def _recorded_hash(outs: dict, path: str) -> str | None:
    """The hash an output listing (path -> ExpOut) records for `path`, itself or a folder
    above it (a folder's hash ends in '.dir'); None where there is none (a queued
    experiment's outputs have none yet)."""
    for out, info in (outs or {}).items():
        if path == out or path.startswith(out.rstrip("/") + "/"):
            return getattr(info, "hash", None)
    return None


def from_states(states: Iterable[Any]) -> list[Experiment]:
    """The experiments under each baseline of `Repo.experiments.show(...)`'s states (the
    workspace row is not an experiment). Duck-typed on ExpState / ExpRange / ExpExecutor
    (dvc/repo/experiments/serialize.py)."""
    found = []
    for baseline in states:
        if baseline.rev == "workspace":
            continue
        for exp_range in baseline.experiments or []:
            first = exp_range.revs[0]
            if exp_range.executor is not None:
                state = exp_range.executor.state
            else:  # a run in the workspace, finished: DVC keeps no executor for it
                state = "failed" if first.error is not None else FINISHED
            data = first.data
            params = {}
            if data is not None:
                params = (data.params or {}).get(PARAMS, {}).get("data") or {}
            found.append(
                Experiment(
                    name=exp_range.name or first.name or first.rev[:7],
                    rev=first.rev,
                    baseline=baseline.rev,
                    state=state,
                    params=params,
                    detail_hash=None if data is None else _recorded_hash(data.outs, DETAIL),
                )
            )
    return found


def _git_remotes(root: Path) -> list[str]:
    result = subprocess.run(["git", "remote"], cwd=root, capture_output=True, text=True)
    return result.stdout.split() if result.returncode == 0 else []


def pull_hint(root: str | Path, name: str) -> str:
    """The command that brings an experiment's outputs into the local cache."""
    remotes = _git_remotes(Path(root))
    remote = remotes[0] if len(remotes) == 1 else "<git remote>"
    return f"dvc exp pull {remote} {name}"


def collect(root: str | Path, rev: str | None = None, names: Sequence[str] = ()):
    """(experiments, baseline commit): every experiment whose baseline is `rev` (HEAD by
    default), or only those called `names` (whatever their baseline), as DVC lists them.
    Bad input (no DVC repository, an unknown commit or name) is a UserError."""
    from dvc.exceptions import DvcException, NotDvcRepoError
    from dvc.repo import Repo
    from dvc.repo.experiments.utils import resolve_name
    from dvc.scm import RevError
    from scmrepo.exceptions import RevError as GitRevError

    try:
        repo = Repo(str(root))
    except NotDvcRepoError:
        raise UserError(f"{root} is not a DVC repository (no .dvc folder above it)") from None
    with repo:
        try:
            baseline = repo.scm.resolve_rev(rev or "HEAD")
        except (RevError, GitRevError):
            raise UserError(
                f"--rev {rev}: no such commit in this repository (a branch, tag or sha)"
            ) from None
        revs = [baseline]
        if names:
            try:
                refs = resolve_name(repo.scm, list(names))
            except DvcException as err:  # e.g. one name under two baselines
                raise UserError(f"--exp: {err}") from None
            revs += sorted({ref.baseline_sha for ref in refs.values() if ref is not None})
        states = repo.experiments.show(revs=revs, num=1, hide_workspace=True)
        experiments = [
            replace(e, detail_file=repo.cache.local.oid_to_path(e.detail_hash))
            if e.detail_hash and not e.detail_hash.endswith(".dir")
            else e
            for e in from_states(states)
        ]
    if names:
        by_name = {e.name: e for e in experiments}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise UserError(
                f"--exp {' '.join(unknown)}: no such experiment (`dvc exp list` names them; "
                "one on another machine comes with `dvc exp pull <git remote> <name>`)"
            )
        experiments = [by_name[n] for n in dict.fromkeys(names)]
    return experiments, baseline


def read_detail(root: str | Path, experiment: Experiment) -> str:
    """The text of an experiment's claims file: from the local DVC cache, where its
    dvc.lock's hash puts it (`collect` found the place), or else through DVC (a claims
    file inside a folder output); NotInCacheError when the cache lacks it."""
    if experiment.detail_file is not None:
        try:
            return Path(experiment.detail_file).read_text()
        except FileNotFoundError:
            raise NotInCacheError(experiment.detail_file) from None
    import dvc.api
    from dvc.exceptions import DvcException

    try:
        return dvc.api.read(DETAIL, repo=str(root), rev=experiment.rev)
    except (DvcException, OSError) as err:
        raise NotInCacheError(str(err)) from None


def parse_detail(text: str) -> dict:
    """The claims file's JSON; ValueError when it is not JSON or its `claims` and
    `families` are not objects of records."""
    detail = json.loads(text)
    if not isinstance(detail, dict):
        raise ValueError("not a JSON object")
    for section in ("claims", "families"):
        records = detail.get(section, {})
        if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
            raise ValueError(f"its {section!r} is not an object of records")
    return detail
