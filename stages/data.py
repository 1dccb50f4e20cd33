"""Stage `data@<name>`: build one dataset file (data/<name>.npz) and its preview figure."""

from pathlib import Path

from layerwise import data, plots
from layerwise.cli import stage_main
from layerwise.errors import UserError


def add_arguments(parser):
    parser.add_argument("name", help="a key of the `datasets` section of params.yaml")


def main(cfg, args):
    if args.name not in cfg.datasets:
        raise UserError(f"unknown dataset {args.name!r} (allowed: {', '.join(cfg.datasets)})")
    dataset = data.build(cfg.datasets[args.name])
    data.save(dataset, Path("data") / f"{args.name}.npz")
    plots.dataset_preview(dataset, args.name, Path("data") / f"{args.name}.png")


def describe(cfg, args):
    spec = cfg.datasets.get(args.name)
    return f"dataset {args.name} ({spec.kind if spec else '?'})"


if __name__ == "__main__":
    stage_main(
        "data",
        main,
        add_arguments=add_arguments,
        describe=describe,
        instance=lambda args: f"data@{args.name}",
    )
