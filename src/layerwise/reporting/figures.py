"""The one figure style every study uses, and the figures shared between studies:
matplotlib PNGs written atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from layerwise.pipeline.io import atomic_path  # noqa: E402

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


TABLE_COLUMNS = 40  # a table's preview shows at most this many feature columns


def table_preview(dataset, name: str):
    """A table with named columns (csv): each class's mean of every feature column over
    the training rows (as scaled), one line per class."""
    shown = list(dataset.feature_names[:TABLE_COLUMNS])
    fig, axes = figure(1, width=max(5.0, 0.28 * len(shown) + 2.5), height=3.4)
    ax = axes[0]
    for c in range(dataset.n_classes):
        rows = dataset.x_train[dataset.y_train == c][:, : len(shown)]
        label = dataset.class_names[c] if dataset.class_names else f"class {c}"
        ax.plot(rows.mean(axis=0), marker="o", ms=3, lw=1, color=COLORS[c % 10], label=label)
    ax.set_xticks(range(len(shown)), shown, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("class mean over training rows")
    more = f", first {len(shown)}" if len(shown) < dataset.n_features else ""
    ax.set_title(
        f"{name}: {dataset.n_features} features{more}, {dataset.n_classes} classes, "
        f"{len(dataset.y_train)} training rows"
    )
    if dataset.n_classes <= 10:
        ax.legend(loc="best", fontsize=7)
    return fig


def dataset_preview(dataset, name: str, path: str | Path) -> None:
    """A table with named columns as class means per column; 2-D data as a scatter by
    class; otherwise a few training examples per class."""
    if dataset.feature_names:
        fig = table_preview(dataset, name)
    elif dataset.n_features == 2:
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
