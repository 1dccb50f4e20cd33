"""Stage `greedy_unsupervised`: grow an autoencoder greedily, score a classifier head per depth."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.io import write_csv, write_json
from layerwise.stage import stage_main
from layerwise.studies.greedy import unsupervised
from layerwise.studies.greedy.common import wide_table

OUT = Path("results/greedy_unsupervised")


def main(cfg, args):
    dataset = data.load(Path("data") / f"{cfg.data.name}.npz")
    result = unsupervised.run(cfg, dataset)
    write_csv(OUT / "replicas.csv", result.replicas)
    write_csv(OUT / "depths.csv", result.depths)
    write_csv(
        OUT / "by_depth.csv",
        wide_table(result.depths, ("train_mse", "test_mse", "train_accuracy", "test_accuracy")),
    )
    write_json(OUT / "metrics.json", result.metrics)


def describe(cfg, args):
    g = cfg.greedy.unsupervised
    return (
        f"{g.repeats} autoencoder replicas on {cfg.data.name}, {g.additions} greedy "
        f"additions of {g.epochs} epochs, classifier head {g.classifier_epochs} epochs"
    )


if __name__ == "__main__":
    stage_main("greedy_unsupervised", main, describe=describe)
