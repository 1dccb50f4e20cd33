"""Stage `greedy_depth`: choose the depth on validation rows (early stop, subsample setting)."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.io import write_csv, write_json, write_switched_off
from layerwise.stage import stage_main
from layerwise.studies.greedy import depth_selection

OUT = Path("results/greedy_depth")


def main(cfg, args):
    if not cfg.greedy.depth_selection.enabled:
        write_switched_off(OUT, ("replicas.csv",))
        return
    dataset = data.load(Path("data") / f"{cfg.data.name}.npz")
    result = depth_selection.run(cfg, dataset)
    write_csv(OUT / "replicas.csv", result.replicas)
    write_json(OUT / "metrics.json", {"enabled": True, **result.metrics})


def describe(cfg, args):
    d = cfg.greedy.depth_selection
    if not d.enabled:
        return "switched off (greedy.depth_selection.enabled = false)"
    return (
        f"{d.repeats} replicas on {cfg.data.name}: patience {d.patience}, up to "
        f"{d.max_additions} additions, validation {d.validation_fraction:.0%} of the "
        f"training rows, subsample {d.subsample_fraction:.0%}"
    )


if __name__ == "__main__":
    stage_main("greedy_depth", main, describe=describe)
