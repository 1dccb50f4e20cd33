"""Transfer learning (docs/studies.md#transfer-learning): does starting from a related
problem's weights help, and which layers should stay fixed?

Two steps, two stages. `run_source` fits the source network once per source problem
(the reference's saved model). `run` compares, for every case (source problem ->
target problem), a standalone network against transfer arms over R repeats:

- standalone: fresh random weights;
- fixed_k: every layer copied from the source, the first k hidden layers frozen;
- new_hidden: the source's hidden layers frozen, a new randomly initialised hidden
  layer inserted before the (copied) output layer;
- reinit_top: the first `reinit_keep` hidden layers copied and frozen, every layer
  above them re-initialised, separating the features from the initialisation.

Each transfer arm runs under two protocols: `same_source` (every repeat starts from
the one saved source model) and `fresh_source` (repeat r starts from its own source
model, trained first, so the spread includes the source's randomness).

Arms whose networks share an architecture are stacked (`ReplicaMLP.concat`, which keeps
each arm's frozen layers as per-replica trainable flags) and trained as one program:
one fit per architecture instead of one per arm and protocol.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from layerwise.config import Config
from layerwise.config.transfer import TransferConfig, TransferSourceConfig
from layerwise.engine import Dense, History, ReplicaMLP
from layerwise.pipeline.data import Dataset
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import load_keras
from layerwise.pipeline.models import make_optimizer, mlp_layers
from layerwise.pipeline.progress import Progress
from layerwise.pipeline.seeds import seed_for
from layerwise.pipeline.stats import band, summarize

STANDALONE = "standalone"


@dataclass
class Problem(Dataset):
    """A classification problem: a dataset, possibly restricted to some of its classes
    (labels renumbered 0..n_classes-1), with the name the report uses."""

    name: str = ""


def make_problem(name: str, dataset: Dataset, classes: list[int]) -> Problem:
    """The dataset's rows of `classes` (all rows for []), labels renumbered 0..k-1 in order."""
    if not classes:
        return Problem(
            dataset.x_train,
            dataset.y_train,
            dataset.x_test,
            dataset.y_test,
            dataset.n_classes,
            name=name,
        )
    bad = [c for c in classes if c >= dataset.n_classes]
    if bad or len(set(classes)) != len(classes):
        raise UserError(
            f"{name}: classes = {list(classes)} is not a list of distinct labels "
            f"(allowed: 0 to {dataset.n_classes - 1})"
        )
    relabel = np.full(dataset.n_classes, -1)
    relabel[list(classes)] = np.arange(len(classes))
    keep_train = relabel[dataset.y_train] >= 0
    keep_test = relabel[dataset.y_test] >= 0
    return Problem(
        dataset.x_train[keep_train],
        relabel[dataset.y_train[keep_train]],
        dataset.x_test[keep_test],
        relabel[dataset.y_test[keep_test]],
        len(classes),
        name=name,
    )


def network(source: TransferSourceConfig, n_classes: int) -> list[Dense]:
    """The study's MLP: the configured hidden layers, then a softmax output (Keras' default
    initialiser, as the reference's Dense(3, softmax))."""
    return mlp_layers(source.hidden_units, source.activation, source.initializer, n_classes)


def _fit(model: ReplicaMLP, problem: Problem, section, *, epochs, batch_size, seed) -> History:
    """Fit on the problem's training rows, scored on its test rows every epoch, with SGD
    at the learning rate and momentum of `section` (the source's or the target's)."""
    return model.fit(
        problem.x_train,
        problem.onehot(problem.y_train),
        epochs=epochs,
        batch_size=batch_size,
        optimizer=make_optimizer(section, name="sgd"),
        seed=seed,
        validation=(problem.x_test, problem.onehot(problem.y_test)),
    )


def train_sources(cfg: Config, problem: Problem, n_replicas: int, seed: int):
    """`n_replicas` independently initialised source networks fitted on `problem`: weights
    drawn from `seed`, minibatch orders from its "order" stream."""
    s = cfg.transfer.source
    model = ReplicaMLP.create(problem.n_features, network(s, problem.n_classes), n_replicas, seed)
    history = _fit(
        model,
        problem,
        s,
        epochs=s.epochs,
        batch_size=s.batch_size,
        seed=seed_for(seed, "order"),
    )
    return model, history


# -- stage transfer_source ------------------------------------------------------------


@dataclass
class SourceResult:
    models: dict[str, ReplicaMLP]  # one replica per source problem
    metrics: dict
    curves: pd.DataFrame  # per epoch: <problem>-<train|test>_<accuracy|loss>


def run_source(cfg: Config, problems: dict[str, Problem]) -> SourceResult:
    """Fit the source network once on every configured source problem."""
    models, metrics, curves = {}, {}, {"epoch": np.arange(1, cfg.transfer.source.epochs + 1)}
    for name in cfg.transfer.source.problems:
        model, history = train_sources(
            cfg, problems[name], 1, seed_for(cfg.seed, "transfer.source", name)
        )
        models[name] = model
        labels = {
            "score": "train_accuracy",
            "val_score": "test_accuracy",
            "loss": "train_loss",
            "val_loss": "test_loss",
        }
        metrics[name] = {label: history.curves[key][-1, 0] for key, label in labels.items()}
        metrics[name]["n_classes"] = problems[name].n_classes
        for key, label in labels.items():
            curves[f"{name}-{label}"] = history.curves[key][:, 0]
    return SourceResult(models, metrics, pd.DataFrame(curves))


# -- stage transfer --------------------------------------------------------------------


def arm_names(t: TransferConfig) -> list[str]:
    return t.arm_names()


def build_arm(
    arm: str,
    layers: list[Dense],
    source: ReplicaMLP,
    n_replicas: int,
    n_inputs: int,
    seed: int,
    t: TransferConfig,
) -> ReplicaMLP:
    """The starting network of one arm, R replicas, with its frozen layers marked.

    `source` holds one replica (same-source protocol: copied into every repeat) or
    R replicas (fresh-source protocol: repeat r starts from source r).
    """
    n_hidden = len(layers) - 1
    if arm == STANDALONE:
        return ReplicaMLP.create(n_inputs, layers, n_replicas, seed)
    if arm.startswith("fixed_"):
        frozen = int(arm.removeprefix("fixed_"))
        model = ReplicaMLP.create(n_inputs, layers, n_replicas, seed)
        model.copy_weights_from(source)
        model.trainable = [i >= frozen for i in range(len(layers))]
        return model
    if arm == "new_hidden":
        new_layer = Dense(layers[-2].units, layers[-2].activation, layers[-2].initializer)
        deeper = layers[:-1] + [new_layer, layers[-1]]
        model = ReplicaMLP.create(n_inputs, deeper, n_replicas, seed)  # draws the new layer
        model.copy_weights_from(source, {**{i: i for i in range(n_hidden)}, n_hidden + 1: n_hidden})
        model.trainable = [False] * n_hidden + [True, True]
        return model
    if arm == "reinit_top":
        model = ReplicaMLP.create(n_inputs, layers, n_replicas, seed)
        model.copy_weights_from(source)
        model.reinitialize(range(t.reinit_keep, len(layers)), seed_for(seed, "reinit"))
        model.trainable = [i >= t.reinit_keep for i in range(len(layers))]
        return model
    raise ValueError(f"unknown arm {arm!r}")


def check_source(
    source: ReplicaMLP, layers: list[Dense], n_inputs: int, t: TransferConfig, where: str
) -> None:
    """The source must fit the target network and have every layer the arms freeze."""
    n_hidden = len(source.layers) - 1
    deepest = max([*t.frozen_layers, t.reinit_keep if "reinit_top" in t.extensions else 0])
    if deepest > n_hidden:
        raise UserError(
            f"{where}: the source model has {n_hidden} hidden layers; transfer.frozen_layers / "
            f"reinit_keep ask to keep {deepest} (allowed: 0 to {n_hidden})"
        )
    shapes = [(layer.units,) for layer in source.layers]
    if shapes != [(layer.units,) for layer in layers] or source.input_dim != n_inputs:
        raise UserError(
            f"{where}: the source model's layers {[s[0] for s in shapes]} do not match the "
            f"target network {[layer.units for layer in layers]} (transfer.source.hidden_units "
            "and the target's number of classes)"
        )


def load_source(path) -> ReplicaMLP:
    """A saved source model as a one-replica ReplicaMLP; missing or damaged -> UserError."""
    keras_model = load_keras(path)
    try:
        return ReplicaMLP.from_keras([keras_model])
    except (ValueError, IndexError, KeyError, AttributeError) as err:
        raise UserError(f"{path}: not a dense MLP the transfer study can use ({err})") from err


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


@dataclass
class TransferResult:
    summary: dict  # {case: {"standalone": ..., "<protocol>": {arm: ...}, "fresh_sources": ...}}
    replicas: pd.DataFrame  # one row per case, protocol, arm and repeat
    curves: pd.DataFrame  # per case, protocol, arm and epoch: mean test accuracy and 95% band


def run(
    cfg: Config, problems: dict[str, Problem], sources: dict[str, ReplicaMLP], progress: bool = True
) -> TransferResult:
    """Every case: all arms x R repeats x both protocols, arms grouped into shared fits.

    problems: the source problems by name and the targets by case name;
    sources: the saved source model (one replica) of each source problem.
    """
    t = cfg.transfer
    # per case: the fresh sources, standalone once, every transfer arm under every protocol
    per_case = ("fresh_source" in t.protocols) + 1 + (len(arm_names(t)) - 1) * len(t.protocols)
    meter = Progress("arms x protocols trained", per_case * len(t.cases), show=progress)
    summary, rows, curve_rows = {}, [], []
    for case_name, case in t.cases.items():
        target, source_problem = problems[case_name], problems[case.source]
        layers = network(t.source, target.n_classes)
        check_source(
            sources[case.source], layers, target.n_features, t, f"source model {case.source!r}"
        )
        if source_problem.n_features != target.n_features:
            raise UserError(
                f"transfer.cases.{case_name}: source and target have different numbers of inputs"
            )
        case_metrics: dict = {}
        protocol_sources = {}
        if "same_source" in t.protocols:
            protocol_sources["same_source"] = sources[case.source]
        if "fresh_source" in t.protocols:
            fresh, history = train_sources(
                cfg,
                source_problem,
                t.repeats,
                seed_for(cfg.seed, "transfer", case_name, "fresh sources"),
            )
            protocol_sources["fresh_source"] = fresh
            case_metrics["fresh_sources"] = summarize(
                history.curves["val_score"][-1], metric="test_accuracy"
            )
            meter.advance()

        # every (protocol, arm) start, grouped by architecture: arms that freeze different
        # layers still share a program (per-replica trainable flags after concat)
        groups: dict[tuple, list[tuple[str, str, ReplicaMLP]]] = {}
        for arm in arm_names(t):
            # standalone does not depend on the protocol: it runs once, as protocol "none"
            starts = {"none": None} if arm == STANDALONE else protocol_sources
            for protocol, source in starts.items():
                model = build_arm(
                    arm,
                    layers,
                    source,
                    t.repeats,
                    target.n_features,
                    seed_for(cfg.seed, "transfer", case_name, protocol, arm),
                    t,
                )
                groups.setdefault(model.layers, []).append((protocol, arm, model))
        outcome = {}
        for members in groups.values():
            stacked = ReplicaMLP.concat([m for _, _, m in members])
            history = _fit(
                stacked,
                target,
                t,
                epochs=t.epochs,
                batch_size=t.batch_size,
                seed=seed_for(
                    cfg.seed, "transfer", case_name, *[f"{p}/{a}" for p, a, _ in members]
                ),
            )
            for k, (protocol, arm, _) in enumerate(members):
                part = slice(k * t.repeats, (k + 1) * t.repeats)
                outcome[protocol, arm] = {name: c[:, part] for name, c in history.curves.items()}
            meter.advance(len(members))

        control = outcome["none", STANDALONE]["val_score"][-1]
        for (protocol, arm), curves in outcome.items():
            test = curves["val_score"][-1]
            reach = epochs_to_reach(curves["val_score"], t.reach_fraction)
            entry = {
                "test_accuracy": summarize(test, metric="test_accuracy"),
                "train_accuracy": summarize(curves["score"][-1], metric="train_accuracy"),
                "epochs_to_reach": summarize(reach, metric="epochs_to_reach"),
            }
            if arm != STANDALONE:
                entry["vs_standalone"] = compare_to_control(test, control)
                case_metrics.setdefault(protocol, {})[arm] = entry
            else:
                case_metrics[STANDALONE] = entry
            rows.append(
                pd.DataFrame(
                    {
                        "case": case_name,
                        "protocol": protocol,
                        "arm": arm,
                        "repeat": np.arange(t.repeats),
                        "train_accuracy": curves["score"][-1],
                        "test_accuracy": test,
                        "epochs_to_reach": reach,
                    }
                )
            )
            b = band(curves["val_score"], metric="test_accuracy")
            curve_rows.append(
                pd.DataFrame(
                    {
                        "case": case_name,
                        "protocol": protocol,
                        "arm": arm,
                        "epoch": np.arange(1, t.epochs + 1),
                        "test_accuracy": b["mean"],
                        "test_accuracy_low": b["low"],
                        "test_accuracy_high": b["high"],
                    }
                )
            )
        summary[case_name] = case_metrics
    return TransferResult(
        summary, pd.concat(rows, ignore_index=True), pd.concat(curve_rows, ignore_index=True)
    )


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
