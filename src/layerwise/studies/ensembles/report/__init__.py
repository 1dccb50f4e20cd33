"""The report's ensembles section: the one-budget comparison of every method, then each
method at its own chapter's settings."""

from __future__ import annotations

from layerwise.reporting.markdown import ReportContext
from layerwise.studies.ensembles.report.compare import compare_part
from layerwise.studies.ensembles.report.methods import methods_part


def ensembles_section(ctx: ReportContext) -> str:
    parts = compare_part(ctx) + methods_part(ctx)
    if not parts:
        return "## Ensembles\n\nNo ensemble stage has run."
    question = "*Which way of combining networks buys the most accuracy per unit of training?*"
    return "\n\n".join(["## Ensembles", question, *parts])
