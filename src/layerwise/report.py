"""reports/report.md: assembled from the stages' outputs only (it trains nothing).

Each study contributes a section function `(ReportContext) -> markdown`; `sections()`
lists them in reading order.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from layerwise import plots, published
from layerwise.config import Config, as_dict
from layerwise.io import atomic_path, read_json
from layerwise.stats import within_range


@dataclass
class ReportContext:
    cfg: Config
    results: Path
    data: Path
    figures: Path  # reports/figures
    overrides: list[str]

    def figure(self, name: str) -> tuple[Path, str]:
        """(file to write, link to use in report.md) for a figure called `name`."""
        return self.figures / name, f"figures/{name}"


def fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def ci(summary: dict) -> str:
    return f"{fmt(summary['ci_low'])}–{fmt(summary['ci_high'])}"


def summary_row(label: str, summary: dict, reference: float | None) -> dict:
    """One table row: our distribution over repeats beside the published number."""
    row = {
        "": label,
        "mean ± std": f"{fmt(summary['mean'])} ± {fmt(summary['std'])}",
        "95% CI": ci(summary),
        "min–max": f"{fmt(summary['min'])}–{fmt(summary['max'])}",
        "published": "–" if reference is None else fmt(reference),
    }
    if reference is None:
        row["published within our range?"] = "–"
    else:
        row["published within our range?"] = "yes" if within_range(reference, summary) else "**no**"
    return row


def table(rows: list[dict]) -> str:
    return pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True)


def image(link: str, alt: str) -> str:
    return f"![{alt}]({link})"


# -- sections ---------------------------------------------------------------------------


def data_section(ctx: ReportContext) -> str:
    name = ctx.cfg.data.name
    src = ctx.data / f"{name}.png"
    path, link = ctx.figure(f"data_{name}.png")
    shutil.copyfile(src, path)
    spec = ctx.cfg.datasets[name]
    return "\n\n".join(
        [
            "## Data",
            f"The baseline trains on **{name}** ({spec.kind}; {spec.n_train} training rows, "
            f"{spec.n_samples - spec.n_train} test rows, scaling: {spec.scale}).",
            image(link, f"{name} dataset"),
        ]
    )


def baseline_section(ctx: ReportContext) -> str:
    out = ctx.results / "baseline"
    metrics = read_json(out / "metrics.json")
    curves = pd.read_csv(out / "curves.csv")
    cfg = ctx.cfg
    book_data = cfg.data.name == "blobs"
    refs = published.BASELINE if book_data else {}
    path, link = ctx.figure("baseline_curves.png")
    plots.learning_curves(
        curves,
        f"Baseline on {cfg.data.name}: mean and 95% band over {metrics['n_replicas']} replicas",
        path,
        refs or None,
    )
    rows = [
        summary_row("train accuracy", metrics["train_accuracy"], refs.get("train_accuracy")),
        summary_row("test accuracy", metrics["test_accuracy"], refs.get("test_accuracy")),
    ]
    test, train = metrics["test_accuracy"], metrics["train_accuracy"]
    gap = train["mean"] - test["mean"]
    hidden = "-".join(map(str, cfg.model.hidden_units))
    text = [
        f"Over {metrics['n_replicas']} independently initialised replicas the baseline "
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
    for key in ("train_accuracy", "test_accuracy"):
        if key in refs:
            inside = within_range(refs[key], metrics[key])
            where = "inside" if inside else "outside"
            text.append(
                f"The published single run's {key.replace('_', ' ')} "
                f"({fmt(refs[key])}) lies {where} the range of our replicas."
            )
    if not refs:
        text.append("The references publish no number for this dataset.")
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
        ]
    )


def sections() -> list[Callable[[ReportContext], str]]:
    """Every section in reading order. The study modules are imported here because they
    use the helpers above (ReportContext, table, summary_row, ...)."""
    from layerwise.report_ensembles import ensembles_section
    from layerwise.report_greedy import greedy_section
    from layerwise.report_transfer import transfer_section

    return [data_section, baseline_section, greedy_section, transfer_section, ensembles_section]


def configuration_section(ctx: ReportContext) -> str:
    overrides = ", ".join(f"`{o}`" for o in ctx.overrides) if ctx.overrides else "none"
    return "\n\n".join(
        [
            "## Configuration",
            f"Preset **{ctx.cfg.preset}**; overrides of that preset: {overrides}.",
            "<details><summary>params.yaml as run</summary>\n\n```yaml\n"
            + yaml.safe_dump(as_dict(ctx.cfg), sort_keys=False)
            + "```\n</details>",
        ]
    )


def environment_section(ctx: ReportContext) -> str:
    timings = sorted((ctx.results / "timing").glob("*.json"))
    records = [read_json(p) for p in timings]
    rows = [{"stage": r["stage"], "wall time (s)": f"{r['wall_seconds']:.1f}"} for r in records]
    versions = records[0]["versions"] if records else {}
    version_rows = [{"package": k, "version": v} for k, v in versions.items()]
    return "\n\n".join(
        [
            "## Run",
            "Wall time of each stage's last run (a stage DVC skipped keeps its earlier time):",
            table(rows),
            "Package versions:",
            table(version_rows),
        ]
    )


def build(ctx: ReportContext, path: Path) -> None:
    ctx.figures.mkdir(parents=True, exist_ok=True)
    parts = [
        "# Layer-wise pretraining, transfer and ensembles of small MLPs: the study's report",
        "Every number below was computed by the pipeline run that wrote this file. "
        "Where the reference publishes a number, it stands beside ours; the reference "
        "reports single runs, we report the distribution over repeats.",
    ]
    parts += [section(ctx) for section in sections()]
    parts += [configuration_section(ctx), environment_section(ctx)]
    with atomic_path(path) as tmp:
        tmp.write_text("\n\n".join(parts) + "\n")
