"""The baseline's claim: our replicas reproduce the reference's published single run."""

from __future__ import annotations

from pathlib import Path

from layerwise.pipeline import effects
from layerwise.pipeline.claims import AGREE, Claim, Claims
from layerwise.pipeline.io import read_csv
from layerwise.studies.baseline import published


def published_numbers(cfg) -> dict:
    """The reference's numbers for this run's data: the book's blobs only."""
    return published.BASELINE if cfg.data.name == "blobs" else {}


def claims(cfg, results: Path) -> Claims:
    out = Claims()
    path = results / "baseline" / "replicas.csv"
    if not path.is_file():
        return out
    replicas = read_csv(path)
    refs = published_numbers(cfg)
    for split, headline in (("test", True), ("train", False)):
        metric = f"{split}_accuracy"
        if metric not in refs:
            continue
        out.add(
            Claim(
                name=f"baseline.{split}_vs_published",
                statement=f"our single runs' {split} accuracy agrees with the reference's "
                "published single run",
                a="ours",
                b="published",
                metric=metric,
                effect=effects.single_run_vs_published(
                    replicas[metric], refs[metric], metric=metric
                ),
                direction=AGREE,
                headline=headline,
            )
        )
    return out
