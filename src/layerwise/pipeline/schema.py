"""The building blocks of the typed configuration: fields with declared ranges and choices,
the sections every study shares (datasets, model, optimizer), the range checks and the
one-line messages for what OmegaConf refuses."""

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
DATASET_KINDS = ("blobs", "digits", "mnist1d", "cifar10", "csv")
SCALINGS = ("none", "standard", "unit")


@dataclass
class DatasetConfig:
    """One dataset file written by the `data` stage (data/<name>.npz)."""

    kind: str = choice_field("blobs", DATASET_KINDS)
    # blobs: rows generated; csv: unused (the file's rows); others: rows used at most
    n_samples: int = number_field(1000, low=3)
    # blobs: the first n_train rows train; csv: unused (test_fraction); others: training rows
    n_train: int = number_field(500, low=1)
    # blobs: make_blobs seed; digits, csv: split seed (NumPy and scikit-learn take 32 bits)
    random_state: int = number_field(2, low=0, high=SEED_MAX)
    cluster_std: float = number_field(2.0, low=0.0, low_open=True)
    scale: str = choice_field("none", SCALINGS)  # statistics from the training split only
    source: str = ""  # cifar10: a folder in CIFAR-10's python format; empty: keras downloads it
    # csv (layerwise.pipeline.tabular): a CSV file with a header line, relative to the
    # repository root; the column holding each row's class; the numeric feature columns
    # ([] = every other column); the share of rows held out to test, stratified by class
    path: str = ""
    target: str = ""
    features: list[str] = list_field([], nonempty=False, unique=True)
    test_fraction: float = number_field(0.3, low=0.0, high=1.0, low_open=True, high_open=True)


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


def omegaconf_message(err: OmegaConfBaseException, source: str, schema: type) -> str:
    key = getattr(err, "full_key", None) or "?"
    if isinstance(err, ConfigKeyError):
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        node = OmegaConf.structured(schema)
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
