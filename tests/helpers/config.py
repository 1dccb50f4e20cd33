"""The configuration as `dvc exp run -S ...` composes it, for tests."""

from __future__ import annotations

from .commands import ROOT


def compose_config(*overrides: str):
    """The Config that `dvc exp run -S ...` would produce (schema checks included, the csv
    dataset's file read as the check stage reads it)."""
    from layerwise.config import to_config
    from layerwise.config.compose import compose

    return to_config(compose(list(overrides), ROOT / "conf"), "test composition", ROOT)
