"""The transfer study's figures, in the shared style."""

from __future__ import annotations

import numpy as np
import pandas as pd

from layerwise.reporting.figures import COLORS, curves


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
