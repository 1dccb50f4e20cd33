"""reports/report.md: assembled from the stages' outputs only (it trains nothing).

Each study contributes a section function `(ReportContext) -> markdown` from its own
`report` module; `sections()` lists them in reading order.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

from layerwise.config import as_dict
from layerwise.pipeline import data
from layerwise.pipeline.io import atomic_path, read_json
from layerwise.reporting.markdown import ReportContext, image, table
from layerwise.studies.baseline.report import baseline_section
from layerwise.studies.ensembles.report import ensembles_section
from layerwise.studies.greedy.report import greedy_section
from layerwise.studies.transfer.report import transfer_section


def data_section(ctx: ReportContext) -> str:
    name = ctx.cfg.data.name
    src = ctx.data / f"{name}.png"
    path, link = ctx.figure(f"data_{name}.png")
    shutil.copyfile(src, path)
    spec = ctx.cfg.datasets[name]
    if spec.kind == "csv":  # the rows, classes and features are the file's
        built = data.load(ctx.data / f"{name}.npz")
        classes = ", ".join(built.class_names[:20]) + (", ..." if built.n_classes > 20 else "")
        text = (
            f"The baseline trains on **{name}**, the table `{spec.path}` (csv; column "
            f"`{spec.target}` holds the class: {built.n_classes} classes, {classes}; "
            f"{built.n_features} feature columns; {len(built.y_train)} training rows, "
            f"{len(built.y_test)} test rows, stratified; scaling: {spec.scale})."
        )
    else:
        text = (
            f"The baseline trains on **{name}** ({spec.kind}; {spec.n_train} training rows, "
            f"{spec.n_samples - spec.n_train} test rows, scaling: {spec.scale})."
        )
    return "\n\n".join(["## Data", text, image(link, f"{name} dataset")])


def sections() -> list[Callable[[ReportContext], str]]:
    """Every section in reading order."""
    return [data_section, baseline_section, greedy_section, transfer_section, ensembles_section]


def configuration_section(ctx: ReportContext) -> str:
    overrides = ", ".join(f"`{o}`" for o in ctx.overrides) if ctx.overrides else "none"
    return "\n\n".join(
        [
            "## Configuration",
            f"Preset **{ctx.cfg.preset}**; overrides of that preset: {overrides}.",
            "<details><summary>params.yaml as run</summary>\n\n```yaml\n"
            + yaml.safe_dump(as_dict(ctx.cfg), sort_keys=False)
            + "```\n</details>",
        ]
    )


def environment_section(ctx: ReportContext) -> str:
    timings = sorted((ctx.results / "timing").glob("*.json"))
    records = [read_json(p) for p in timings]
    rows = [{"stage": r["stage"], "wall time (s)": f"{r['wall_seconds']:.1f}"} for r in records]
    versions = records[0]["versions"] if records else {}
    version_rows = [{"package": k, "version": v} for k, v in versions.items()]
    return "\n\n".join(
        [
            "## Run",
            "Wall time of each stage's last run (a stage DVC skipped keeps its earlier time):",
            table(rows),
            "Package versions:",
            table(version_rows),
        ]
    )


def build(ctx: ReportContext, path: Path) -> None:
    ctx.figures.mkdir(parents=True, exist_ok=True)
    parts = [
        "# Layer-wise pretraining, transfer and ensembles of small MLPs: the study's report",
        "Every number below was computed by the pipeline run that wrote this file. "
        "Where the reference publishes a number, it stands beside ours; the reference "
        "reports single runs, we report the distribution over repeats.",
    ]
    parts += [section(ctx) for section in sections()]
    parts += [configuration_section(ctx), environment_section(ctx)]
    with atomic_path(path) as tmp:
        tmp.write_text("\n\n".join(parts) + "\n")
