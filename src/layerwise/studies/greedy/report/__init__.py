"""The report's greedy layer-wise pretraining section, written from the stages' outputs and
the claims: one module per part (supervised, unsupervised, the extensions)."""

from __future__ import annotations

from layerwise.pipeline.io import read_json
from layerwise.reporting import markdown as rp
from layerwise.studies.greedy.report.extensions import (
    activations_part,
    depth_selection_part,
    few_labels_part,
)
from layerwise.studies.greedy.report.supervised import supervised_part
from layerwise.studies.greedy.report.unsupervised import unsupervised_part

GREEDY_STAGES = (
    "greedy_supervised",
    "greedy_unsupervised",
    "greedy_activations",
    "greedy_depth",
    "greedy_few_labels",
)


def greedy_section(ctx: rp.ReportContext) -> str:
    book_data = ctx.cfg.data.name == "blobs"
    parts = [
        "## Greedy layer-wise pretraining",
        "*Does greedy layer-wise pretraining help these networks, and when?*",
    ]
    if (ctx.results / "greedy_supervised" / "replicas.csv").is_file():
        parts += supervised_part(ctx, book_data)
    if (ctx.results / "greedy_unsupervised" / "replicas.csv").is_file():
        parts += unsupervised_part(ctx, book_data)
    if (ctx.results / "greedy_activations" / "metrics.json").is_file():
        parts += activations_part(ctx)
    if (ctx.results / "greedy_depth" / "metrics.json").is_file():
        parts += depth_selection_part(ctx)
    parts += few_labels_part(ctx)
    for stage in GREEDY_STAGES:  # one sentence per stage whose replicas diverged somewhere
        for path in sorted((ctx.results / stage).glob("**/metrics.json")):
            note = rp.diverged_note(read_json(path), "replicas")
            if note:
                where = path.parent.relative_to(ctx.results).as_posix()
                parts.append(f"`{where}`: {note}")
    if not book_data and ctx.cfg.data.name != "cifar10":
        parts.append(f"The references publish no greedy numbers for {ctx.cfg.data.name}.")
    return "\n\n".join(parts)
