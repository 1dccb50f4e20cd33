"""Which experiments a sweep compares, and how a setting is named.

An experiment is a setting of the sweep when it finished and its claims file was made by
this code's claims stage; every other one is left out with the reason, never mixed in.
A setting is named by the params in which the settings differ (params.yaml's keys,
flattened), so that a sentence can say where a claim reverses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from layerwise.pipeline.errors import UserError
from layerwise.sweeps.experiments import (
    DETAIL,
    FINISHED,
    SWEEP_HINT,
    Experiment,
    NotInCacheError,
    parse_detail,
)


@dataclass(frozen=True)
class Setting:
    experiment: Experiment
    detail: dict  # its claims file (CLAIMS format, detail.json)
    label: str  # its differing params, "key=value, key=value" (its name when none differ)


@dataclass(frozen=True)
class LeftOut:
    experiment: Experiment
    label: str
    reason: str


@dataclass(frozen=True)
class Sweep:
    settings: list[Setting]  # ordered by their differing params' values
    left_out: list[LeftOut]
    keys: list[str]  # the params that differ between the settings (sorted)
    version: int  # the claims version this code makes and reads


def flatten(params: dict, prefix: str = "") -> dict[str, Any]:
    """params.yaml's nested keys as dotted ones ('optimizer.learning_rate'); lists are
    values, as `-S key=[a,b]` sets them."""
    flat = {}
    for key, value in params.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


_MISSING = object()


def differing(params: Sequence[dict[str, Any]]) -> list[str]:
    """The flattened keys whose value is not the same in every one of `params` (a key
    some lack counts as differing)."""
    keys = sorted({k for p in params for k in p})
    return [k for k in keys if len({_text(p.get(k, _MISSING)) for p in params}) > 1]


def _text(value) -> str:
    """A value as `-S key=value` writes it."""
    if value is _MISSING:
        return "(absent)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}"
    return str(value)


def assignment(params: dict[str, Any], keys: Sequence[str]) -> str:
    """'key=value, key=value' over `keys`."""
    return ", ".join(f"{k}={_text(params.get(k, _MISSING))}" for k in keys)


def value_text(params: dict[str, Any], key: str) -> str:
    """One flattened key's value as `-S key=value` writes it ('(absent)' without it)."""
    return _text(params.get(key, _MISSING))


def _order(params: dict[str, Any], keys: Sequence[str]) -> tuple:
    """Sort key: numbers by value (before anything else), then other values as text."""
    out = []
    for k in keys:
        v = params.get(k, _MISSING)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            out.append((0, float(v), ""))
        else:
            out.append((1, 0.0, _text(v)))
    return tuple(out)


def _labels(experiments: Sequence[Experiment], flat: Sequence[dict]) -> list[str]:
    """Each experiment named by the params that differ among `experiments`; where that
    leaves two the same (or nothing differs), the experiment's name is added."""
    keys = differing(flat)
    labels = [assignment(p, keys) for p in flat]
    return [
        label if label and labels.count(label) == 1 else f"{label} [{e.name}]".lstrip()
        for e, label in zip(experiments, labels)
    ]


def left_out_reason(
    experiment: Experiment,
    read: Callable[[Experiment], str],
    version: int,
    pull_hint: Callable[[str], str],
) -> tuple[str | None, dict | None]:
    """(why it is left out, None) or (None, its claims)."""
    name = experiment.name
    if experiment.state == "queued":
        return "queued, not run yet (`dvc queue start -j 2` runs the queue)", None
    if experiment.state == "running":
        return "still running (`dvc queue status`); build the report again when it is done", None
    if experiment.state != FINISHED:
        return f"{experiment.state} (`dvc queue logs {name}` says why)", None
    if not experiment.detail_recorded:
        return f"made by older code: it has no {DETAIL}", None
    try:
        text = read(experiment)
    except NotInCacheError:
        return f"its {DETAIL} is not in the local DVC cache: `{pull_hint(name)}`", None
    try:
        detail = parse_detail(text)
    except ValueError as err:
        return f"its {DETAIL} is not a claims file ({err})", None
    found = detail.get("version")
    if found != version:
        return (
            f"made by other code: its claims are version {json.dumps(found)}, "
            f"this code's are version {version}"
        ), None
    return None, detail


def assemble(
    experiments: Sequence[Experiment],
    read: Callable[[Experiment], str],
    version: int,
    pull_hint: Callable[[str], str] = lambda name: f"dvc exp pull <git remote> {name}",
) -> Sweep:
    """Split `experiments` into settings (finished, claims of `version`) and those left
    out; `read(experiment)` gives the text of its claims file (NotInCacheError when the
    local cache lacks it)."""
    kept: list[tuple[Experiment, dict]] = []
    dropped: list[tuple[Experiment, str]] = []
    for experiment in experiments:
        reason, detail = left_out_reason(experiment, read, version, pull_hint)
        if reason is None:
            kept.append((experiment, detail))
        else:
            dropped.append((experiment, reason))
    flat_all = [flatten(e.params) for e in experiments]
    all_labels = dict(zip((e.rev for e in experiments), _labels(experiments, flat_all)))
    flat = [flatten(e.params) for e, _ in kept]
    keys = differing(flat)
    order = sorted(range(len(kept)), key=lambda i: (_order(flat[i], keys), kept[i][0].name))
    labels = _labels([e for e, _ in kept], flat)
    return Sweep(
        settings=[Setting(kept[i][0], kept[i][1], labels[i]) for i in order],
        left_out=[LeftOut(e, all_labels[e.rev], reason) for e, reason in dropped],
        keys=keys,
        version=version,
    )


def require_comparable(sweep: Sweep, where: str) -> None:
    """A sweep report compares two settings or more: UserError otherwise (`where` says
    which experiments were asked for, e.g. 'based on HEAD (1a2b3c4)')."""
    n = len(sweep.settings)
    if n >= 2:
        return
    if not sweep.left_out and n == 0:
        raise UserError(f"no experiments {where}: {SWEEP_HINT}")
    if n == 0:
        raise UserError(
            f"none of the {len(sweep.left_out)} experiments {where} has claims to compare "
            f"(each is listed above with why); {SWEEP_HINT}"
        )
    raise UserError(
        f"only one experiment {where} has claims to compare "
        f"({sweep.settings[0].experiment.name}); a sweep report compares two or more: "
        f"{SWEEP_HINT}"
    )


def flat_params(setting: Setting) -> dict[str, Any]:
    return flatten(setting.experiment.params)


def numeric_key(sweep: Sweep) -> str | None:
    """The one swept key, when exactly one differs and every setting gives it a number."""
    if len(sweep.keys) != 1:
        return None
    key = sweep.keys[0]
    values = [flat_params(s).get(key) for s in sweep.settings]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return key
    return None
