"""Stage `transfer`: standalone vs transfer arms over repeats, both protocols, every case."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.io import write_csv, write_json
from layerwise.stage import stage_main
from layerwise.studies.transfer import runs, sources, summary

SOURCES = Path("results/transfer_source/models")
OUT = Path("results/transfer")


def load_inputs(cfg):
    """Source and target problems from the data files, the saved source models."""
    t = cfg.transfer
    specs = dict(t.source.problems)
    specs.update(t.cases)  # a case's target problem goes by the case's name
    problems = {
        name: sources.make_problem(
            name, data.load(Path("data") / f"{spec.dataset}.npz"), spec.classes
        )
        for name, spec in specs.items()
    }
    models = {
        name: sources.load_source(SOURCES / f"{name}.keras")
        for name in {case.source for case in t.cases.values()}
    }
    return problems, models


def main(cfg, args):
    problems, models = load_inputs(cfg)
    result = runs.run(cfg, problems, models)
    write_csv(OUT / "replicas.csv", result.replicas)
    write_csv(OUT / "curves.csv", result.curves)
    write_csv(OUT / "speed.csv", summary.wide_curves(result.curves))
    write_json(OUT / "summary.json", result.summary)  # everything the report reads
    write_json(OUT / "metrics.json", summary.headline_metrics(result.summary))


def describe(cfg, args):
    t = cfg.transfer
    return (
        f"{len(t.arm_names())} arms x {t.repeats} repeats x "
        f"{len(t.protocols)} protocols on {', '.join(t.cases)}, {t.epochs} epochs"
    )


if __name__ == "__main__":
    stage_main("transfer", main, describe=describe)
