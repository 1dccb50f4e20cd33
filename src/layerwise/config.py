"""The typed configuration: one schema for Hydra's composition and for params.yaml.

`hydra_plugins/layerwise/` registers `Config` in Hydra's ConfigStore, so
`dvc exp run -S baseline.epochs=abc` fails while composing. Stages load
params.yaml through `load_params`, which merges it into the same schema and then
checks ranges and choices declared in each field's metadata, so a hand edit fails
with one line naming the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from layerwise.ensembles import META_LEARNERS, WEIGHT_SCHEMES
from layerwise.errors import UserError


def _number(default, *, low=None, high=None, low_open=False):
    """A numeric field with an allowed range, checked by `check_ranges`."""
    return field(default=default, metadata={"low": low, "high": high, "low_open": low_open})


def _choice(default, choices):
    return field(default=default, metadata={"choices": tuple(choices)})


def _list(default, *, low=None, choices=None, nonempty=True, unique=False):
    return field(
        default_factory=lambda: list(default),
        metadata={
            "item_low": low,
            "item_choices": choices,
            "nonempty": nonempty,
            "unique": unique,
        },
    )


DATASET_KINDS = ("blobs", "digits", "mnist1d", "cifar10")
SCALINGS = ("none", "standard", "unit")


@dataclass
class DatasetConfig:
    """One dataset file written by the `data` stage (data/<name>.npz)."""

    kind: str = _choice("blobs", DATASET_KINDS)
    n_samples: int = _number(1000, low=3)  # blobs: rows generated; others: rows used at most
    n_train: int = _number(500, low=1)  # blobs: the first n_train rows train; others: train rows
    random_state: int = 2  # blobs: make_blobs seed; digits: split seed
    cluster_std: float = _number(2.0, low=0.0, low_open=True)
    scale: str = _choice("none", SCALINGS)  # statistics from the training split only
    source: str = ""  # cifar10: a folder in CIFAR-10's python format; empty: keras downloads it


@dataclass
class DataConfig:
    """Which dataset the baseline (and the studies that start from it) trains on."""

    name: str = "blobs"


ACTIVATION_CHOICES = ("relu", "sigmoid", "tanh", "linear")
INITIALIZER_CHOICES = ("he_uniform", "glorot_uniform")


@dataclass
class ModelConfig:
    hidden_units: list[int] = _list([10], low=1)
    activation: str = _choice("relu", ACTIVATION_CHOICES)
    initializer: str = _choice("he_uniform", INITIALIZER_CHOICES)


@dataclass
class OptimizerConfig:
    name: str = _choice("sgd", ("sgd", "adam"))
    learning_rate: float = _number(0.01, low=0.0, low_open=True)
    momentum: float = _number(0.9, low=0.0, high=1.0)
    beta_1: float = _number(0.9, low=0.0, high=1.0)
    beta_2: float = _number(0.999, low=0.0, high=1.0)
    epsilon: float = _number(1e-7, low=0.0, low_open=True)


@dataclass
class BaselineConfig:
    n_replicas: int = _number(30, low=1)
    epochs: int = _number(100, low=1)
    batch_size: int = _number(32, low=1)


TRANSFER_EXTENSIONS = ("new_hidden", "reinit_top")
TRANSFER_PROTOCOLS = ("same_source", "fresh_source")


@dataclass
class TransferProblemConfig:
    """A classification problem for the transfer study: a dataset, maybe fewer classes."""

    dataset: str = "transfer_p1"  # a key of `datasets` (the file data/<dataset>.npz)
    # the classes kept, relabelled 0..k-1 in this order; [] = all classes
    classes: list[int] = _list([], low=0, nonempty=False)


@dataclass
class TransferSourceConfig:
    """The source models (stage transfer_source): network, training and source problems."""

    problems: dict[str, TransferProblemConfig] = field(default_factory=dict)
    hidden_units: list[int] = _list([5, 5], low=1)
    activation: str = _choice("relu", ACTIVATION_CHOICES)
    initializer: str = _choice("he_uniform", INITIALIZER_CHOICES)
    epochs: int = _number(100, low=1)
    batch_size: int = _number(32, low=1)
    learning_rate: float = _number(0.01, low=0.0, low_open=True)
    momentum: float = _number(0.0, low=0.0, high=1.0)


@dataclass
class TransferCaseConfig:
    """One comparison: a source problem's model transferred to a target problem."""

    source: str = "p1"  # a key of transfer.source.problems
    dataset: str = "transfer_p2"  # the target: a key of `datasets`
    classes: list[int] = _list([], low=0, nonempty=False)


@dataclass
class TransferConfig:
    """The transfer study (STUDY.md section 4): standalone vs transfer arms over repeats."""

    source: TransferSourceConfig = field(default_factory=TransferSourceConfig)
    cases: dict[str, TransferCaseConfig] = field(default_factory=dict)
    repeats: int = _number(30, low=2)
    epochs: int = _number(100, low=1)
    batch_size: int = _number(32, low=1)
    learning_rate: float = _number(0.01, low=0.0, low_open=True)
    momentum: float = _number(0.0, low=0.0, high=1.0)
    frozen_layers: list[int] = _list([0, 1, 2], low=0)
    extensions: list[str] = _list(
        list(TRANSFER_EXTENSIONS), choices=TRANSFER_EXTENSIONS, nonempty=False
    )
    reinit_keep: int = _number(1, low=1)  # reinit_top: source hidden layers kept (frozen)
    protocols: list[str] = _list(list(TRANSFER_PROTOCOLS), choices=TRANSFER_PROTOCOLS)
    reach_fraction: float = _number(0.95, low=0.0, high=1.0, low_open=True)

    def arm_names(self) -> list[str]:
        """The compared arms in reading order: standalone, fixed_k..., extensions."""
        return ["standalone"] + [f"fixed_{k}" for k in self.frozen_layers] + list(self.extensions)


# -- ensembles study (STUDY.md section 5) ------------------------------------------------

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
    hidden_units: int = _number(25, low=1)  # Dense(h, relu) -> Dense(classes, softmax)
    optimizer: str = _choice("adam", ("sgd", "adam"))
    learning_rate: float = _number(0.001, low=0.0, low_open=True)
    momentum: float = _number(0.0, low=0.0, high=1.0)  # sgd only


@dataclass
class EnsembleMembersConfig(EnsembleNetworkConfig):
    """What every ensemble method shares: members' data, network, training, repeats."""

    epochs: int = _number(500, low=1)
    batch_size: int = _number(32, low=1)
    repeats: int = _number(10, low=1)  # the whole procedure, repeated for CIs


@dataclass
class ModelAveragingConfig(EnsembleMembersConfig):
    n_members: int = _number(20, low=1)  # size sweep 1..n_members
    ensemble_size: int = _number(5, low=1)  # the fixed-size ensemble repeated


@dataclass
class WeightedAverageConfig(EnsembleMembersConfig):
    n_members: int = _number(10, low=1)  # averaging sweep
    n_weighted: int = _number(5, low=1)  # the first members get tuned weights
    grid_step: float = _number(0.1, low=0.0, high=1.0, low_open=True)  # must divide 1
    de_maxiter: int = _number(1000, low=1)
    de_tol: float = _number(1e-7, low=0.0, low_open=True)
    validation_from: str = _choice("train", VALIDATION_SOURCES)  # combiner-fitting rows
    validation_fraction: float = _number(0.2, low=0.0, high=1.0, low_open=True)


@dataclass
class ResamplingConfig(EnsembleMembersConfig):
    single_dataset: str = "resampling_1000"  # the chapter's single model
    n_members: int = _number(10, low=2)  # members per scheme; also the number of CV folds
    split_test_fraction: float = _number(0.1, low=0.0, high=1.0, low_open=True)
    bootstrap_size: int = _number(4500, low=1)


@dataclass
class HorizontalVotingConfig(EnsembleMembersConfig):
    n_members: int = _number(50, low=1)  # models of the last epochs
    selection: str = _choice("contiguous", ("contiguous", "random"))
    window: int = _number(50, low=1)  # random: members drawn from the last `window` epochs


@dataclass
class SnapshotConfig(EnsembleMembersConfig):
    cycles: int = _number(10, low=1)  # cosine annealing restarts; a snapshot ends each
    baseline_hidden_units: int = _number(25, low=1)  # the chapter's plain SGD baseline
    baseline_epochs: int = _number(200, low=1)
    baseline_learning_rate: float = _number(0.01, low=0.0, low_open=True)
    validation_from: str = _choice("train", VALIDATION_SOURCES)  # rows choosing the size
    validation_fraction: float = _number(0.2, low=0.0, high=1.0, low_open=True)


@dataclass
class StackingConfig(EnsembleMembersConfig):
    n_members: int = _number(5, low=1)  # level-0 members
    meta_learner: str = _choice("logistic", META_LEARNERS)
    head_units: int = _number(10, low=1)  # integrated network: Dense(h, relu) head
    head_epochs: int = _number(300, low=1)
    validation_from: str = _choice("train", VALIDATION_SOURCES)
    validation_fraction: float = _number(0.2, low=0.0, high=1.0, low_open=True)


@dataclass
class WeightAveragingConfig(EnsembleMembersConfig):
    n_checkpoints: int = _number(10, low=1)  # the last epochs whose weights are kept
    decay: float = _number(0.5, low=0.0, low_open=True)  # exponential: exp(-decay * i)


@dataclass
class EnsembleCompareConfig(EnsembleNetworkConfig):
    """Every method on one dataset, one member network and one budget of member-epochs.

    Independent-member methods train n_members members for budget / n_members epochs
    each; single-run methods train one network for `budget` epochs.
    """

    batch_size: int = _number(32, low=1)
    repeats: int = _number(10, low=2)
    budget: int = _number(1000, low=2)  # member-epochs every method spends
    n_members: int = _number(5, low=2)  # members; also snapshot cycles
    validation_fraction: float = _number(0.2, low=0.0, high=1.0, low_open=True)
    grid_step: float = _number(0.1, low=0.0, high=1.0, low_open=True)  # weighted average
    meta_learner: str = _choice("logistic", META_LEARNERS)
    head_units: int = _number(10, low=1)  # integrated stacking network's head
    head_epochs: int = _number(300, low=1)
    horizontal_members: int = _number(50, low=1)  # models of the last epochs voted
    snapshot_learning_rate: float = _number(0.001, low=0.0, low_open=True)  # cosine peak
    n_checkpoints: int = _number(10, low=1)  # weight averaging: the last checkpoints
    weight_scheme: str = _choice("equal", WEIGHT_SCHEMES)
    decay: float = _number(0.5, low=0.0, low_open=True)  # exponential scheme


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


@dataclass
class GreedySupervisedConfig:
    """Supervised greedy layer-wise training from the baseline (STUDY.md 3), with controls."""

    additions: int = _number(10, low=0)  # hidden layers added one at a time
    epochs: int = _number(100, low=1)  # epochs per added layer
    batch_size: int = _number(32, low=1)
    control: bool = True  # same architecture at each depth, end to end, same total epochs
    fine_tune: bool = True  # after the last addition: unfreeze all, train at a smaller rate
    fine_tune_epochs: int = _number(100, low=1)
    fine_tune_learning_rate: float = _number(0.001, low=0.0, low_open=True)


@dataclass
class GreedyUnsupervisedConfig:
    """Greedy autoencoder pretraining, scored by a classifier head per depth (STUDY.md 3)."""

    n_replicas: int = _number(30, low=1)
    additions: int = _number(5, low=0)
    epochs: int = _number(100, low=1)  # autoencoder epochs per depth
    classifier_epochs: int = _number(100, low=1)  # classifier head on the frozen encoder
    batch_size: int = _number(32, low=1)


@dataclass
class GreedyActivationsConfig:
    """Greedy vs end-to-end per hidden activation, and gradient norms at initialisation."""

    enabled: bool = True
    names: list[str] = _list(
        ["relu", "sigmoid", "tanh"], choices=("relu", "sigmoid", "tanh"), unique=True
    )
    n_replicas: int = _number(10, low=1)
    additions: int = _number(5, low=0)
    epochs: int = _number(100, low=1)  # for the base network and for each round
    batch_size: int = _number(32, low=1)
    control: bool = True
    gradient_depth: int = _number(10, low=1)  # hidden layers of the network whose gradients
    # are measured at initialisation


@dataclass
class GreedyDepthConfig:
    """Depth selection (the TensorFlow tutorial's settings) on validation data only."""

    enabled: bool = True
    n_replicas: int = _number(30, low=1)
    patience: int = _number(3, low=1)  # stop after this many rounds without improvement
    max_additions: int = _number(10, low=0)
    epochs: int = _number(100, low=1)  # for the base network and for each round
    batch_size: int = _number(32, low=1)
    validation_fraction: float = _number(0.2, low=0.0, high=0.9, low_open=True)
    subsample_fraction: float = _number(0.3, low=0.0, high=1.0, low_open=True)


@dataclass
class GreedyFewLabelsConfig:
    """Autoencoder pretraining on every training input, classifiers on n labelled rows."""

    enabled: bool = True
    datasets: list[str] = _list(["blobs", "digits"])  # keys of `datasets`, one stage each
    n_labelled: list[int] = _list([10, 30, 100, 300, 0], low=0)  # 0 = every training row
    n_replicas: int = _number(10, low=1)
    pretrain_additions: int = _number(1, low=0)  # greedy autoencoder rounds before the heads
    epochs: int = _number(100, low=1)  # autoencoder rounds and every classifier fit
    batch_size: int = _number(32, low=1)


def check_few_labels(cfg: Config) -> None:
    """Every few-labels dataset exists and has at least as many training rows as asked for."""
    f = cfg.greedy.few_labels
    for name in f.datasets:
        if name not in cfg.datasets:
            raise UserError(
                f"greedy.few_labels.datasets: {name!r} is not a dataset "
                f"(allowed: {', '.join(sorted(cfg.datasets))})"
            )
        n_train = cfg.datasets[name].n_train
        for n in f.n_labelled:
            if n > n_train:
                raise UserError(
                    f"greedy.few_labels.n_labelled = {n} is larger than the {n_train} training "
                    f"rows of dataset {name} (allowed: 1..{n_train}, or 0 for all)"
                )


@dataclass
class GreedyConfig:
    supervised: GreedySupervisedConfig = field(default_factory=GreedySupervisedConfig)
    unsupervised: GreedyUnsupervisedConfig = field(default_factory=GreedyUnsupervisedConfig)
    activations: GreedyActivationsConfig = field(default_factory=GreedyActivationsConfig)
    depth_selection: GreedyDepthConfig = field(default_factory=GreedyDepthConfig)
    few_labels: GreedyFewLabelsConfig = field(default_factory=GreedyFewLabelsConfig)


@dataclass
class Config:
    preset: str = "book"  # the experiment/ preset this configuration came from
    seed: int = _number(0, low=0)
    data: DataConfig = field(default_factory=DataConfig)
    datasets: dict[str, DatasetConfig] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    greedy: GreedyConfig = field(default_factory=GreedyConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)
    ensembles: EnsemblesConfig = field(default_factory=EnsemblesConfig)


# -- checks -----------------------------------------------------------------------------


def _describe_range(meta) -> str:
    low, high = meta.get("low"), meta.get("high")
    if low is not None and high is not None:
        return f"a number from {low} to {high}"
    if low is not None:
        return f"a number > {low}" if meta.get("low_open") else f"a number >= {low}"
    return f"a number <= {high}"


def _check_value(key: str, value: Any, meta) -> None:
    if meta.get("choices") is not None and value not in meta["choices"]:
        raise UserError(f"{key} = {value!r} is not allowed (allowed: {', '.join(meta['choices'])})")
    low, high = meta.get("low"), meta.get("high")
    if low is not None and (value < low or (meta.get("low_open") and value == low)):
        raise UserError(f"{key} = {value!r} is out of range (allowed: {_describe_range(meta)})")
    if high is not None and value > high:
        raise UserError(f"{key} = {value!r} is out of range (allowed: {_describe_range(meta)})")


def check_ranges(node: Any, prefix: str = "") -> None:
    """Check every field's declared range or choices, recursively; raise UserError."""
    if isinstance(node, dict):
        for name, item in node.items():
            check_ranges(item, f"{prefix}{name}.")
        return
    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        value, key = getattr(node, f.name), prefix + f.name
        meta = f.metadata
        if isinstance(value, list):
            if meta.get("nonempty") and not value:
                raise UserError(f"{key} is empty (allowed: a list with at least one item)")
            if meta.get("unique") and len(set(value)) < len(value):
                raise UserError(f"{key} = {value} repeats an item (allowed: each at most once)")
            item_meta = {"low": meta.get("item_low"), "choices": meta.get("item_choices")}
            for i, item in enumerate(value):
                _check_value(f"{key}[{i}]", item, item_meta)
        elif dataclasses.is_dataclass(value) or isinstance(value, dict):
            check_ranges(value, key + ".")
        elif meta:
            _check_value(key, value, meta)


def check_config(cfg: Config) -> Config:
    """Ranges and choices field by field, then the rules that span fields."""
    check_ranges(cfg)
    if cfg.data.name not in cfg.datasets:
        raise UserError(
            f"data.name = {cfg.data.name!r} is not a dataset "
            f"(allowed: {', '.join(sorted(cfg.datasets))})"
        )
    for name, ds in cfg.datasets.items():
        if ds.n_train >= ds.n_samples:
            raise UserError(
                f"datasets.{name}.n_train = {ds.n_train} leaves no test rows "
                f"(allowed: less than n_samples = {ds.n_samples})"
            )
    for hook in EXTRA_CHECKS:
        hook(cfg)
    return cfg


# Studies append cross-field rules of their own sections here.
EXTRA_CHECKS: list = []
EXTRA_CHECKS.append(check_few_labels)


def check_transfer(cfg: Config) -> None:
    """The transfer section's names must exist, and no arm may freeze a layer the source lacks."""
    t = cfg.transfer
    n_hidden = len(t.source.hidden_units)
    for name, problem in t.source.problems.items():
        if problem.dataset not in cfg.datasets:
            raise UserError(
                f"transfer.source.problems.{name}.dataset = {problem.dataset!r} is not a "
                f"dataset (allowed: {', '.join(sorted(cfg.datasets))})"
            )
    for name, case in t.cases.items():
        if case.source not in t.source.problems:
            raise UserError(
                f"transfer.cases.{name}.source = {case.source!r} is not a source problem "
                f"(allowed: {', '.join(sorted(t.source.problems))})"
            )
        if case.dataset not in cfg.datasets:
            raise UserError(
                f"transfer.cases.{name}.dataset = {case.dataset!r} is not a dataset "
                f"(allowed: {', '.join(sorted(cfg.datasets))})"
            )
    for i, frozen in enumerate(t.frozen_layers):
        if frozen > n_hidden:
            raise UserError(
                f"transfer.frozen_layers[{i}] = {frozen} freezes more layers than the source "
                f"has hidden layers (allowed: 0 to {n_hidden})"
            )
    if "reinit_top" in t.extensions and t.reinit_keep > n_hidden:
        raise UserError(
            f"transfer.reinit_keep = {t.reinit_keep} keeps more layers than the source has "
            f"hidden layers (allowed: 1 to {n_hidden})"
        )


EXTRA_CHECKS.append(check_transfer)


def register_schema() -> None:
    """Make `schema` (this Config) available to Hydra's defaults lists."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="schema", node=Config)


# -- loading ----------------------------------------------------------------------------


TYPE_WORDS = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}


def _omegaconf_message(err: OmegaConfBaseException, source: str) -> str:
    key = getattr(err, "full_key", None) or "?"
    if isinstance(err, ConfigKeyError):
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        node = OmegaConf.structured(Config)
        allowed = []
        try:
            target = OmegaConf.select(node, parent) if parent else node
            allowed = list(target.keys()) if target is not None else []
        except OmegaConfBaseException:
            pass
        hint = f" (allowed: {', '.join(map(str, allowed))})" if allowed else ""
        return f"{source}: unknown key '{key}'{hint}"
    if isinstance(err, ValidationError):
        value = getattr(err, "value", None)
        message = (err.msg or str(err)).splitlines()[0]
        if "could not be converted to" in message:
            wanted = message.rsplit("could not be converted to", 1)[1].strip(" .")
            wanted = TYPE_WORDS.get(wanted, wanted)
            return f"{source}: {key} = {value!r} has the wrong type (allowed: {wanted})"
        return f"{source}: {key}: {message}"
    return f"{source}: {(err.msg or str(err)).splitlines()[0]}"


def to_config(raw: dict, source: str = "params.yaml") -> Config:
    """Merge a plain dict into the schema, build the dataclasses and check them."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Config), raw)
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise UserError(_omegaconf_message(err, source)) from err
    try:
        return check_config(cfg)
    except UserError as err:
        raise UserError(f"{source}: {err}") from err


def load_params(path: str | Path = "params.yaml") -> Config:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found (run from the repository root, or pass --params)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from err
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of sections at the top level")
    return to_config(raw, str(path))


def as_dict(cfg: Config) -> dict:
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)


def _check_ensembles(cfg: Config) -> None:
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


EXTRA_CHECKS.append(_check_ensembles)
