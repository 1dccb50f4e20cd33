"""Stage `ensemble@<method>`: one ensemble method, repeated; metrics, size sweeps, schedule."""

from pathlib import Path

from layerwise.config.ensembles import ENSEMBLE_METHODS
from layerwise.pipeline import data
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import write_csv, write_json
from layerwise.stage import stage_main
from layerwise.studies.ensembles.results import compact_metrics

OUT = Path("results/ensembles")


def add_arguments(parser):
    parser.add_argument("method", help=f"one of: {', '.join(ENSEMBLE_METHODS)}")


def main(cfg, args):
    if args.method not in ENSEMBLE_METHODS:
        raise UserError(
            f"unknown ensemble method {args.method!r} (allowed: {', '.join(ENSEMBLE_METHODS)})"
        )
    # imports TensorFlow: only once the method is known
    from layerwise.studies.ensembles import methods as ensemble_methods

    names = ensemble_methods.datasets_needed(cfg, args.method)
    datasets = {name: data.load(Path("data") / f"{name}.npz") for name in names}
    result = ensemble_methods.run(cfg, args.method, datasets)
    out = OUT / args.method
    write_csv(out / "members.csv", result.members)  # per repeat and ensemble size
    write_csv(out / "repeats.csv", result.repeats_table())  # per arm and repeat (the claims)
    write_csv(out / "sweep.csv", result.sweep_table())
    write_csv(out / "schedule.csv", result.schedule)  # the members' learning rate per epoch
    summary = result.summary(cfg)
    write_json(out / "summary.json", summary)  # everything the report reads
    write_json(out / "metrics.json", compact_metrics(summary))
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
