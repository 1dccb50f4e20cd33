"""Numbers drawn from the transfer runs: how soon a replica reaches its final score, one arm
against the standalone control, the few numbers per arm of `metrics.json`, and the wide
table `dvc plots` draws."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats


def epochs_to_reach(curve: np.ndarray, fraction: float) -> np.ndarray:
    """Per replica, the first epoch (1-based) whose score reaches `fraction` of the final one."""
    reached = curve >= fraction * curve[-1]
    first = reached.argmax(axis=0) + 1
    if np.isfinite(curve[-1]).all():
        return first
    return np.where(np.isfinite(curve[-1]), first, np.nan)  # a diverged replica reaches nothing


def compare_to_control(values, control) -> dict:
    """Welch's t-test and Mann-Whitney U of one arm against the control, with effect sizes:
    Cohen's d (difference over the root mean variance, suited to unequal variances) and
    P(arm > control), the probability of superiority (U / (n_arm n_control)).

    Diverged repeats (NaN) are left out of both sides; None when either side keeps fewer
    than two."""
    a, b = np.asarray(values, np.float64), np.asarray(control, np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return None
    spread = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # near-identical repeats (one shared source, frozen layers) make scipy warn about
        # precision; the statistic is still reported, and None where it is undefined
        warnings.simplefilter("ignore", RuntimeWarning)
        welch = stats.ttest_ind(a, b, equal_var=False)
        mann_whitney = stats.mannwhitneyu(a, b, alternative="two-sided")

    def finite(x):
        return float(x) if np.isfinite(x) else None

    return {
        "difference": float(a.mean() - b.mean()),
        "welch_t": finite(welch.statistic),
        "welch_p": finite(welch.pvalue),
        "mann_whitney_u": float(mann_whitney.statistic),
        "mann_whitney_p": finite(mann_whitney.pvalue),
        "cohens_d": finite((a.mean() - b.mean()) / spread) if spread > 0 else None,
        "p_superiority": float(mann_whitney.statistic / (len(a) * len(b))),
    }


def headline_metrics(summary: dict) -> dict:
    """The few numbers per arm worth a `dvc exp show` column: test accuracy mean and std,
    the Welch p-value against standalone and the mean epochs to reach the fraction."""
    out = {}
    for case, m in summary.items():
        entries = {"standalone": m["standalone"]}
        for protocol, arms in m.items():
            if protocol not in ("standalone", "fresh_sources"):
                entries.update({f"{protocol}.{arm}": e for arm, e in arms.items()})
        out[case] = {}
        for label, e in entries.items():
            row = {
                "test_mean": e["test_accuracy"]["mean"],
                "test_std": e["test_accuracy"]["std"],
                "epochs_to_reach": e["epochs_to_reach"]["mean"],
            }
            if "vs_standalone" in e:
                row["welch_p"] = e["vs_standalone"]["welch_p"]
            node = out[case]
            *parents, leaf = label.split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = row
    return out


def wide_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy per epoch, one column per case-protocol-arm (for `dvc plots`; a
    dot would read as a nested field in the plot templates)."""
    labels = curves["case"] + "-" + curves["protocol"] + "-" + curves["arm"]
    wide = curves.assign(series=labels).pivot(
        index="epoch", columns="series", values="test_accuracy"
    )
    return wide.reset_index()
