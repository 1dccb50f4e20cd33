"""Stage `ensemble@<method>`: one ensemble method, repeated; metrics, size sweeps, schedule."""

from pathlib import Path

from layerwise import data, ensemble_methods
from layerwise.cli import stage_main
from layerwise.errors import UserError
from layerwise.io import write_csv, write_json


def add_arguments(parser):
    parser.add_argument("method", help=f"one of: {', '.join(ensemble_methods.METHODS)}")


def main(cfg, args):
    if args.method not in ensemble_methods.METHODS:
        raise UserError(
            f"unknown ensemble method {args.method!r} "
            f"(allowed: {', '.join(ensemble_methods.METHODS)})"
        )
    names = ensemble_methods.datasets_needed(cfg, args.method)
    datasets = {name: data.load(Path("data") / f"{name}.npz") for name in names}
    result = ensemble_methods.run(cfg, args.method, datasets)
    out = Path("results/ensembles") / args.method
    write_csv(out / "members.csv", result.members)
    write_csv(out / "sweep.csv", result.sweep_table())
    write_csv(out / "schedule.csv", result.schedule)
    write_json(out / "metrics.json", result.metrics(cfg))
    for arm in result.arms:
        s = arm.metrics()["test_accuracy"]
        print(
            f"  {arm.label}: test accuracy {s['mean']:.3f} "
            f"(95% CI {s['ci_low']:.3f}-{s['ci_high']:.3f})"
        )


def describe(cfg, args):
    sub = getattr(cfg.ensembles, args.method, None)
    if sub is None:
        return f"ensemble method {args.method}"
    return (
        f"{args.method.replace('_', ' ')} on {sub.dataset}, {sub.repeats} repeats, "
        f"h={sub.hidden_units}, {sub.optimizer}, {sub.epochs} epochs"
    )


if __name__ == "__main__":
    stage_main(
        "ensemble",
        main,
        add_arguments=add_arguments,
        describe=describe,
        instance=lambda args: f"ensemble@{args.method}",
    )
