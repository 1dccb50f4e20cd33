"""Stage `transfer_source`: fit the transfer study's source network on every source problem
and save each as a .keras model (its own DVC output: target-side settings do not retrain it)."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.io import save_keras, write_csv, write_json
from layerwise.stage import stage_main
from layerwise.studies.transfer import sources

OUT = Path("results/transfer_source")


def load_problems(cfg):
    """Every source problem, read from the data stage's files."""
    return {
        name: sources.make_problem(
            f"transfer.source.problems.{name}",
            data.load(Path("data") / f"{problem.dataset}.npz"),
            problem.classes,
        )
        for name, problem in cfg.transfer.source.problems.items()
    }


def main(cfg, args):
    result = sources.run_source(cfg, load_problems(cfg))
    for name, model in result.models.items():
        save_keras(model.to_keras(0), OUT / "models" / f"{name}.keras")
    write_csv(OUT / "curves.csv", result.curves)
    write_json(OUT / "metrics.json", result.metrics)


def describe(cfg, args):
    s = cfg.transfer.source
    hidden = "-".join(map(str, s.hidden_units))
    return (
        f"source MLP ({hidden} hidden) on {', '.join(s.problems)}, sgd lr {s.learning_rate}"
        f" momentum {s.momentum}, {s.epochs} epochs"
    )


if __name__ == "__main__":
    stage_main("transfer_source", main, describe=describe)
