"""Stage `greedy_supervised`: grow the baseline's replicas one hidden layer at a time."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.io import write_csv, write_json
from layerwise.pipeline.models import load_replicas
from layerwise.stage import stage_main
from layerwise.studies.greedy import supervised
from layerwise.studies.greedy.common import wide_table

OUT = Path("results/greedy_supervised")


def main(cfg, args):
    dataset = data.load(Path("data") / f"{cfg.data.name}.npz")
    base = load_replicas(Path("results/baseline/replicas.npz"))
    result = supervised.run(cfg, dataset, base)
    write_csv(OUT / "replicas.csv", result.replicas)
    write_csv(OUT / "depths.csv", result.depths)
    write_csv(OUT / "by_depth.csv", wide_table(result.depths, ("train_accuracy", "test_accuracy")))
    write_json(OUT / "metrics.json", result.metrics)


def describe(cfg, args):
    g = cfg.greedy.supervised
    extras = [
        name for name, on in (("end-to-end control", g.control), ("fine-tuning", g.fine_tune)) if on
    ]
    return (
        f"{g.additions} greedy additions of {g.epochs} epochs from the baseline on "
        f"{cfg.data.name}" + (f", with {' and '.join(extras)}" if extras else "")
    )


if __name__ == "__main__":
    stage_main("greedy_supervised", main, describe=describe)
