"""The ensembles study's figures, in the shared style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from layerwise.pipeline.stats import band
from layerwise.reporting.figures import COLORS, figure, save


def size_sweep(members: pd.DataFrame, title: str, path: str | Path) -> None:
    """Ensemble accuracy against size (mean line, 95% band over repeats) beside the single
    members' own accuracies (dots, one per member and repeat), one colour per sweep."""

    fig, axes = figure(1, width=5.2, height=3.4)
    ax = axes[0]
    drawn = []  # sweeps sharing their members (weight averaging) get their dots once
    for i, (name, part) in enumerate(members.groupby("sweep", sort=False)):
        color = COLORS[i % 10]
        singles = part["single_accuracy"].to_numpy()
        if not any(len(d) == len(singles) and np.allclose(d, singles) for d in drawn):
            drawn.append(singles)
            jitter = (i - 0.5 * (members["sweep"].nunique() - 1)) * 0.08
            ax.scatter(part["size"] + jitter, singles, s=6, alpha=0.35, color=color, linewidths=0)
        wide = part.pivot(index="size", columns="repeat", values="ensemble_accuracy")
        b = band(wide.to_numpy(), metric="ensemble_accuracy")
        ax.plot(wide.index, b["mean"], color=color, lw=1.6, label=f"{name}: ensemble")
        low, high = np.clip(b["low"], 0, 1), np.clip(b["high"], 0, 1)  # accuracies
        ax.fill_between(wide.index, low, high, color=color, alpha=0.2)
    ax.scatter([], [], s=10, color="grey", label="single members (dots)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("ensemble size (first n members)")
    ax.set_ylabel("test accuracy")
    ax.legend(loc="lower right")
    ax.set_title(title)
    save(fig, path)


def lr_schedule(schedule: pd.DataFrame, snapshots: list[int], title: str, path: str | Path) -> None:
    """Learning rate per epoch, with the epochs where snapshots are taken marked."""
    fig, axes = figure(1, width=6, height=2.8)
    ax = axes[0]
    ax.plot(schedule["epoch"], schedule["learning_rate"], color=COLORS[0], lw=1.2)
    marked = schedule[schedule["epoch"].isin(snapshots)]
    ax.scatter(
        marked["epoch"],
        marked["learning_rate"],
        color=COLORS[3],
        zorder=5,
        s=18,
        label="snapshot taken",
    )
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.legend(loc="upper right")
    ax.set_title(title)
    save(fig, path)


def method_dots(
    table: pd.DataFrame, repeats: pd.DataFrame, reference: str, title: str, path: str | Path
) -> None:
    """One line per method, top to bottom in the table's order: its repeats as small dots,
    the mean with its 95% CI as a bar, coloured by `group`; the `reference` row's CI as a
    grey band across the plot.

    table: key, method, group, test_accuracy, ci_low, ci_high; repeats: key, test_accuracy.
    """
    fig, axes = figure(1, width=6.4, height=0.34 * len(table) + 1.1)
    ax = axes[0]
    positions = np.arange(len(table))[::-1]
    groups = list(dict.fromkeys(table["group"]))
    base = table.set_index("key").loc[reference]
    ax.axvspan(base["ci_low"], base["ci_high"], color="grey", alpha=0.15, lw=0)
    ax.axvline(base["test_accuracy"], color="grey", lw=0.8, ls="--")
    jitter = np.random.default_rng(0)
    for y, line in zip(positions, table.itertuples(), strict=True):
        color = COLORS[groups.index(line.group) % 10]
        values = repeats.loc[repeats["key"] == line.key, "test_accuracy"].to_numpy()
        ax.scatter(
            values,
            y + jitter.uniform(-0.15, 0.15, len(values)),
            s=6,
            alpha=0.35,
            color=color,
            linewidths=0,
        )
        ax.errorbar(
            line.test_accuracy,
            y,
            xerr=[[line.test_accuracy - line.ci_low], [line.ci_high - line.test_accuracy]],
            fmt="o",
            ms=4,
            color=color,
            capsize=3,
        )
    for i, group in enumerate(groups):
        ax.scatter([], [], s=16, color=COLORS[i % 10], label=group)
    ax.set_yticks(positions, table["method"])
    ax.set_xlabel("test accuracy (mean, 95% CI; dots: repeats)")
    ax.legend(loc="best", fontsize=7)
    ax.set_title(title)
    save(fig, path)
