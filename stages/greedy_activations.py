"""Stage `greedy_activations`: greedy vs end-to-end per activation; gradient norms at init."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.io import write_csv, write_json, write_switched_off
from layerwise.stage import stage_main
from layerwise.studies.greedy import activations

OUT = Path("results/greedy_activations")


def main(cfg, args):
    if not cfg.greedy.activations.enabled:
        write_switched_off(OUT, ("replicas.csv", "depths.csv", "gradients.csv"))
        return
    dataset = data.load(Path("data") / f"{cfg.data.name}.npz")
    result = activations.run(cfg, dataset)
    write_csv(OUT / "replicas.csv", result.study.replicas)
    write_csv(OUT / "depths.csv", result.study.depths)
    write_csv(OUT / "gradients.csv", result.gradients)
    write_json(OUT / "metrics.json", {"enabled": True, **result.study.metrics})


def describe(cfg, args):
    a = cfg.greedy.activations
    if not a.enabled:
        return "switched off (greedy.activations.enabled = false)"
    return (
        f"{', '.join(a.names)}: {a.repeats} replicas, {a.additions} greedy additions"
        f"{' with end-to-end controls' if a.control else ''} on {cfg.data.name}"
    )


if __name__ == "__main__":
    stage_main("greedy_activations", main, describe=describe)
