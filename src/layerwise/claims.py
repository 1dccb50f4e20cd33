"""Every study's claims (see `pipeline.claims`), computed once from the stages' results:
results/claims/detail.json for the report and the sweep report, and the headline effects
and verdicts in results/claims/claims.json for `dvc exp show`. Trains nothing and imports
no TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

from layerwise.pipeline.claims import Claims
from layerwise.studies.baseline import claims as baseline
from layerwise.studies.ensembles import claims as ensembles
from layerwise.studies.greedy import claims as greedy
from layerwise.studies.transfer import claims as transfer

STUDIES = (baseline, greedy, transfer, ensembles)  # in the report's reading order


def collect(cfg, results: Path) -> Claims:
    """The claims of every study whose results are present."""
    out = Claims()
    for study in STUDIES:
        out.extend(study.claims(cfg, results))
    return out
