"""Stage `greedy_few_labels@<dataset>`: autoencoder pretraining vs supervised, on n labels."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import write_csv, write_json, write_switched_off
from layerwise.stage import stage_main
from layerwise.studies.greedy import few_labels


def add_arguments(parser):
    parser.add_argument("name", help="a dataset listed in greedy.few_labels.datasets")


def main(cfg, args):
    out = Path("results/greedy_few_labels") / args.name
    if not cfg.greedy.few_labels.enabled:
        write_switched_off(out, ("replicas.csv", "sizes.csv"))
        return
    if args.name not in cfg.datasets:
        raise UserError(f"unknown dataset {args.name!r} (allowed: {', '.join(cfg.datasets)})")
    dataset = data.load(Path("data") / f"{args.name}.npz")
    result = few_labels.run(cfg, dataset)
    write_csv(out / "replicas.csv", result.replicas)
    write_csv(out / "sizes.csv", result.sizes)
    write_json(out / "metrics.json", {"enabled": True, "dataset": args.name, **result.metrics})


def describe(cfg, args):
    f = cfg.greedy.few_labels
    if not f.enabled:
        return "switched off (greedy.few_labels.enabled = false)"
    sizes = ", ".join(str(n) if n else "all" for n in f.n_labelled)
    return f"{args.name}: {f.repeats} replicas, labelled rows {sizes}"


if __name__ == "__main__":
    stage_main(
        "greedy_few_labels",
        main,
        add_arguments=add_arguments,
        describe=describe,
        instance=lambda args: f"greedy_few_labels@{args.name}",
    )
