"""What the ensemble study concludes, as claims (see `pipeline.claims`), on test accuracy.

Per method stage: the method's pre-declared ensemble (the combination its reference
chapter is about, fitted without the test set) against the average of its members
scored alone, repeat by repeat (the same members: paired).

The one-budget comparison: every ensemble against the single model trained for the whole
budget (one family, Holm), and the most accurate ensemble against the runner-up. All its
arms are scored on the same repeats' splits and test rows: paired by repeat. The best
and the runner-up are picked by these same means, which favours the best a little (the
winner's curse): read that claim as "is the ranking's top place clear".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from layerwise.config.ensembles import ENSEMBLE_METHODS
from layerwise.pipeline import effects
from layerwise.pipeline.claims import Claim, Claims, Family
from layerwise.pipeline.io import read_csv, read_json

METRIC = "test_accuracy"
# each method's pre-declared ensemble: the first arm whose key starts with this
HEADLINE_ARM = {
    "model_averaging": "average_",
    "weighted_average": "de_validation",
    "resampling": "bagging",
    "horizontal_voting": "last_",
    "snapshot": "snapshots_",
    "stacking": "network_validation",
    "weight_averaging": "exponential_",
}


def headline_arm(method: str, keys) -> str | None:
    return next((k for k in keys if k.startswith(HEADLINE_ARM[method])), None)


def single_members(members: pd.DataFrame) -> pd.Series:
    """Per repeat, the mean accuracy of the members scored alone (first sweep)."""
    first = members[members["sweep"] == members["sweep"].iloc[0]]
    return first.groupby("repeat")["single_accuracy"].mean().sort_index()


def by_repeat(repeats: pd.DataFrame, key: str) -> pd.Series:
    return repeats[repeats["key"] == key].set_index("repeat")[METRIC].sort_index()


def paired(a: pd.Series, b: pd.Series) -> effects.Effect:
    a, b = a.align(b, join="inner")
    return effects.paired(a.to_numpy(), b.to_numpy(), metric=METRIC)


def methods(cfg, results: Path) -> Claims:
    out = Claims()
    for method in ENSEMBLE_METHODS:
        folder = results / "ensembles" / method
        if not (folder / "repeats.csv").is_file():
            continue
        summary = read_json(folder / "summary.json")
        key = headline_arm(method, summary["arms"])
        if key is None:
            continue
        label = summary["arms"][key]["label"]
        out.add(
            Claim(
                f"ensembles.{method}.vs_single_member",
                f"{method.replace('_', ' ')}: the ensemble ({label}) beats its members "
                "scored alone (mean member, same repeat)",
                label,
                "mean single member",
                METRIC,
                paired(
                    by_repeat(read_csv(folder / "repeats.csv"), key),
                    single_members(read_csv(folder / "members.csv")),
                ),
            )
        )
    return out


def compare(cfg, results: Path) -> Claims:
    out = Claims()
    folder = results / "ensemble_compare"
    if not (folder / "summary.json").is_file():
        return out
    summary = read_json(folder / "summary.json")
    repeats = read_csv(folder / "repeats.csv")
    arms = summary["arms"]
    ensembles = [k for k, a in arms.items() if a["group"] != "reference"]
    single = by_repeat(repeats, "single_model")
    members = [
        Claim(
            f"ensembles.compare.vs_single_model.{key}",
            f"with the same budget, {arms[key]['label']} beats one model trained for all of it",
            arms[key]["label"],
            arms["single_model"]["label"],
            METRIC,
            paired(by_repeat(repeats, key), single),
            headline=False,
        )
        for key in ensembles
    ]
    out.add_family(
        Family(
            "ensembles.compare.vs_single_model",
            "with the same budget, some ensemble beats one model trained for all of it "
            "(every ensemble tested, Holm-corrected)",
            members,
        )
    )
    ranked = sorted(ensembles, key=lambda k: (-by_repeat(repeats, k).mean(), k))
    if len(ranked) >= 2:
        best, second = ranked[:2]
        out.add(
            Claim(
                "ensembles.compare.best_vs_runner_up",
                f"with the same budget, the most accurate ensemble ({arms[best]['label']}) "
                f"beats the runner-up ({arms[second]['label']})",
                arms[best]["label"],
                arms[second]["label"],
                METRIC,
                paired(by_repeat(repeats, best), by_repeat(repeats, second)),
            )
        )
    return out


def claims(cfg, results: Path) -> Claims:
    out = methods(cfg, results)
    out.extend(compare(cfg, results))
    return out
