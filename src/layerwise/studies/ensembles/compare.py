"""Every ensemble method on one dataset, one member network and one training budget.

The per-method stages (`ensemble@<method>`) keep each reference chapter's own data,
network and epochs, so their numbers do not compare across methods. This study gives
every method the same budget of B member-epochs (`ensembles.compare`):

- independent-member methods (model averaging, bagging, weighted average, stacking)
  train n_members members for E = B / n_members epochs each;
- single-run methods (horizontal voting, snapshot ensemble, weight averaging) train one
  network for B epochs;
- reference rows: one member (E epochs) and one model trained for B epochs.

Whatever a method fits (weights, a meta-learner, the snapshot ensemble's size) is fitted,
per repeat, on a validation split carved from the training rows; the members those
methods combine are trained on the remaining rows only. The test rows are used for
scoring and nothing else. Every repeat redoes all training (R repeats = R replicas).

Training runs, each one replica batch of the engine:
  1. members on every training row beside members on bootstrap samples (same sample size);
  2. members on the rows the validation split leaves (weighted average, stacking);
  3. one network for B epochs at the constant rate: the single model, and the last epochs'
     weights for horizontal voting and weight averaging (so those rows are paired with it);
  4. one network for B epochs with n_members cosine cycles of E epochs: snapshots;
  5. the same on the rows the validation split leaves: snapshot size chosen on validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from layerwise.config import Config
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.stats import summarize
from layerwise.studies.ensembles import combiners as comb
from layerwise.studies.ensembles import members, stacking
from layerwise.studies.ensembles.members import Splits
from layerwise.studies.ensembles.results import Arm, make_arm

GROUPS = {
    "reference": "reference (no ensemble)",
    "members": "independent members",
    "single_run": "one training run",
}


@dataclass
class Row:
    """One method's arm in the comparison, with where its members were trained."""

    arm: Arm
    group: str  # a key of GROUPS
    trained_on: str  # the training rows behind the members
    note: str = ""  # training beyond the member-epochs, if any

    def metrics(self) -> dict:
        return {
            **self.arm.metrics(),
            "group": self.group,
            "kind": GROUPS[self.group],
            "trained_on": self.trained_on,
            "note": self.note,
        }


@dataclass
class CompareResult:
    rows: list[Row]
    splits: Splits  # per repeat: member training rows and validation rows (of the training data)
    setting: dict  # dataset, repeats, budget, members, epochs per member, row counts
    chosen: dict = field(default_factory=dict)  # what the validation splits chose

    def summary(self) -> dict:
        """Everything the report reads (summary.json)."""
        return {
            **self.setting,
            "arms": {row.arm.key: row.metrics() for row in self.rows},
            "chosen": self.chosen,
        }

    def table(self) -> pd.DataFrame:
        """One line per method: the comparison table as numbers (table.csv)."""
        lines = []
        for row in self.rows:
            acc = summarize(row.arm.accuracy, metric="test_accuracy")
            lines.append(
                {
                    "key": row.arm.key,
                    "method": row.arm.label,
                    "group": GROUPS[row.group],
                    "trained_on": row.trained_on,
                    "fitted_on": row.arm.fitted_on,
                    "member_epochs": row.arm.member_epochs,
                    "n_members": row.arm.n_members,
                    "test_accuracy": acc["mean"],
                    "ci_low": acc["ci_low"],
                    "ci_high": acc["ci_high"],
                    "std": acc["std"],
                    "test_nll": float(row.arm.nll.mean()),
                    "best_single": float(row.arm.best_single.mean()),
                    "diversity": float(row.arm.diversity.mean()),
                }
            )
        return pd.DataFrame(lines)

    def repeats_table(self) -> pd.DataFrame:
        """Per repeat and method: the scores behind the means (repeats.csv)."""
        return pd.concat(
            pd.DataFrame(
                {
                    "key": row.arm.key,
                    "repeat": np.arange(len(row.arm.accuracy)),
                    "test_accuracy": row.arm.accuracy,
                    "test_nll": row.arm.nll,
                    "best_single": row.arm.best_single,
                    "diversity": row.arm.diversity,
                }
            )
            for row in self.rows
        )


def run(cfg: Config, data: Dataset, progress: bool = True) -> CompareResult:
    """Every method R times on `data` with the same member network and budget."""
    sub = cfg.ensembles.compare
    R, M, B = sub.repeats, sub.n_members, sub.budget
    E = B // M  # the config check makes the budget a multiple of n_members

    def seed(name: str) -> int:
        return members.method_seed(cfg, "compare", name)

    n_train, n_test = len(data.y_train), len(data.y_test)
    labels = np.broadcast_to(data.y_test, (R, n_test))
    y_onehot = data.onehot(data.y_train)
    splits = members.validation_splits(data, "train", sub.validation_fraction, R, seed("splits"))
    n_fit, n_val = splits.train.shape[1], splits.val.shape[1]
    every_row = f"all {n_train} rows"
    fit_rows = f"{n_fit} rows ({n_val} held out for validation)"

    # 1. independent members on every row, and on bootstrap samples of as many rows
    rng = np.random.default_rng(seed("bootstrap"))
    every = np.broadcast_to(np.arange(n_train), (R * M, n_train))
    bootstrap = rng.integers(0, n_train, (R * M, n_train))
    model, _ = members.train_members(
        sub,
        data.x_train,
        y_onehot,
        2 * R * M,
        seed("independent"),
        epochs=E,
        train_index=np.concatenate([every, bootstrap]),
        progress=progress,
    )
    plain, bagged = model.predict(data.x_test).reshape(2, R, M, n_test, -1)

    # 2. members for the fitted combiners, trained without the validation rows
    val_probs, val_labels, fit_members, _ = members.members_on_splits(
        sub, data, splits, M, seed("fitted combiners"), progress, epochs=E
    )
    weights = np.stack(
        [comb.grid_search_weights(val_probs[r], val_labels[r], sub.grid_step)[0] for r in range(R)]
    )
    stacked = stacking.meta_stack(
        sub.meta_learner, val_probs, val_labels, fit_members, data.n_classes, seed("meta")
    )
    head = stacking.integrated_head(
        sub, val_probs, val_labels, fit_members, data.n_classes, seed("head"), progress
    )

    # 3. one network for B epochs; its last epochs' weights, newest first
    K, n_avg = sub.horizontal_members, sub.n_checkpoints
    kept = list(range(B - max(K, n_avg), B))[::-1]
    model, history = members.train_members(
        sub,
        data.x_train,
        y_onehot,
        R,
        seed("single run"),
        epochs=B,
        keep_epochs=kept,
        progress=progress,
    )
    last = members.kept_probs(model, history, kept, data.x_test)  # [R, max(K, n_avg), N, C]
    coefficients = comb.checkpoint_coefficients(n_avg, sub.weight_scheme, sub.decay)
    averaged = comb.average_checkpoints([history.kept[e] for e in kept[:n_avg]], coefficients)
    weight_averaged = members.checkpoint_model(model, [averaged]).predict(data.x_test)

    # 4-5. cosine annealing with n_members cycles of E epochs: every row, then without
    # the validation rows (where the ensemble size is chosen)
    def annealed(name: str, **fit_args):
        model, history, ends, _ = members.snapshot_run(
            sub,
            data.x_train,
            y_onehot,
            R,
            seed(name),
            epochs=B,
            cycles=M,
            learning_rate=sub.snapshot_learning_rate,
            progress=progress,
            **fit_args,
        )
        return lambda x: members.kept_probs(model, history, ends, x)

    snapshots = annealed("snapshots, every row")(data.x_test)
    snap_val, snap_val_labels, snap_test, _ = members.split_probs(
        annealed("snapshots, validation", train_index=splits.train), data, splits
    )
    sizes = comb.choose_size(snap_val, snap_val_labels)

    rows: list[Row] = []

    def add(key, label, combined, member_probs, group, trained_on, cost, fitted_on="–", note=""):
        """One row: combined [R, N, C] scored on the test rows; member_probs [R, M, N, C]."""
        arm = make_arm(key, label, combined, labels, member_probs, cost, fitted_on)
        rows.append(Row(arm, group, trained_on, note))

    # one row per method; unformatted so that the rows read as a table
    # fmt: off
    add("single_member", f"one member, {E} epochs", plain[:, 0], plain[:, :1], "reference",
        every_row, E)
    add("single_model", f"one model, {B} epochs", last[:, 0], last[:, :1], "reference",
        every_row, B)
    add("averaging", f"model averaging, {M} members", plain.mean(axis=1), plain, "members",
        every_row, M * E)
    add("bagging", f"bagging, {M} members", bagged.mean(axis=1), bagged, "members",
        f"bootstrap samples of {n_train} rows", M * E)
    add("weighted_average", f"weighted average, {M} members (grid step {sub.grid_step:g})",
        comb.average(fit_members, weights), fit_members, "members", fit_rows, M * E,
        "validation")
    add("stacking_meta", f"stacking, {stacking.META_NAMES[sub.meta_learner]} on {M} members",
        stacked, fit_members, "members", fit_rows, M * E, "validation")
    add("stacking_network", f"stacking, integrated network on {M} members", head, fit_members,
        "members", fit_rows, M * E, "validation",
        f"+ {sub.head_epochs} epochs of a {sub.head_units}-unit head")
    add("horizontal_voting", f"horizontal voting, last {K} epochs", last[:, :K].mean(axis=1),
        last[:, :K], "single_run", every_row, B)
    add("snapshot", f"snapshot ensemble, all {M} snapshots", snapshots.mean(axis=1), snapshots,
        "single_run", every_row, B)
    add("snapshot_validation", "snapshot ensemble, size chosen on validation",
        comb.average_first(snap_test, sizes), snap_test, "single_run", fit_rows, B,
        "validation")
    add("weight_averaging", f"weight averaging, last {n_avg} checkpoints ({sub.weight_scheme})",
        weight_averaged, last[:, :n_avg], "single_run", every_row, B)
    # fmt: on
    setting = {
        "dataset": sub.dataset,
        "repeats": R,
        "budget": B,
        "n_members": M,
        "epochs_per_member": E,
        "training_rows": n_train,
        "validation_rows": n_val,
        "test_rows": n_test,
        "hidden_units": sub.hidden_units,
        "optimizer": sub.optimizer,
        "learning_rate": sub.learning_rate,
        "batch_size": sub.batch_size,
    }
    chosen = {
        "weights_mean": weights.mean(axis=0),
        "snapshot_sizes": sizes,
    }
    return CompareResult(rows, splits, setting, chosen)
