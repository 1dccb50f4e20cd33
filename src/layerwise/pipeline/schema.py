"""The building blocks of the typed configuration: fields with declared ranges and choices,
the sections every study shares (a dataset of each kind, model, optimizer), the range
checks and the one-line messages for what OmegaConf refuses."""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from layerwise.pipeline.errors import UserError


def number_field(default, *, low=None, high=None, low_open=False, high_open=False):
    """A numeric field with an allowed range (bounds included unless `*_open`), checked
    by `check_ranges`."""
    bounds = {"low": low, "high": high, "low_open": low_open, "high_open": high_open}
    return field(default=default, metadata=bounds)


def choice_field(default, choices):
    return field(default=default, metadata={"choices": tuple(choices)})


def list_field(default, *, low=None, choices=None, nonempty=True, unique=False):
    return field(
        default_factory=lambda: list(default),
        metadata={
            "item_low": low,
            "item_choices": choices,
            "nonempty": nonempty,
            "unique": unique,
        },
    )


SEED_MAX = 2**32 - 1  # the largest seed NumPy and scikit-learn accept
SCALINGS = ("none", "standard", "unit")


# Each dataset kind is its own section with only the keys that kind reads, `kind` first.
# Hydra cannot type a dict's values as one of several dataclasses, so `Config.datasets`
# is loose for Hydra and `dataset_config` converts each entry by its `kind`, refusing a
# key of another kind with one line.


@dataclass
class BlobsConfig:
    """make_blobs(n_samples, centers=3, n_features=2, cluster_std, random_state): its
    first n_train rows train, the rest test."""

    kind: str = "blobs"
    n_samples: int = number_field(1000, low=3)
    n_train: int = number_field(500, low=1)
    random_state: int = number_field(2, low=0, high=SEED_MAX)  # NumPy takes 32 bits
    cluster_std: float = number_field(2.0, low=0.0, low_open=True)
    scale: str = choice_field("none", SCALINGS)  # statistics from the training split only


@dataclass
class DigitsConfig:
    """scikit-learn's digits: the first n_samples rows, n_train of them to train
    (stratified split, seeded by random_state)."""

    kind: str = "digits"
    n_samples: int = number_field(1797, low=3)
    n_train: int = number_field(1200, low=1)
    random_state: int = number_field(2, low=0, high=SEED_MAX)
    scale: str = choice_field("standard", SCALINGS)


@dataclass
class Mnist1dConfig:
    """mnist1d.make_dataset with n_samples rows, n_train of them to train, seed
    random_state."""

    kind: str = "mnist1d"
    n_samples: int = number_field(5000, low=3)
    n_train: int = number_field(4000, low=1)
    random_state: int = number_field(42, low=0, high=SEED_MAX)
    scale: str = choice_field("none", SCALINGS)


@dataclass
class Cifar10Config:
    """CIFAR-10: the first n_train training images, and the first n_samples - n_train
    test images."""

    kind: str = "cifar10"
    n_samples: int = number_field(60000, low=3)
    n_train: int = number_field(50000, low=1)
    scale: str = choice_field("unit", SCALINGS)
    source: str = ""  # a folder in CIFAR-10's python format; empty: keras downloads it


@dataclass
class CsvConfig:
    """The user's table (layerwise.pipeline.tabular), split stratified by class."""

    kind: str = "csv"
    path: str = ""  # a CSV file with a header line, relative to the repository root
    target: str = ""  # the column holding each row's class
    features: list[str] = list_field([], nonempty=False, unique=True)  # [] = every other
    test_fraction: float = number_field(0.3, low=0.0, high=1.0, low_open=True, high_open=True)
    random_state: int = number_field(2, low=0, high=SEED_MAX)  # scikit-learn takes 32 bits
    scale: str = choice_field("standard", SCALINGS)


DATASET_CONFIGS = {
    "blobs": BlobsConfig,
    "digits": DigitsConfig,
    "mnist1d": Mnist1dConfig,
    "cifar10": Cifar10Config,
    "csv": CsvConfig,
}
DATASET_KINDS = tuple(DATASET_CONFIGS)
# one dataset file written by the `data` stage (data/<name>.npz)
DatasetConfig = BlobsConfig | DigitsConfig | Mnist1dConfig | Cifar10Config | CsvConfig


def dataset_keys(kind: str) -> list[str]:
    return [f.name for f in dataclasses.fields(DATASET_CONFIGS[kind])]


def dataset_config(name: str, raw: Any) -> DatasetConfig:
    """`datasets.<name>` (a plain dict) as its kind's dataclass; raise UserError with one
    line for an entry that is not a mapping, an unknown kind, a key missing or a key its
    kind does not read, and a value of the wrong type (ranges: `check_ranges`)."""
    key = f"datasets.{name}"
    kinds = ", ".join(DATASET_KINDS)
    if not isinstance(raw, dict):
        raise UserError(f"{key} = {raw!r} is not a mapping (allowed: kind and that kind's keys)")
    if "kind" not in raw:
        raise UserError(f"key '{key}.kind' is missing (allowed: {kinds})")
    kind = raw["kind"]
    if kind not in DATASET_KINDS:
        raise UserError(f"{key}.kind = {kind!r} is not allowed (allowed: {kinds})")
    _check_dataset_keys(key, kind, list(raw))
    schema = DATASET_CONFIGS[kind]
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), raw))
    except OmegaConfBaseException as err:
        raise UserError(omegaconf_detail(err, schema, prefix=f"{key}.")) from err


def _check_dataset_keys(key: str, kind: str, given: list[str]) -> None:
    allowed = dataset_keys(kind)
    listed = ", ".join(allowed)
    foreign = [k for k in given if k not in allowed]
    missing = [k for k in allowed if k not in given]
    if not foreign and not missing:
        return
    # the keys of another kind, all of them: the kind was changed (or keys of that kind
    # added); say everything to do at once. A kind changed to one with more keys only
    # misses some: the missing-key line names them.
    others = [k for k in DATASET_KINDS if k != kind and set(dataset_keys(k)) == set(given)]
    if others and foreign:
        todo = f"remove {', '.join(foreign)}"
        if missing:
            todo += f" and set {', '.join(missing)}"
        raise UserError(
            f"{key} has the keys of a {' or '.join(others)} dataset but kind = {kind!r}: "
            f"{todo} (allowed: every key of kind {kind}: {listed})"
        )
    if foreign:
        name = foreign[0]
        owners = [k for k in DATASET_KINDS if name in dataset_keys(k)]
        if not owners:
            raise UserError(f"unknown key '{key}.{name}' (allowed: {listed})")
        raise UserError(
            f"{key}.{name}: '{name}' is a key of {_words(owners)} datasets, not of {kind} "
            f"(allowed: {listed})"
        )
    raise UserError(
        f"key '{key}.{missing[0]}' is missing (allowed: every key of kind {kind}: {listed})"
    )


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass
class DataConfig:
    """Which dataset the baseline (and the studies that start from it) trains on."""

    name: str = "blobs"


ACTIVATION_CHOICES = ("relu", "sigmoid", "tanh", "linear")
INITIALIZER_CHOICES = ("he_uniform", "glorot_uniform")


@dataclass
class ModelConfig:
    hidden_units: list[int] = list_field([10], low=1)
    activation: str = choice_field("relu", ACTIVATION_CHOICES)
    initializer: str = choice_field("he_uniform", INITIALIZER_CHOICES)


@dataclass
class OptimizerConfig:
    name: str = choice_field("sgd", ("sgd", "adam"))
    learning_rate: float = number_field(0.01, low=0.0, low_open=True)
    momentum: float = number_field(0.9, low=0.0, high=1.0)
    beta_1: float = number_field(0.9, low=0.0, high=1.0, high_open=True)
    beta_2: float = number_field(0.999, low=0.0, high=1.0, high_open=True)
    epsilon: float = number_field(1e-7, low=0.0, low_open=True)


def _describe_range(meta) -> str:
    low, high = meta.get("low"), meta.get("high")
    low_open, high_open = meta.get("low_open"), meta.get("high_open")
    if low is not None and high is not None and not (low_open or high_open):
        return f"a number from {low} to {high}"
    bounds = []
    if low is not None:
        bounds.append(f"> {low}" if low_open else f">= {low}")
    if high is not None:
        bounds.append(f"< {high}" if high_open else f"<= {high}")
    return "a number " + " and ".join(bounds)


def _check_value(key: str, value: Any, meta) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{key} = {value!r} is not a finite number (allowed: a finite number)")
    if meta.get("choices") is not None and value not in meta["choices"]:
        raise UserError(f"{key} = {value!r} is not allowed (allowed: {', '.join(meta['choices'])})")
    low, high = meta.get("low"), meta.get("high")
    if low is not None and (value < low or (meta.get("low_open") and value == low)):
        raise UserError(f"{key} = {value!r} is out of range (allowed: {_describe_range(meta)})")
    if high is not None and (value > high or (meta.get("high_open") and value == high)):
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
        elif meta or isinstance(value, float):  # no float key may be NaN or infinite
            _check_value(key, value, meta)


def missing_keys(schema: type, raw: Any, prefix: str = "") -> list[str]:
    """The schema's keys that `raw` (a plain dict, as read from params.yaml) lacks, as
    dotted names; the entries of dict-valued sections are checked against their type."""
    if not isinstance(raw, dict):
        return []  # a wrong type: OmegaConf names it
    hints = typing.get_type_hints(schema)
    missing = []
    for f in dataclasses.fields(schema):
        key = prefix + f.name
        if f.name not in raw:
            missing.append(key)
            continue
        hint, value = hints[f.name], raw[f.name]
        if dataclasses.is_dataclass(hint):
            missing += missing_keys(hint, value, key + ".")
        elif typing.get_origin(hint) is dict and isinstance(value, dict):
            item = typing.get_args(hint)[1]
            if dataclasses.is_dataclass(item):
                for name, entry in value.items():
                    missing += missing_keys(item, entry, f"{key}.{name}.")
    return missing


TYPE_WORDS = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}


# keys the schema has renamed: old name -> the name it has now, in whichever section. A
# preset, override or params.yaml with the old name is refused in one line naming the new
# (`to_config` looks for them first; Hydra lets them through, every section being open).
RENAMED = {"n_replicas": "repeats"}  # one name for the repeats of every study


def renamed_key(key: str) -> str | None:
    """The one-line refusal of `key` (dotted) when its last part is a renamed key."""
    parent, _, leaf = key.rpartition(".")
    new = RENAMED.get(leaf)
    if new is None:
        return None
    where = f"{parent}.{new}" if parent else new
    return f"'{key}' is now called '{where}': rename it"


def find_renamed(raw: dict, prefix: str = "") -> str | None:
    """The refusal of the first renamed key anywhere in `raw` (a params.yaml), or None."""
    for key, value in raw.items():
        renamed = renamed_key(f"{prefix}{key}")
        if renamed is not None:
            return renamed
        if isinstance(value, dict):
            found = find_renamed(value, f"{prefix}{key}.")
            if found is not None:
                return found
    return None


def omegaconf_message(err: OmegaConfBaseException, source: str, schema: type) -> str:
    return f"{source}: {omegaconf_detail(err, schema)}"


def omegaconf_detail(err: OmegaConfBaseException, schema: type, prefix: str = "") -> str:
    """What OmegaConf refused, in one line; `prefix`: where `schema` sits in the whole."""
    inner = getattr(err, "full_key", None) or "?"
    key = prefix + inner
    if isinstance(err, ConfigKeyError):
        parent = inner.rsplit(".", 1)[0] if "." in inner else ""
        node = OmegaConf.structured(schema)
        allowed = []
        try:
            target = OmegaConf.select(node, parent) if parent else node
            allowed = list(target.keys()) if target is not None else []
        except OmegaConfBaseException:
            pass
        hint = f" (allowed: {', '.join(map(str, allowed))})" if allowed else ""
        return f"unknown key '{key}'{hint}"
    if isinstance(err, ValidationError):
        value = getattr(err, "value", None)
        message = (err.msg or str(err)).splitlines()[0]
        if "could not be converted to" in message:
            wanted = message.rsplit("could not be converted to", 1)[1].strip(" .")
            wanted = TYPE_WORDS.get(wanted, wanted)
            return f"{key} = {value!r} has the wrong type (allowed: {wanted})"
        return f"{key}: {message}"
    return (err.msg or str(err)).splitlines()[0]
