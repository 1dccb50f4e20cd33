"""What every part of the greedy report section shares: summaries per depth, table cells,
published numbers beside ours."""

from __future__ import annotations

import pandas as pd

from layerwise.pipeline.stats import summarize
from layerwise.reporting import markdown as rp

SCORES = ("train_accuracy", "test_accuracy", "train_mse", "test_mse")


def summaries(replicas: pd.DataFrame, method: str) -> dict[int, dict[str, dict]]:
    """{depth: {score: summary over replicas}} for one method."""
    out = {}
    for depth, group in replicas[replicas["method"] == method].groupby("depth"):
        out[int(depth)] = {c: summarize(group[c], metric=c) for c in SCORES if c in group}
        if "diverged" in group:
            out[int(depth)]["diverged"] = int(group["diverged"].sum())
    return out


cell = rp.cell


def published_cell(reference, s: dict) -> str:
    """A published number (as printed), marked where it is outside our replicas' range."""
    if reference is None:
        return "–"
    return rp.published_text(reference) + (
        " (**outside**)" if rp.within(reference, s) == "**no**" else ""
    )


def count(n: int, noun: str) -> str:
    """'1 round', '3 rounds'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def at_depths(depths) -> str:
    """'at depths 3, 5', 'at depth 3' or 'at no depth'."""
    depths = list(depths)
    if not depths:
        return "at no depth"
    return f"at depth{'s' if len(depths) > 1 else ''} {', '.join(str(d) for d in depths)}"


def published_outside(refs: dict, ours: dict[int, dict], score: str) -> list[int]:
    return [
        d
        for d, v in refs.get(score, {}).items()
        if d in ours and rp.within(v, ours[d][score]) == "**no**"
    ]
