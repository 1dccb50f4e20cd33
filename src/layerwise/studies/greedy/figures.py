"""The greedy study's figures, in the shared style."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from layerwise.reporting.figures import COLORS, depth_band, figure, save


def depth_panels(panels: list[dict], title: str, path: str | Path) -> None:
    """Side-by-side panels of scores against depth.

    Each panel: {"title", "ylabel", "series": [(table, column, label)], optional
    "published": {label: {depth: value}} drawn as stars at the depths we ran, optional
    "logy": bool for a non-negative quantity on a symmetric log scale}.
    """
    fig, axes = figure(len(panels))
    for ax, panel in zip(axes, panels, strict=True):
        ran = set()
        for i, (table, column, label) in enumerate(panel["series"]):
            depth_band(ax, table, column, label, COLORS[i % 10])
            ran |= set(table["depth"])
        for j, (label, points) in enumerate((panel.get("published") or {}).items()):
            shown = {d: v for d, v in points.items() if d in ran}
            ax.scatter(
                list(shown),
                list(shown.values()),
                marker="*",
                s=70,
                zorder=5,
                color=COLORS[(len(panel["series"]) + j) % 10],
                edgecolor="black",
                lw=0.5,
                label=label,
            )
        if panel.get("logy"):
            ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_ylim(bottom=0)
        ax.set_xlabel("depth (layers with weights, output included)")
        ax.set_ylabel(panel["ylabel"])
        ax.set_title(panel["title"])
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="best", fontsize=7)
    fig.suptitle(title, y=1.03)
    save(fig, path)


def gradient_norms(table: pd.DataFrame, title: str, path: str | Path) -> None:
    """Per-layer gradient norm at initialisation, one line per activation: median over
    replicas with the 25-75% band, on a log scale (layer 1 = first hidden layer)."""
    fig, (ax,) = figure(1, width=5.5, height=3.4)
    for i, (name, group) in enumerate(table.groupby("activation", sort=False)):
        q = group.groupby("layer")["gradient_norm"].quantile([0.25, 0.5, 0.75]).unstack()
        ax.plot(q.index, q[0.5], marker="o", ms=3, color=COLORS[i], label=name)
        ax.fill_between(q.index, q[0.25], q[0.75], color=COLORS[i], alpha=0.2)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = first hidden; last = output)")
    ax.set_ylabel("|dL/dW| at initialisation")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="best")
    ax.set_title(title)
    save(fig, path)


def chosen_depths(table: pd.DataFrame, title: str, path: str | Path) -> None:
    """How many replicas chose each depth, one group of bars per setting."""
    settings = list(dict.fromkeys(table["setting"]))
    counts = table.groupby(["chosen_depth", "setting"]).size().unstack(fill_value=0)
    fig, (ax,) = figure(1, width=5, height=3.2)
    width = 0.8 / len(settings)
    for i, setting in enumerate(settings):
        ax.bar(
            counts.index + (i - (len(settings) - 1) / 2) * width,
            counts.get(setting, 0),
            width=width,
            color=COLORS[i],
            label=setting,
        )
    ax.set_xlabel("chosen depth (layers with weights, output included)")
    ax.set_ylabel("replicas")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="best")
    ax.set_title(title)
    save(fig, path)


def few_labels(tables: dict[str, pd.DataFrame], title: str, path: str | Path) -> None:
    """Test accuracy against the number of labelled rows (log scale), one panel per
    dataset, one line per method with its 95% band."""
    fig, axes = figure(len(tables))
    for ax, (name, table) in zip(axes, tables.items(), strict=True):
        for i, (method, group) in enumerate(table.groupby("method", sort=False)):
            depth_band(
                ax,
                group.sort_values("n_labelled"),
                "test_accuracy",
                method,
                COLORS[i],
                x="n_labelled",
            )
        if table["test_accuracy"].notna().any():  # every arm diverged: nothing to scale
            ax.set_xscale("log")
        ax.set_xlabel("labelled training rows")
        ax.set_ylabel("test accuracy")
        ax.set_title(name)
        ax.legend(loc="lower right", fontsize=7)
    fig.suptitle(title, y=1.03)
    save(fig, path)
