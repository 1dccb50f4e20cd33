"""Every figure, in one style: matplotlib PNGs written atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from layerwise.io import atomic_path  # noqa: E402

STYLE = {
    "figure.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 9,
    "legend.frameon": False,
}
plt.rcParams.update(STYLE)
IMAGE_SHAPES = {64: (8, 8), 3072: (32, 32, 3)}  # digits, CIFAR-10 (channels last)
COLORS = plt.get_cmap("tab10").colors


def save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format="png", bbox_inches="tight")
    plt.close(fig)


def figure(ncols: int = 1, width: float = 4.2, height: float = 3.2):
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def dataset_preview(dataset, name: str, path: str | Path) -> None:
    """2-D data as a scatter by class; otherwise a few training examples per class."""
    if dataset.n_features == 2:
        fig, axes = figure(2)
        for ax, (x, y, split) in zip(
            axes,
            [(dataset.x_train, dataset.y_train, "train"), (dataset.x_test, dataset.y_test, "test")],
        ):
            for c in range(dataset.n_classes):
                pts = x[y == c]
                ax.scatter(
                    pts[:, 0], pts[:, 1], s=6, alpha=0.6, color=COLORS[c], label=f"class {c}"
                )
            ax.set_title(f"{name}: {split} ({len(x)} rows)")
        axes[0].legend(loc="best", markerscale=2)
    elif dataset.n_features in IMAGE_SHAPES:
        shape = IMAGE_SHAPES[dataset.n_features]
        n_classes = dataset.n_classes
        fig, grid = plt.subplots(3, n_classes, figsize=(0.9 * n_classes, 2.9), squeeze=False)
        for c in range(n_classes):
            rows = dataset.x_train[dataset.y_train == c][:3]
            for k in range(3):
                ax = grid[k][c]
                ax.axis("off")
                if k < len(rows):
                    image = rows[k].reshape(shape)
                    image = (image - image.min()) / (np.ptp(image) or 1.0)
                    ax.imshow(image, cmap="gray_r" if len(shape) == 2 else None)
            grid[0][c].set_title(f"class {c}")
        fig.suptitle(f"{name}: three training examples per class", y=1.03)
    else:
        fig, axes = figure(1, width=7, height=3)
        ax = axes[0]
        for c in range(dataset.n_classes):
            for row in dataset.x_train[dataset.y_train == c][:3]:
                ax.plot(row / (np.abs(row).max() or 1) * 0.45 + c, color=COLORS[c % 10], lw=0.8)
        ax.set_yticks(range(dataset.n_classes))
        ax.set_ylabel("class (three examples each, scaled)")
        ax.set_xlabel("input position")
        ax.set_title(f"{name}: training examples ({dataset.n_features} inputs)")
    save(fig, path)


def curves(ax, table: pd.DataFrame, column: str, label: str, color) -> None:
    """A mean curve with its 95% band from columns <column>, <column>_low, <column>_high."""
    x = table["epoch"]
    ax.plot(x, table[column], color=color, label=label, lw=1.4)
    if f"{column}_low" in table:
        ax.fill_between(x, table[f"{column}_low"], table[f"{column}_high"], color=color, alpha=0.2)


def learning_curves(
    table: pd.DataFrame, title: str, path: str | Path, published: dict[str, float] | None = None
) -> None:
    """Accuracy and loss per epoch, train and test, mean with a 95% band over replicas."""
    fig, (acc, loss) = figure(2)
    curves(acc, table, "train_accuracy", "train", COLORS[0])
    curves(acc, table, "test_accuracy", "test", COLORS[1])
    if published:
        last = table["epoch"].iloc[-1]
        for i, (split, value) in enumerate(published.items()):
            acc.scatter(
                [last],
                [value],
                marker="*",
                s=90,
                color=COLORS[i],
                edgecolor="black",
                zorder=5,
                label=f"published {split.split('_')[0]}",
            )
    acc.set_xlabel("epoch")
    acc.set_ylabel("accuracy")
    acc.legend(loc="lower right")
    curves(loss, table, "train_loss", "train", COLORS[0])
    curves(loss, table, "test_loss", "test", COLORS[1])
    loss.set_xlabel("epoch")
    loss.set_ylabel("loss")
    loss.legend(loc="upper right")
    fig.suptitle(title)
    save(fig, path)


def depth_band(ax, table: pd.DataFrame, column: str, label: str, color, x: str = "depth") -> None:
    """Mean per depth with its 95% band (<column>_low/_high), as a line with markers."""
    ax.plot(table[x], table[column], marker="o", ms=3, color=color, label=label, lw=1.4)
    if f"{column}_low" in table:
        low, high = table[f"{column}_low"], table[f"{column}_high"]
        if "accuracy" in column:  # a t-interval over few replicas can leave [0, 1]
            low, high = low.clip(0, 1), high.clip(0, 1)
        ax.fill_between(table[x], low, high, color=color, alpha=0.2)


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


def arm_boxes(
    ax,
    groups: dict[str, np.ndarray],
    title: str,
    marks: dict[str, float] | None = None,
    mark_label: str = "published mean",
) -> None:
    """One box per arm (whiskers at 1.5 IQR, outliers as dots), with the repeats jittered on
    top and, where given, a reference value per arm marked with a star."""
    labels = list(groups)
    ax.boxplot(
        [groups[k] for k in labels],
        showmeans=False,
        widths=0.55,
        medianprops={"color": "black"},
        flierprops={"markersize": 3},
    )
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=30, ha="right")
    jitter = np.random.default_rng(0)
    for i, k in enumerate(labels, start=1):
        values = np.asarray(groups[k])
        ax.scatter(
            i + jitter.uniform(-0.15, 0.15, len(values)),
            values,
            s=5,
            alpha=0.4,
            color=COLORS[(i - 1) % 10],
            zorder=3,
        )
    shown = False
    for i, k in enumerate(labels, start=1):
        if marks and k in marks:
            ax.scatter(
                [i],
                [marks[k]],
                marker="*",
                s=110,
                color="crimson",
                edgecolor="black",
                zorder=5,
                label=None if shown else mark_label,
            )
            shown = True
    if shown:
        ax.legend(loc="lower left")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)


def arm_learning_curves(ax, table: pd.DataFrame, arms: list[str], title: str) -> None:
    """Mean test accuracy per epoch with its 95% band, one line per arm; `table` has columns
    arm, epoch, test_accuracy, test_accuracy_low, test_accuracy_high."""
    for i, arm in enumerate(arms):
        rows = table[table["arm"] == arm]
        curves(ax, rows, "test_accuracy", arm, COLORS[i % 10])
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="lower right")


def size_sweep(members: pd.DataFrame, title: str, path: str | Path) -> None:
    """Ensemble accuracy against size (mean line, 95% band over repeats) beside the single
    members' own accuracies (dots, one per member and repeat), one colour per sweep."""
    from layerwise.stats import band

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
        b = band(wide.to_numpy())
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
        ax.set_xscale("log")
        ax.set_xlabel("labelled training rows")
        ax.set_ylabel("test accuracy")
        ax.set_title(name)
        ax.legend(loc="lower right", fontsize=7)
    fig.suptitle(title, y=1.03)
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
