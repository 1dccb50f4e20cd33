"""The ensembles study's section of the configuration, and its cross-field rules."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from layerwise.pipeline.budget import check_replicas, check_split
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.schema import (
    choice_field,
    number_field,
)

WEIGHT_SCHEMES = ("equal", "linear", "exponential")  # weight averaging of checkpoints
META_LEARNERS = ("logistic", "forest")  # stacking
VALIDATION_SOURCES = ("train", "test")

# sub-sections of `ensembles` that are one method each (stage ensemble@<method>);
# `ensembles.compare` runs them all on one budget (stage ensemble_compare)
ENSEMBLE_METHODS = (
    "model_averaging",
    "weighted_average",
    "resampling",
    "horizontal_voting",
    "snapshot",
    "stacking",
    "weight_averaging",
)


@dataclass
class EnsembleNetworkConfig:
    """The members' data, network and optimizer."""

    dataset: str = "ensemble_1100"  # a key of `datasets`
    hidden_units: int = number_field(25, low=1)  # Dense(h, relu) -> Dense(classes, softmax)
    optimizer: str = choice_field("adam", ("sgd", "adam"))
    learning_rate: float = number_field(0.001, low=0.0, low_open=True)
    momentum: float = number_field(0.0, low=0.0, high=1.0)  # sgd only


@dataclass
class EnsembleMembersConfig(EnsembleNetworkConfig):
    """What every ensemble method shares: members' data, network, training, repeats."""

    epochs: int = number_field(500, low=1)
    batch_size: int = number_field(32, low=1)
    repeats: int = number_field(10, low=1)  # the whole procedure, repeated for CIs


@dataclass
class ModelAveragingConfig(EnsembleMembersConfig):
    n_members: int = number_field(20, low=1)  # size sweep 1..n_members
    ensemble_size: int = number_field(5, low=1)  # the fixed-size ensemble repeated


@dataclass
class WeightedAverageConfig(EnsembleMembersConfig):
    n_members: int = number_field(10, low=1)  # averaging sweep
    n_weighted: int = number_field(5, low=1)  # the first members get tuned weights
    grid_step: float = number_field(0.1, low=0.0, high=1.0, low_open=True)  # must divide 1
    de_maxiter: int = number_field(1000, low=1)
    de_tol: float = number_field(1e-7, low=0.0, low_open=True)
    validation_from: str = choice_field("train", VALIDATION_SOURCES)  # combiner-fitting rows
    validation_fraction: float = number_field(0.2, low=0.0, high=1.0, low_open=True, high_open=True)


@dataclass
class ResamplingConfig(EnsembleMembersConfig):
    single_dataset: str = "resampling_1000"  # the chapter's single model
    n_members: int = number_field(10, low=2)  # members per scheme; also the number of CV folds
    split_test_fraction: float = number_field(0.1, low=0.0, high=1.0, low_open=True)
    bootstrap_size: int = number_field(4500, low=1)


@dataclass
class HorizontalVotingConfig(EnsembleMembersConfig):
    n_members: int = number_field(50, low=1)  # models of the last epochs
    selection: str = choice_field("contiguous", ("contiguous", "random"))
    window: int = number_field(50, low=1)  # random: members drawn from the last `window` epochs


@dataclass
class SnapshotConfig(EnsembleMembersConfig):
    cycles: int = number_field(10, low=1)  # cosine annealing restarts; a snapshot ends each
    baseline_hidden_units: int = number_field(25, low=1)  # the chapter's plain SGD baseline
    baseline_epochs: int = number_field(200, low=1)
    baseline_learning_rate: float = number_field(0.01, low=0.0, low_open=True)
    validation_from: str = choice_field("train", VALIDATION_SOURCES)  # rows choosing the size
    validation_fraction: float = number_field(0.2, low=0.0, high=1.0, low_open=True, high_open=True)


@dataclass
class StackingConfig(EnsembleMembersConfig):
    n_members: int = number_field(5, low=1)  # level-0 members
    meta_learner: str = choice_field("logistic", META_LEARNERS)
    head_units: int = number_field(10, low=1)  # integrated network: Dense(h, relu) head
    head_epochs: int = number_field(300, low=1)
    validation_from: str = choice_field("train", VALIDATION_SOURCES)
    validation_fraction: float = number_field(0.2, low=0.0, high=1.0, low_open=True, high_open=True)


@dataclass
class WeightAveragingConfig(EnsembleMembersConfig):
    n_checkpoints: int = number_field(10, low=1)  # the last epochs whose weights are kept
    decay: float = number_field(0.5, low=0.0, low_open=True)  # exponential: exp(-decay * i)


@dataclass
class EnsembleCompareConfig(EnsembleNetworkConfig):
    """Every method on one dataset, one member network and one budget of member-epochs.

    Independent-member methods train n_members members for budget / n_members epochs
    each; single-run methods train one network for `budget` epochs.
    """

    batch_size: int = number_field(32, low=1)
    repeats: int = number_field(10, low=2)
    budget: int = number_field(1000, low=2)  # member-epochs every method spends
    n_members: int = number_field(5, low=2)  # members; also snapshot cycles
    validation_fraction: float = number_field(0.2, low=0.0, high=1.0, low_open=True, high_open=True)
    grid_step: float = number_field(0.1, low=0.0, high=1.0, low_open=True)  # weighted average
    meta_learner: str = choice_field("logistic", META_LEARNERS)
    head_units: int = number_field(10, low=1)  # integrated stacking network's head
    head_epochs: int = number_field(300, low=1)
    horizontal_members: int = number_field(50, low=1)  # models of the last epochs voted
    snapshot_learning_rate: float = number_field(0.001, low=0.0, low_open=True)  # cosine peak
    n_checkpoints: int = number_field(10, low=1)  # weight averaging: the last checkpoints
    weight_scheme: str = choice_field("equal", WEIGHT_SCHEMES)
    decay: float = number_field(0.5, low=0.0, low_open=True)  # exponential scheme


@dataclass
class EnsemblesConfig:
    """One sub-section per method, each one DVC stage (ensemble@<method>), and `compare`."""

    model_averaging: ModelAveragingConfig = field(default_factory=ModelAveragingConfig)
    weighted_average: WeightedAverageConfig = field(default_factory=WeightedAverageConfig)
    resampling: ResamplingConfig = field(default_factory=ResamplingConfig)
    horizontal_voting: HorizontalVotingConfig = field(default_factory=HorizontalVotingConfig)
    snapshot: SnapshotConfig = field(default_factory=SnapshotConfig)
    stacking: StackingConfig = field(default_factory=StackingConfig)
    weight_averaging: WeightAveragingConfig = field(default_factory=WeightAveragingConfig)
    compare: EnsembleCompareConfig = field(default_factory=EnsembleCompareConfig)


def check_ensembles(cfg, shapes) -> None:
    """Ensemble sizes within the members trained, a grid step dividing 1, known datasets."""
    section = cfg.ensembles

    def need(ok: bool, key: str, value, allowed: str) -> None:
        if not ok:
            raise UserError(f"ensembles.{key} = {value!r} is not possible (allowed: {allowed})")

    for method in (f.name for f in dataclasses.fields(section)):
        sub = getattr(section, method)
        for key in ("dataset", "single_dataset"):
            name = getattr(sub, key, None)
            if name is not None:
                need(
                    name in cfg.datasets,
                    f"{method}.{key}",
                    name,
                    f"a key of datasets: {', '.join(sorted(cfg.datasets))}",
                )
    ma = section.model_averaging
    need(
        ma.ensemble_size <= ma.n_members,
        "model_averaging.ensemble_size",
        ma.ensemble_size,
        f"at most n_members = {ma.n_members}",
    )
    wa = section.weighted_average
    need(
        wa.n_weighted <= wa.n_members,
        "weighted_average.n_weighted",
        wa.n_weighted,
        f"at most n_members = {wa.n_members}",
    )
    _check_grid_step("weighted_average.grid_step", wa.grid_step, need)
    hv = section.horizontal_voting
    need(
        hv.n_members <= hv.epochs,
        "horizontal_voting.n_members",
        hv.n_members,
        f"at most epochs = {hv.epochs}",
    )
    if hv.selection == "random":
        need(
            hv.n_members <= hv.window <= hv.epochs,
            "horizontal_voting.window",
            hv.window,
            f"from n_members = {hv.n_members} to epochs = {hv.epochs}",
        )
    sn = section.snapshot
    need(sn.cycles <= sn.epochs, "snapshot.cycles", sn.cycles, f"at most epochs = {sn.epochs}")
    wt = section.weight_averaging
    need(
        wt.n_checkpoints <= wt.epochs,
        "weight_averaging.n_checkpoints",
        wt.n_checkpoints,
        f"at most epochs = {wt.epochs}",
    )
    _check_ensemble_compare(section.compare, need)


def _check_grid_step(key: str, step: float, need) -> int:
    """A weight grid step must divide 1 into whole steps; returns how many."""
    levels = 1.0 / step
    need(
        abs(levels - round(levels)) < 1e-9,
        key,
        step,
        "a step that divides 1 into whole steps, 1/k: 0.1, 0.2, 0.25, 0.5, 1",
    )
    return round(levels)


GRID_LIMIT = 2_000_000  # weight vectors the compare stage's grid search may score


def _check_ensemble_compare(cmp: EnsembleCompareConfig, need) -> None:
    """One budget split evenly into members; the single run long enough for its windows."""
    need(
        cmp.budget % cmp.n_members == 0,
        "compare.budget",
        cmp.budget,
        f"a multiple of n_members = {cmp.n_members}",
    )
    for key in ("horizontal_members", "n_checkpoints"):
        need(
            getattr(cmp, key) <= cmp.budget,
            f"compare.{key}",
            getattr(cmp, key),
            f"at most budget = {cmp.budget} epochs of the single run",
        )
    levels = _check_grid_step("compare.grid_step", cmp.grid_step, need)
    vectors = (levels + 1) ** cmp.n_members
    need(
        vectors <= GRID_LIMIT,
        "compare.grid_step",
        cmp.grid_step,
        f"a coarser step: {vectors:,} weight vectors for n_members = {cmp.n_members} "
        f"exceed {GRID_LIMIT:,}",
    )


# members trained side by side per repeat, by method (the rest train one network a repeat)
SIDE_BY_SIDE = {"model_averaging", "weighted_average", "stacking", "compare"}


def check_ensemble_budgets(cfg, shapes) -> None:
    """Splits that leave rows to train on and to score, a bootstrap no larger than the data
    it draws from, and members that fit in memory side by side (a dataset missing from
    `shapes` is a csv file not read here: the check stage bounded it)."""
    section = cfg.ensembles
    for method in (f.name for f in dataclasses.fields(section)):
        sub = getattr(section, method)
        ds = shapes.get(sub.dataset)
        if ds is None:
            continue
        classes = ds.classes
        members = sub.n_members if method in SIDE_BY_SIDE else 1
        if method == "resampling":
            members = 3 * sub.n_members  # random splits, CV folds and bagging
        fraction = getattr(sub, "validation_fraction", None)
        if fraction is not None:
            source = getattr(sub, "validation_from", "train")
            pool = ds.n_train if source == "train" else ds.n_test
            held = math.ceil(pool * fraction)  # scikit-learn's rounding of test_size
            check_split(
                f"ensembles.{method}.validation_fraction",
                fraction,
                pool - held,
                held,
                sub.batch_size if source == "train" else 0,
                classes,
            )
        check_replicas(
            f"ensembles.{method}.repeats",
            sub.repeats,
            sub.repeats * members,
            ds,
            [sub.hidden_units],
        )
    rs = section.resampling
    if rs.dataset not in shapes:
        return
    n_rows = shapes[rs.dataset].n_train
    classes = shapes[rs.dataset].classes
    n_test = int(round(n_rows * rs.split_test_fraction))
    check_split(
        "ensembles.resampling.split_test_fraction",
        rs.split_test_fraction,
        n_rows - n_test,
        n_test,
        rs.batch_size,
        classes,
    )
    fold = n_rows // rs.n_members
    check_split(
        "ensembles.resampling.n_members", rs.n_members, n_rows - fold, fold, rs.batch_size, classes
    )
    if not rs.batch_size <= rs.bootstrap_size <= n_rows:
        raise UserError(
            f"ensembles.resampling.bootstrap_size = {rs.bootstrap_size} is not possible "
            f"(allowed: from one batch, {rs.batch_size}, to the {n_rows} training rows of "
            f"{rs.dataset} it draws from)"
        )
