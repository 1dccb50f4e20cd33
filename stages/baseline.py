"""Stage `baseline`: train the baseline MLP as R replicas; write metrics, curves, models."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.io import save_keras, write_csv, write_json
from layerwise.stage import stage_main

OUT = Path("results/baseline")


def main(cfg, args):
    dataset = data.load(Path("data") / f"{cfg.data.name}.npz")
    # these import TensorFlow: only once the inputs are known good
    from layerwise.pipeline.models import save_replicas
    from layerwise.studies.baseline import run as baseline

    result = baseline.run(cfg, dataset)
    write_csv(OUT / "curves.csv", result.curves)
    write_csv(OUT / "replicas.csv", result.replicas)
    save_replicas(result.model, OUT / "replicas.npz")
    save_keras(result.model.to_keras(0), OUT / "model.keras")
    write_json(OUT / "metrics.json", result.metrics)


def describe(cfg, args):
    hidden = "-".join(map(str, cfg.model.hidden_units))
    return (
        f"{cfg.baseline.repeats} replicas of an MLP ({hidden} hidden, {cfg.model.activation})"
        f" on {cfg.data.name}, {cfg.optimizer.name}, {cfg.baseline.epochs} epochs"
    )


if __name__ == "__main__":
    stage_main("baseline", main, describe=describe)
