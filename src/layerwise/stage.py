"""The entry point every stage script calls: the pipeline's stage runner bound to this
project's configuration (load and check params.yaml; name the overrides in the header)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from layerwise.config import Config, as_dict, load_params
from layerwise.config.compose import overrides_of
from layerwise.pipeline.runner import run_stage


def overrides_note(cfg: Config) -> str:
    """', overrides: a=1 b=2' against the preset, or '' (also when conf/ is not at hand)."""
    if not Path("conf/config.yaml").is_file():
        return ""
    try:
        found = overrides_of(as_dict(cfg), cfg.preset)
    except Exception:  # an unknown preset name: the header is no place to fail
        return ""
    return f"; overrides: {' '.join(found)}" if found else ""


def stage_main(stage: str, run, *, read_data_files: bool = False, **options) -> None:
    """`pipeline.runner.run_stage` with this project's params loader and header note.

    `read_data_files`: check the bounds that need a csv dataset's file (only the `check`
    stage does: the file is among its dependencies, not among those of the stages after
    it, and it is checked there before any of them runs)."""
    load = partial(load_params, data_root="." if read_data_files else None)
    run_stage(stage, run, load=load, note=overrides_note, **options)
