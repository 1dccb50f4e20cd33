"""What an ensemble method's run returns: its arms (one way of combining, scored over
repeats), the size sweeps, and the summaries the stage writes (summary.json for the
report, the compact metrics.json for `dvc exp show`). Only arrays and tables here: no
training and no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.pipeline.stats import summarize
from layerwise.studies.ensembles import combiners as comb


@dataclass
class Arm:
    """One way of combining, scored over repeats (arrays of length R)."""

    key: str
    label: str
    accuracy: np.ndarray
    nll: np.ndarray
    member_epochs: int  # training cost of one repeat's ensemble
    n_members: int
    best_single: np.ndarray
    diversity: np.ndarray
    fitted_on: str = "–"  # where a combiner was fitted: validation, test (optimistic), –

    def metrics(self) -> dict:
        return {
            "label": self.label,
            "n_members": self.n_members,
            "member_epochs": self.member_epochs,
            "fitted_on": self.fitted_on,
            "test_accuracy": summarize(self.accuracy, metric="test_accuracy"),
            "test_nll": summarize(self.nll, metric="test_nll"),
            "best_single": summarize(self.best_single, metric="best_single"),
            "diversity": summarize(self.diversity, metric="diversity"),
        }


@dataclass
class MethodResult:
    method: str
    arms: list[Arm]
    members: pd.DataFrame  # sweep, repeat, size, single_accuracy, ensemble_accuracy
    extra: dict = field(default_factory=dict)  # method-specific summaries
    schedule: pd.DataFrame | None = None  # members' learning rate per epoch

    def summary(self, cfg: Config) -> dict:
        """Everything the report reads (summary.json): the setting and every arm's scores."""
        sub = getattr(cfg.ensembles, self.method)
        return {
            "method": self.method,
            "dataset": sub.dataset,
            "repeats": sub.repeats,
            "arms": {arm.key: arm.metrics() for arm in self.arms},
            **self.extra,
        }

    def repeats_table(self) -> pd.DataFrame:
        """Per arm and repeat: the scores behind the means (repeats.csv)."""
        return pd.concat(
            pd.DataFrame(
                {
                    "key": arm.key,
                    "repeat": np.arange(len(arm.accuracy)),
                    "test_accuracy": arm.accuracy,
                    "test_nll": arm.nll,
                }
            )
            for arm in self.arms
        )

    def sweep_table(self) -> pd.DataFrame:
        """Wide per-size means (one column pair per sweep), for `dvc plots`."""
        means = self.members.groupby(["sweep", "size"])[["ensemble_accuracy", "single_accuracy"]]
        wide = means.mean().unstack("sweep")
        wide.columns = [f"{sweep}_{col.split('_')[0]}" for col, sweep in wide.columns]
        return wide.reset_index()


def make_arm(
    key: str,
    label: str,
    combined: np.ndarray,
    labels: np.ndarray,
    member_probs: np.ndarray,
    member_epochs: int,
    fitted_on: str = "–",
) -> Arm:
    """Score combined probabilities [R, N, C] and describe their members [R, M, N, C]."""
    member_labels = labels[:, None] if labels.ndim == 2 else labels
    return Arm(
        key=key,
        label=label,
        accuracy=comb.accuracy(combined, labels),
        nll=comb.nll(combined, labels),
        member_epochs=int(member_epochs),
        n_members=int(member_probs.shape[1]),
        best_single=comb.accuracy(member_probs, member_labels).max(axis=1),
        diversity=comb.disagreement(member_probs),
        fitted_on=fitted_on,
    )


def sweep_frame(name: str, sweep: dict) -> pd.DataFrame:
    """Long table of one size sweep ([R, n] arrays) for the report's figure."""
    repeats, sizes = sweep["ensemble"].shape
    return pd.DataFrame(
        {
            "sweep": name,
            "repeat": np.repeat(np.arange(repeats), sizes),
            "size": np.tile(np.arange(1, sizes + 1), repeats),
            "single_accuracy": sweep["single"].ravel(),
            "ensemble_accuracy": sweep["ensemble"].ravel(),
        }
    )


def compact_metrics(summary: dict) -> dict:
    """What `dvc exp show` lists: per arm, test accuracy (mean, 95% CI) and NLL."""
    return {
        "repeats": summary["repeats"],
        "test_accuracy": {
            key: {k: arm["test_accuracy"][k] for k in ("mean", "ci_low", "ci_high")}
            for key, arm in summary["arms"].items()
        },
        "test_nll": {key: arm["test_nll"]["mean"] for key, arm in summary["arms"].items()},
    }
