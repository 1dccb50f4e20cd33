"""Markdown helpers every report section uses: number formats, tables, images, and the
context a section is written from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from layerwise.pipeline.stats import within_range


@dataclass
class ReportContext:
    cfg: Any  # the whole configuration (layerwise.config.Config); a section reads its part
    results: Path
    data: Path
    figures: Path  # reports/figures
    overrides: list[str]

    def figure(self, name: str) -> tuple[Path, str]:
        """(file to write, link to use in report.md) for a figure called `name`."""
        return self.figures / name, f"figures/{name}"


def fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def ci(summary: dict) -> str:
    return f"{fmt(summary['ci_low'])}–{fmt(summary['ci_high'])}"


def summary_row(label: str, summary: dict, reference: float | None) -> dict:
    """One table row: our distribution over repeats beside the published number."""
    row = {
        "": label,
        "mean ± std": f"{fmt(summary['mean'])} ± {fmt(summary['std'])}",
        "95% CI": ci(summary),
        "min–max": f"{fmt(summary['min'])}–{fmt(summary['max'])}",
        "published": "–" if reference is None else fmt(reference),
    }
    if reference is None:
        row["published within our range?"] = "–"
    else:
        row["published within our range?"] = "yes" if within_range(reference, summary) else "**no**"
    return row


def table(rows: list[dict]) -> str:
    return pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True)


def image(link: str, alt: str) -> str:
    return f"![{alt}]({link})"
