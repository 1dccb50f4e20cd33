"""The report's baseline section, written from the baseline stage's outputs."""

from __future__ import annotations

from layerwise.pipeline.io import read_csv, read_json
from layerwise.reporting import figures
from layerwise.reporting.markdown import (
    ReportContext,
    ci,
    diverged_note,
    fmt,
    image,
    published_text,
    summary_row,
    table,
)
from layerwise.reporting.markdown import (
    claim_text as rp_claim,
)
from layerwise.studies.baseline import published


def baseline_section(ctx: ReportContext) -> str:
    out = ctx.results / "baseline"
    metrics = read_json(out / "metrics.json")
    curves = read_csv(out / "curves.csv")
    cfg = ctx.cfg
    book_data = cfg.data.name == "blobs"
    refs = published.BASELINE if book_data else {}
    path, link = ctx.figure("baseline_curves.png")
    figures.learning_curves(
        curves,
        f"Baseline on {cfg.data.name}: mean and 95% band over {metrics['n_replicas']} replicas",
        path,
        refs or None,
    )
    rows = [
        summary_row("train accuracy", metrics["train_accuracy"], refs.get("train_accuracy")),
        summary_row("test accuracy", metrics["test_accuracy"], refs.get("test_accuracy")),
    ]
    test = metrics["test_accuracy"]
    hidden = "-".join(map(str, cfg.model.hidden_units))
    text = (
        _paragraph(ctx, metrics, refs)
        if test["n"]
        else [
            f"Every one of the {metrics['n_replicas']} replicas diverged (training loss inf/NaN): "
            "there is no accuracy to report. Lower the learning rate."
        ]
    )
    note = diverged_note(metrics, "replicas")
    return "\n\n".join(
        [
            "## Baseline",
            "*How well does the reference's small MLP "
            f"({hidden} hidden units, {cfg.model.activation}, {cfg.optimizer.name} "
            f"at learning rate "
            f"{cfg.optimizer.learning_rate}, {cfg.baseline.epochs} epochs) learn this problem, "
            "and how much does that vary from one initialisation to the next?*",
            table(rows),
            image(link, "baseline learning curves"),
            " ".join(text),
            *([note] if note else []),
        ]
    )


def _paragraph(ctx: ReportContext, metrics: dict, refs: dict) -> list[str]:
    """What the numbers say (over the replicas that did not diverge)."""
    test, train = metrics["test_accuracy"], metrics["train_accuracy"]
    gap = train["mean"] - test["mean"]
    text = [
        f"Over {test['n']} independently initialised replicas the baseline "
        f"reaches a mean test accuracy of {fmt(test['mean'])} (std {fmt(test['std'])}, "
        f"95% CI {ci(test)}, range {fmt(test['min'])}–{fmt(test['max'])}); "
        f"train accuracy is {fmt(train['mean'])}.",
    ]
    if abs(gap) < 0.02:
        text.append(
            f"Train and test differ by only {fmt(gap)}: the model neither "
            "overfits nor lags on unseen data."
        )
    elif gap > 0:
        text.append(f"Train exceeds test by {fmt(gap)}, a sign of overfitting.")
    else:
        text.append(f"Test exceeds train by {fmt(-gap)}; the test split happens to be easier.")
    for split in ("train", "test"):
        claim = ctx.claim(f"baseline.{split}_vs_published")
        if claim is None:
            continue
        where = "inside" if claim["verdict"] == "holds" else "outside"
        text.append(
            f"The published single run's {split} accuracy "
            f"({published_text(refs[f'{split}_accuracy'])}) lies {where} the 95% prediction "
            f"interval of one run of ours: ours minus published "
            f"{rp_claim(claim)}."
        )
    if not refs:
        text.append("The references publish no number for this dataset.")
    return text
