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

from layerwise.errors import UserError


def _number(default, *, low=None, high=None, low_open=False):
    """A numeric field with an allowed range, checked by `check_ranges`."""
    return field(default=default, metadata={"low": low, "high": high, "low_open": low_open})


def _choice(default, choices):
    return field(default=default, metadata={"choices": tuple(choices)})


def _list(default, *, low=None, choices=None, nonempty=True):
    return field(
        default_factory=lambda: list(default),
        metadata={"item_low": low, "item_choices": choices, "nonempty": nonempty},
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
    names: list[str] = _list(["relu", "sigmoid", "tanh"], choices=("relu", "sigmoid", "tanh"))
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
