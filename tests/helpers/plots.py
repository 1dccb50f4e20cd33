"""The plots dvc.yaml declares for `dvc plots show` / `dvc plots diff` (top-level `plots:`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from .commands import ROOT


def declared_plots(repo: Path = ROOT) -> dict[str, dict]:
    """id -> definition (x, y, template, labels; {} for a plot named by its file alone)."""
    plots = yaml.safe_load((repo / "dvc.yaml").read_text())["plots"]
    entries = [p if isinstance(p, dict) else {p: {}} for p in plots]
    return {name: definition or {} for entry in entries for name, definition in entry.items()}
