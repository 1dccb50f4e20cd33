"""Stage `data`: build every dataset of params.yaml's `datasets` section (data/<name>.npz)
and its preview figure (data/<name>.png), the csv dataset from the user's own file
(datasets.csv.path, a dependency of this stage). One stage for all of them: each costs a
fraction of a second, less than starting a process, and a file rebuilt with the same bytes
reruns nothing downstream."""

from pathlib import Path

from layerwise.pipeline import data
from layerwise.pipeline.errors import UserError
from layerwise.reporting import figures
from layerwise.stage import stage_main


def add_arguments(parser):
    parser.add_argument(
        "names", nargs="*", help="keys of the `datasets` section to build (default: all)"
    )


def main(cfg, args):
    unknown = [n for n in args.names if n not in cfg.datasets]
    if unknown:
        raise UserError(
            f"unknown dataset {unknown[0]!r} (allowed: {', '.join(sorted(cfg.datasets))})"
        )
    for name in args.names or cfg.datasets:
        spec = cfg.datasets[name]
        dataset = data.build(spec)
        data.save(dataset, Path("data") / f"{name}.npz")
        figures.dataset_preview(dataset, name, Path("data") / f"{name}.png")
        what = spec.kind
        if spec.kind == "csv":
            what += (
                f" ({spec.path}, target {spec.target!r}: {dataset.n_classes} classes, "
                f"{dataset.n_features} features)"
            )
        print(f"  {name}: {what}, {len(dataset.y_train)} train rows", flush=True)


def describe(cfg, args):
    return f"datasets {', '.join(args.names or cfg.datasets)}"


if __name__ == "__main__":
    stage_main("data", main, add_arguments=add_arguments, describe=describe)
