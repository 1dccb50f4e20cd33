"""Constructed sweeps for the sweep report's tests: claims files in the format the claims
stage writes (results/claims/detail.json) and DVC's ExpState objects around them, as
`Repo.experiments.show` returns them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from layerwise.sweeps.experiments import DETAIL, Experiment, NotInCacheError, from_states

VERSION = 1


def claim(
    effect: float | None,
    verdict: str,
    *,
    half_width: float = 0.01,
    a_values: Sequence[float] | None = None,
    b_values: Sequence[float] | None = None,
    design: str = "welch",
    headline: bool = True,
    family: str | None = None,
    **extra,
) -> dict:
    """One claim's record, A minus B with a symmetric 95% interval."""
    return {
        "study": "baseline",
        "statement": "A beats B",
        "a": "A",
        "b": "B",
        "metric": "test_accuracy",
        "design": design,
        "interval": "t",
        "direction": "greater",
        "effect": effect,
        "ci_low": None if effect is None else effect - half_width,
        "ci_high": None if effect is None else effect + half_width,
        "n": len(a_values) if a_values else 3,
        "n_b": len(b_values) if b_values and design == "welch" else None,
        "p": 0.01,
        "p_adjusted": 0.01,
        "family": family,
        "headline": headline,
        "verdict": verdict,
        "a_values": list(a_values) if a_values is not None else None,
        "b_values": list(b_values) if b_values is not None else None,
        **extra,
    }


def family(members: Sequence[str], verdict: str, holds: int, reverses: int, **extra) -> dict:
    return {
        "study": "greedy",
        "statement": "A beats B at every depth",
        "members": list(members),
        "correction": "holm",
        "verdict": verdict,
        "holds": holds,
        "reverses": reverses,
        "m": len(members),
        "headline": True,
        **extra,
    }


def detail(claims: dict, families: dict | None = None, version=VERSION) -> dict:
    return {"version": version, "alpha": 0.05, "claims": claims, "families": families or {}}


@dataclass
class FakeExperiment:
    """What one experiment of a constructed sweep is: DVC's view of it, and its claims
    file (None: the experiment has none; 'uncached': recorded but not in the cache)."""

    name: str
    params: dict
    detail: dict | str | None = None
    state: str | None = "success"  # None: a finished run in the workspace (no executor)
    rev: str = field(default="")

    def __post_init__(self):
        self.rev = self.rev or hashlib.sha1(self.name.encode()).hexdigest()


def states(experiments: Sequence[FakeExperiment], baseline: str = "b" * 40) -> list:
    """`Repo.experiments.show(revs=[baseline], num=1)` for these experiments, the
    workspace row included."""
    from dvc.repo.experiments.serialize import (
        ExpExecutor,
        ExpOut,
        ExpRange,
        ExpState,
        SerializableError,
        SerializableExp,
    )

    def data(rev: str, params: dict, recorded: bool) -> SerializableExp:
        out = ExpOut(
            hash="0" * 32 if recorded else None,
            size=10 if recorded else None,
            nfiles=None,
            use_cache=True,
            is_data_source=False,
        )
        return SerializableExp(
            rev=rev, params={"params.yaml": {"data": params}}, outs={DETAIL: out}
        )

    ranges = []
    for e in experiments:
        finished = e.state in ("success", None)
        recorded = finished and e.detail is not None
        ranges.append(
            ExpRange(
                revs=[
                    ExpState(
                        rev=e.rev,
                        name=e.name,
                        data=data(e.rev, e.params, recorded),
                        error=SerializableError("Experiment run failed")
                        if e.state == "failed"
                        else None,
                    )
                ],
                executor=None if e.state is None else ExpExecutor(state=e.state, name="dvc-task"),
                name=e.name,
            )
        )
    workspace = ExpState(rev="workspace", data=data("workspace", {}, False))
    head = ExpState(rev=baseline, name="main", data=data(baseline, {}, True), experiments=ranges)
    return [workspace, head]


def reader(experiments: Sequence[FakeExperiment]):
    """`read(experiment)` for `assemble`: the text of each one's claims file."""
    by_rev = {e.rev: e for e in experiments}

    def read(experiment: Experiment) -> str:
        found = by_rev[experiment.rev].detail
        if found == "uncached":
            raise NotInCacheError("not in the cache")
        return found if isinstance(found, str) else json.dumps(found)

    return read


def sweep_of(experiments: Sequence[FakeExperiment], version: int = VERSION):
    """The Sweep these constructed experiments make, through the same seam as DVC's."""
    from layerwise.sweeps.sweep import assemble

    return assemble(from_states(states(experiments)), reader(experiments), version)


def wait_for_queue(repo, names: Sequence[str], timeout: float) -> dict[str, str]:
    """Wait until DVC's queue has run the experiments `names` of `repo` (based on its
    HEAD); their end states (success or failed). The workers are stopped if it takes
    longer than `timeout` seconds."""
    import time

    from dvc.repo import Repo

    from .commands import DVC, run

    deadline = time.monotonic() + timeout
    while True:
        with Repo(str(repo)) as dvc_repo:
            shown = dvc_repo.experiments.show(revs=["HEAD"], num=1, hide_workspace=True)
        found = {e.name: e.state for e in from_states(shown) if e.name in names}
        if all(found.get(name) in ("success", "failed") for name in names):
            return found
        if time.monotonic() > deadline:
            run([*DVC, "queue", "stop", "--kill"], repo, check=False)
            raise AssertionError(f"the queue has not run {list(names)} in {timeout}s: {found}")
        time.sleep(3)
