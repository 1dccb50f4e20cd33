"""Claims for results a test built itself: what the claims stage would write next to them
(results/claims/detail.json), so that a report section can read its claims."""

from __future__ import annotations

from pathlib import Path

from layerwise import claims
from layerwise.pipeline.io import write_json


def write_claims(cfg, results: Path) -> dict:
    """Compute every claim from `results` and write results/claims/detail.json; return it."""
    detail = claims.collect(cfg, Path(results)).detail()
    write_json(Path(results) / "claims" / "detail.json", detail)
    return detail
