"""What the greedy study concludes, as claims (see `pipeline.claims`), read from the greedy
stages' replica tables. Every comparison is on test accuracy.

Designs: the greedy network before and after a step (a deeper depth, fine-tuning, the
chosen depth against the base) is the same replica measured twice: paired. The
end-to-end controls and the other studies' networks are trained independently: Welch.
In the few-labels study, replica r of every arm trains on the same labelled rows: paired.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from layerwise.pipeline import effects
from layerwise.pipeline.claims import Claim, Claims, Family
from layerwise.pipeline.io import read_csv, read_json
from layerwise.studies.greedy.labels import CONTROL, FINE_TUNED, GREEDY, PRETRAINED_TUNED, SCRATCH

METRIC = "test_accuracy"


def by_replica(rows: pd.DataFrame, **where) -> pd.Series:
    """Test accuracy of the rows matching `where` (column=value), indexed by replica."""
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return rows.set_index("replica")[METRIC].sort_index()


def paired(a: pd.Series, b: pd.Series) -> effects.Effect:
    a, b = a.align(b, join="inner")
    return effects.paired(a.to_numpy(), b.to_numpy(), metric=METRIC)


def welch(a: pd.Series, b: pd.Series) -> effects.Effect:
    return effects.welch(a.to_numpy(), b.to_numpy(), metric=METRIC)


def depths_of(rows: pd.DataFrame, method: str) -> list[int]:
    return sorted(int(d) for d in rows.loc[rows["method"] == method, "depth"].unique())


def ran(stage_results: Path) -> bool:
    """Whether an extension stage that can be switched off ran (its metrics say enabled)."""
    metrics = stage_results / "metrics.json"
    return metrics.is_file() and read_json(metrics).get("enabled", False)


def supervised(cfg, results: Path) -> Claims:
    out = Claims()
    path = results / "greedy_supervised" / "replicas.csv"
    if not path.is_file():
        return out
    rows = read_csv(path)
    depths = depths_of(rows, GREEDY)
    first, last = depths[0], depths[-1]
    greedy = {d: by_replica(rows, method=GREEDY, depth=d) for d in depths}
    name = "greedy.supervised"
    out.add(
        Claim(
            f"{name}.deepest_vs_base",
            f"greedily adding layers raises test accuracy (depth {last} against the "
            f"baseline's depth {first}, same replicas)",
            f"greedy depth {last}",
            f"depth {first}",
            METRIC,
            paired(greedy[last], greedy[first]),
        )
    )
    controls = depths_of(rows, CONTROL)
    if controls:
        control = {d: by_replica(rows, method=CONTROL, depth=d) for d in controls}
        deepest = max(controls)
        out.add(
            Claim(
                f"{name}.vs_end_to_end.deepest",
                f"greedy training beats the same network trained end to end, at the deepest "
                f"depth ({deepest})",
                "greedy",
                CONTROL,
                METRIC,
                welch(greedy[deepest], control[deepest]),
            )
        )
        members = [
            Claim(
                f"{name}.vs_end_to_end.depth_{d}",
                f"greedy training beats end-to-end training at depth {d}",
                "greedy",
                CONTROL,
                METRIC,
                welch(greedy[d], control[d]),
                headline=False,
            )
            for d in controls
            if d in greedy
        ]
        out.add_family(
            Family(
                f"{name}.vs_end_to_end.depths",
                "greedy training beats end-to-end training at some depth (every depth "
                "tested, Holm-corrected)",
                members,
            )
        )
    tuned_depths = depths_of(rows, FINE_TUNED)
    if tuned_depths:
        d = tuned_depths[-1]
        out.add(
            Claim(
                f"{name}.fine_tuning",
                f"fine-tuning every layer after the last addition raises test accuracy "
                f"(depth {d}, same replicas)",
                FINE_TUNED,
                "greedy",
                METRIC,
                paired(by_replica(rows, method=FINE_TUNED, depth=d), greedy[d]),
            )
        )
    return out


def unsupervised(cfg, results: Path) -> Claims:
    out = Claims()
    path = results / "greedy_unsupervised" / "replicas.csv"
    if not path.is_file():
        return out
    rows = read_csv(path)
    depths = depths_of(rows, "autoencoder")
    first, last = depths[0], depths[-1]
    head = {d: by_replica(rows, method="autoencoder", depth=d) for d in depths}
    name = "greedy.unsupervised"
    out.add(
        Claim(
            f"{name}.deepest_vs_base",
            f"a deeper greedy autoencoder gives its classifier head higher test accuracy "
            f"(depth {last} against {first}, same replicas)",
            f"head at depth {last}",
            f"head at depth {first}",
            METRIC,
            paired(head[last], head[first]),
        )
    )
    sup_path = results / "greedy_supervised" / "replicas.csv"
    if sup_path.is_file():
        sup = read_csv(sup_path)
        shared = [d for d in depths_of(sup, GREEDY) if d in head]
        members = [
            Claim(
                f"{name}.supervised_vs_head.depth_{d}",
                f"supervised greedy training beats the autoencoder's classifier head at depth {d}",
                "supervised greedy",
                "autoencoder head",
                METRIC,
                welch(by_replica(sup, method=GREEDY, depth=d), head[d]),
                headline=False,
            )
            for d in shared
        ]
        if members:
            out.add_family(
                Family(
                    f"{name}.supervised_vs_head.depths",
                    "supervised greedy training beats the autoencoder's classifier head at "
                    "some depth (every shared depth tested, Holm-corrected)",
                    members,
                )
            )
    return out


def activations(cfg, results: Path) -> Claims:
    out = Claims()
    path = results / "greedy_activations"
    if not ran(path):
        return out
    rows = read_csv(path / "replicas.csv")
    for activation in dict.fromkeys(rows["activation"]):
        own = rows[rows["activation"] == activation]
        controls = depths_of(own, CONTROL)
        if not controls:
            continue
        d = max(controls)
        out.add(
            Claim(
                f"greedy.activations.{activation}.vs_end_to_end.deepest",
                f"with {activation} units, greedy training beats end-to-end training at the "
                f"deepest depth ({d})",
                "greedy",
                CONTROL,
                METRIC,
                welch(
                    by_replica(own, method=GREEDY, depth=d),
                    by_replica(own, method=CONTROL, depth=d),
                ),
            )
        )
    return out


def depth_selection(cfg, results: Path) -> Claims:
    out = Claims()
    path = results / "greedy_depth"
    if not ran(path):
        return out
    rows = read_csv(path / "replicas.csv")
    for setting, group in rows.groupby("setting", sort=False):
        group = group.set_index("replica").sort_index()
        out.add(
            Claim(
                f"greedy.depth_selection.{setting}.vs_base",
                f"the depth chosen without the test set ({setting}) beats the base network "
                "(same replicas)",
                "chosen depth",
                "base network",
                METRIC,
                effects.paired(
                    group["test_accuracy"].to_numpy(),
                    group["base_test_accuracy"].to_numpy(),
                    metric=METRIC,
                ),
            )
        )
    return out


def few_labels(cfg, results: Path) -> Claims:
    out = Claims()
    f = cfg.greedy.few_labels
    if not f.enabled:
        return out
    for dataset in f.datasets:
        path = results / "greedy_few_labels" / dataset / "replicas.csv"
        if not path.is_file():
            continue
        rows = read_csv(path)
        if rows.empty:
            continue
        budgets = sorted(int(n) for n in rows["n_labelled"].unique())
        name = f"greedy.few_labels.{dataset}"

        def effect(n: int, rows=rows) -> effects.Effect:
            at = rows[rows["n_labelled"] == n]
            return paired(by_replica(at, method=PRETRAINED_TUNED), by_replica(at, method=SCRATCH))

        smallest = budgets[0]
        out.add(
            Claim(
                f"{name}.smallest",
                f"on {dataset}, autoencoder pretraining beats training from scratch with the "
                f"fewest labels ({smallest} labelled rows; same rows for both)",
                PRETRAINED_TUNED,
                SCRATCH,
                METRIC,
                effect(smallest),
            )
        )
        members = [
            Claim(
                f"{name}.n_{n}",
                f"on {dataset}, autoencoder pretraining beats training from scratch with {n} "
                "labelled rows",
                PRETRAINED_TUNED,
                SCRATCH,
                METRIC,
                effect(n),
                headline=False,
            )
            for n in budgets
        ]
        out.add_family(
            Family(
                f"{name}.budgets",
                f"on {dataset}, autoencoder pretraining beats training from scratch at some "
                "label budget (every budget tested, Holm-corrected)",
                members,
            )
        )
    return out


def claims(cfg, results: Path) -> Claims:
    out = Claims()
    for part in (supervised, unsupervised, activations, depth_selection, few_labels):
        out.extend(part(cfg, results))
    return out
