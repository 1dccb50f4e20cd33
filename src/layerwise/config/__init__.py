"""The whole configuration: one typed schema for Hydra's composition and for params.yaml.

The schema is assembled here from the shared sections (`pipeline.schema`) and each study's
own section (`config/<study>.py`): every stage checks all of params.yaml, so the whole
schema is a dependency of every stage and lives in this one package.
`hydra_plugins/layerwise/` registers `Config` in Hydra's ConfigStore, so
`dvc exp run -S baseline.epochs=abc` fails while composing. Stages load params.yaml
through `load_params`, which merges it into the same schema and then checks the ranges
and choices declared on each field and every study's cross-field rules, so a hand edit
fails with one line naming the key and what is allowed.

A csv dataset's bounds need its file's content (config/datasets.py): `to_config` and
`load_params` read the file when given the folder it is relative to (`data_root`), which
the `check` stage and the composition command do; the other stages pass None.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from layerwise.config.baseline import BaselineConfig, check_baseline
from layerwise.config.datasets import (
    check_csv_batches,
    check_dataset_entries,
    dataset_configs,
    dataset_shapes,
)
from layerwise.config.ensembles import EnsemblesConfig, check_ensemble_budgets, check_ensembles
from layerwise.config.greedy import GreedyConfig, check_few_labels, check_greedy_memory
from layerwise.config.transfer import TransferConfig, check_transfer, check_transfer_memory
from layerwise.pipeline.errors import DataFileError, UserError
from layerwise.pipeline.schema import (
    SEED_MAX,
    DataConfig,
    ModelConfig,
    OptimizerConfig,
    check_ranges,
    find_renamed,
    missing_keys,
    number_field,
    omegaconf_message,
)

# each study's rules that span fields (and may look at the shared sections), then the
# bounds that follow from the data and the machine (names are known to exist by then);
# each is called with the config and the shapes of its datasets (`dataset_shapes`)
STUDY_CHECKS = (
    check_few_labels,
    check_transfer,
    check_ensembles,
    check_greedy_memory,
    check_transfer_memory,
    check_ensemble_budgets,
)


@dataclass
class Config:
    preset: str = "book"  # the experiment/ preset this configuration came from
    # conf/config.yaml sets it through the `layerwise_check` resolver, which checks the
    # whole composition while Hydra composes (see register_schema); always true
    checked: bool = True
    seed: int = number_field(0, low=0, high=SEED_MAX)
    data: DataConfig = field(default_factory=DataConfig)
    # name -> one of pipeline.schema's DATASET_CONFIGS, by the entry's `kind`. Hydra cannot
    # type a dict's values as one of several dataclasses: loose here, converted by
    # `to_config` (config.datasets.dataset_configs), which refuses a key of another kind
    datasets: dict[str, Any] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    greedy: GreedyConfig = field(default_factory=GreedyConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)
    ensembles: EnsemblesConfig = field(default_factory=EnsemblesConfig)


def check_config(cfg: Config, data_root: str | Path | None = ".") -> Config:
    """Ranges and choices field by field, then the rules that span fields. A csv dataset's
    file is read under `data_root`; with None, the bounds that need it are left out.
    `cfg.datasets` holds each kind's dataclass (`to_config` converts them)."""
    check_ranges(cfg)
    if cfg.data.name not in cfg.datasets:
        raise UserError(
            f"data.name = {cfg.data.name!r} is not a dataset "
            f"(allowed: {', '.join(sorted(cfg.datasets))})"
        )
    check_dataset_entries(cfg)
    shapes = dataset_shapes(cfg, data_root)
    check_csv_batches(cfg, shapes)
    check_baseline(cfg, shapes)
    for check in STUDY_CHECKS:
        check(cfg, shapes)
    return cfg


# the folder a csv dataset's file is read under while Hydra composes: None (the default:
# `dvc exp run` leaves the data files to the check stage, which depends on them) or the
# repository, for the composition command (`compose_checked`), which then checks once
CHECK_DATA_ROOT: ContextVar[Path | None] = ContextVar("layerwise_check_data_root", default=None)


@functools.cache
def register_schema() -> None:
    """Make `schema` (this Config) available to Hydra's defaults lists, and register the
    `layerwise_check` resolver that conf/config.yaml's `checked` key calls (once per
    process: both live in process-wide registries)."""
    from hydra.core.config_store import ConfigStore

    node = OmegaConf.structured(Config)
    # every section open to new keys, so that Hydra lets an unknown key through to the
    # `checked` resolver, whose one line names what is allowed: a key of another dataset
    # kind (`-S datasets.blobs.path=x`), a renamed key (`-S baseline.n_replicas=5` names
    # `baseline.repeats`), a typo (with the section's keys). Types are still Hydra's.
    _open_sections(node)
    ConfigStore.instance().store(name="schema", node=node)
    OmegaConf.register_new_resolver("layerwise_check", _check_composition, replace=True)


def _open_sections(node) -> None:
    """Open every mapping below `node` (each nested dataclass carries its own flag)."""
    for key in node:
        child = node[key]
        if OmegaConf.is_dict(child):
            OmegaConf.set_struct(child, False)
            _open_sections(child)


def _check_composition(*, _root_) -> bool:
    """Every check of the schema on the composed configuration, while it is composed.

    `dvc exp run` composes conf/ (resolving interpolations, so calling this) before it
    touches the workspace: a refused value stops it there, before DVC checks out the
    workspace for the new pipeline. That matters where params shape the pipeline itself:
    shrinking `greedy.few_labels.datasets` would otherwise have DVC drop the outputs of
    the `greedy_few_labels@...` stages it no longer has, before the `check` stage runs.
    """
    raw = OmegaConf.to_container(_root_, resolve=False)
    raw["checked"] = True  # this key itself, which is being resolved
    # data files are the check stage's to read (it depends on them): not read here, unless
    # the composition command asks (CHECK_DATA_ROOT)
    to_config(raw, "composed conf/", data_root=CHECK_DATA_ROOT.get())
    return True


def to_config(raw: dict, source: str = "params.yaml", data_root: str | Path | None = ".") -> Config:
    """Merge a plain dict into the schema, build the dataclasses and check them (a csv
    dataset's file read under `data_root`, see `check_config`).

    Every key of the schema must be present: params.yaml is a composition of conf/, so a
    missing key is a damaged file, not a request for the schema's (full-size) default.
    """
    renamed = find_renamed(raw)
    if renamed is not None:
        raise UserError(f"{source}: {renamed}")
    missing = missing_keys(Config, raw)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise UserError(
            f"{source}: key '{missing[0]}' is missing{more} (allowed: every key of the "
            "schema; params.yaml is composed from conf/: run `make params` or `dvc exp run`)"
        )
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Config), raw)
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise UserError(omegaconf_message(err, source, Config)) from err
    try:
        cfg.datasets = dataset_configs(cfg.datasets)
        return check_config(cfg, data_root)
    except DataFileError:  # names the data file at fault, not the params file
        raise
    except UserError as err:
        raise UserError(f"{source}: {err}") from err


def load_params(path: str | Path = "params.yaml", data_root: str | Path | None = ".") -> Config:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found (run from the repository root, or pass --params)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from err
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of sections at the top level")
    return to_config(raw, str(path), data_root)


def as_dict(cfg: Config) -> dict:
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)


def schema_sources() -> list[Path]:
    """The files that define the schema: this module and every module holding one of its
    section classes (pipeline.schema, each study's config)."""
    found, todo = {Path(__file__)}, [Config]
    while todo:
        cls = todo.pop()
        found.add(Path(inspect.getsourcefile(cls)))
        for hint in typing.get_type_hints(cls).values():
            for arg in (hint, *typing.get_args(hint)):
                if dataclasses.is_dataclass(arg):
                    todo.append(arg)
    return sorted(found)
