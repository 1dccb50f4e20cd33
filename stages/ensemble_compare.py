"""Stage `ensemble_compare`: every ensemble method on one dataset and one training budget."""

from pathlib import Path

from layerwise.pipeline.io import write_csv, write_json
from layerwise.stage import stage_main

OUT = Path("results/ensemble_compare")


def main(cfg, args):
    # imported once params have passed their checks: a bad value fails before TensorFlow loads
    from layerwise.pipeline import data
    from layerwise.studies.ensembles import compare as ensemble_compare
    from layerwise.studies.ensembles.results import compact_metrics

    sub = cfg.ensembles.compare
    dataset = data.load(Path("data") / f"{sub.dataset}.npz")
    result = ensemble_compare.run(cfg, dataset)
    summary = result.summary()
    write_json(OUT / "summary.json", summary)  # everything the report reads
    write_json(OUT / "metrics.json", compact_metrics(summary))
    write_csv(OUT / "table.csv", result.table())  # one line per method
    write_csv(OUT / "repeats.csv", result.repeats_table())  # per repeat
    for line in result.table().itertuples():
        print(
            f"  {line.method}: test accuracy {line.test_accuracy:.3f} "
            f"(95% CI {line.ci_low:.3f}-{line.ci_high:.3f}), {line.member_epochs} member-epochs"
        )


def describe(cfg, args):
    sub = cfg.ensembles.compare
    return (
        f"every ensemble method on {sub.dataset}, {sub.budget} member-epochs each "
        f"({sub.n_members} members x {sub.budget // sub.n_members} epochs, or one run), "
        f"h={sub.hidden_units}, {sub.optimizer}, {sub.repeats} repeats"
    )


if __name__ == "__main__":
    stage_main("ensemble_compare", main, describe=describe)
