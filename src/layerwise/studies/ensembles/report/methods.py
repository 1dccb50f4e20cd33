"""The per-method stages: each method at its reference chapter's own settings."""

from __future__ import annotations

import pandas as pd

from layerwise.pipeline.io import read_csv, read_json
from layerwise.pipeline.stats import summarize
from layerwise.reporting.markdown import (
    ReportContext,
    ci,
    claim_text,
    diverged_note,
    fmt,
    image,
    interval_name,
    published_text,
    signed,
    table,
    within,
)
from layerwise.studies.ensembles import figures as plots
from layerwise.studies.ensembles import published
from layerwise.studies.ensembles.claims import headline_arm
from layerwise.studies.ensembles.report.common import METHODS, TITLES, nll_cells


def _load(ctx: ReportContext, method: str):
    out = ctx.results / "ensembles" / method
    return read_json(out / "summary.json"), read_csv(out / "members.csv")


def book_methods(ctx: ReportContext) -> set[str]:
    """Methods run at the book's settings: only those are set beside published numbers."""
    if ctx.cfg.preset != "book":
        return set()
    changed = {o.split("=")[0].split(".")[1] for o in ctx.overrides if o.startswith("ensembles.")}
    changed |= {"*"} if any(o.startswith(("seed=", "datasets.")) for o in ctx.overrides) else set()
    return set() if "*" in changed else set(METHODS) - changed


def comparison_rows(results: dict, book: set[str]) -> list[dict]:
    rows = []
    for method, (metrics, _) in results.items():
        refs = published.ENSEMBLES.get(method, {}) if method in book else {}
        for key, arm in metrics["arms"].items():
            acc = arm["test_accuracy"]
            rows.append(
                {
                    "method": TITLES[method],
                    "combination": arm["label"],
                    "data": metrics["dataset"],
                    "members": str(arm["n_members"]),
                    "test accuracy": f"{fmt(acc['mean'])} ± {fmt(acc['std'])}",
                    "95% CI": f"{fmt(acc['ci_low'])}–{fmt(acc['ci_high'])}",
                    **nll_cells(arm["test_nll"]),
                    "member-epochs": str(arm["member_epochs"]),
                    "best single": fmt(arm["best_single"]["mean"]),
                    "diversity": fmt(arm["diversity"]["mean"]),
                    "combiner fitted on": arm["fitted_on"],
                    "published": published_text(refs.get(key)),
                    "published within our range?": within(refs.get(key), acc),
                }
            )
    return rows


def member_summary(members: pd.DataFrame) -> dict:
    """Mean single-member accuracy per repeat (first sweep), summarised over repeats."""
    first = members[members["sweep"] == members["sweep"].iloc[0]]
    return summarize(first.groupby("repeat")["single_accuracy"].mean(), metric="single_accuracy")


def method_sentence(ctx: ReportContext, method: str, metrics: dict, members: pd.DataFrame) -> str:
    """The method's pre-declared ensemble against its members scored alone (the claim)."""
    claim = ctx.claim(f"ensembles.{method}.vs_single_member")
    if claim is None:
        return ""
    key = headline_arm(method, metrics["arms"])
    acc = metrics["arms"][key]["test_accuracy"]
    singles = member_summary(members)
    return (
        f"**{TITLES[method]}**: {metrics['arms'][key]['label']} reaches {fmt(acc['mean'])} "
        f"(95% CI {ci(acc)}) against {fmt(singles['mean'])} for an average single member, for "
        f"{metrics['arms'][key]['member_epochs']} member-epochs of training; ensemble minus "
        f"mean member, repeat by repeat: {claim_text(claim)}."
    )


def cost_sentence(results: dict) -> str:
    """Accuracy gained over the average single member per 1,000 member-epochs of training."""
    gains = []
    for method, (metrics, members) in results.items():
        singles = member_summary(members)["mean"]
        for arm in metrics["arms"].values():
            if arm["n_members"] > 1 and "optimistic" not in arm["fitted_on"]:
                gain = arm["test_accuracy"]["mean"] - singles
                gains.append((gain / arm["member_epochs"] * 1000, gain, method, arm))
    if not gains:
        return ""
    per_k, gain, method, arm = max(gains, key=lambda g: g[0])
    return (
        f"Per unit of training, the best buy is {TITLES[method].lower()} / {arm['label']}: "
        f"{signed(gain)} over an average member for {arm['member_epochs']} member-epochs "
        f"({signed(per_k, 4)} per 1,000)."
    )


def spread_sentence(results: dict, book: set[str]) -> str:
    """Model averaging: how much repeating a fixed-size ensemble narrows the spread."""
    if "model_averaging" not in results:
        return ""
    arms = results["model_averaging"][0]["arms"]
    sizes = [a for a in arms.values() if a["n_members"] > 1]
    if "single" not in arms or not sizes:
        return ""
    single, small = arms["single"]["test_accuracy"], sizes[0]["test_accuracy"]
    if single["std"] == 0:
        return ""
    text = (
        f"Over repeats, a single model's test accuracy has a standard deviation of "
        f"{fmt(single['std'])}; {sizes[0]['label']} has {fmt(small['std'])} "
        f"({small['std'] / single['std']:.0%} of it)."
    )
    spread = published.ENSEMBLE_SPREAD["model_averaging"]
    key = next(k for k, a in arms.items() if a is sizes[0])
    if "model_averaging" in book and key in spread:
        text += (
            f" The reference reports {published_text(spread['single'])} and "
            f"{published_text(spread[key])} over its repeats."
        )
    return text


def optimism_sentences(results: dict) -> list[str]:
    out = []
    for method, (metrics, _) in results.items():
        arms = metrics["arms"]
        for key, arm in arms.items():
            if not key.endswith("_test") or key[: -len("_test")] + "_validation" not in arms:
                continue
            honest = arms[key[: -len("_test")] + "_validation"]
            gap = arm["test_accuracy"]["mean"] - honest["test_accuracy"]["mean"]
            out.append(f"{TITLES[method].lower()} / {honest['label']}: {signed(gap)}")
    if not out:
        return []
    return [
        "Fitting the combiner on the test set it is scored on (the references' way) "
        "changes the reported accuracy, relative to fitting it on the validation split, "
        "by: " + "; ".join(out) + "."
    ]


def resampling_table(metrics: dict) -> str:
    rows = []
    for scheme, estimate in metrics.get("estimated_accuracy", {}).items():
        holdout = metrics["arms"][scheme]["test_accuracy"]
        rows.append(
            {
                "scheme": scheme.replace("_", " "),
                "estimated (held-out parts)": f"{fmt(estimate['mean'])} ± {fmt(estimate['std'])}",
                f"ensemble on holdout ({metrics['holdout_rows']} rows)": fmt(holdout["mean"]),
                "estimate − holdout": f"{signed(estimate['mean'] - holdout['mean'])}",
                "published estimate": published_text(published.RESAMPLING_ESTIMATES.get(scheme)),
                "published holdout": published_text(published.ENSEMBLES["resampling"].get(scheme)),
            }
        )
    return table(rows) if rows else ""


# -- one budget, every method (stage ensemble_compare) ---------------------------------


def methods_part(ctx: ReportContext) -> list[str]:
    """The per-method stages: each method at its reference chapter's own settings."""
    results = {}
    for method in METHODS:
        if (ctx.results / "ensembles" / method / "summary.json").is_file():
            results[method] = _load(ctx, method)
    if not results:
        return []
    book = book_methods(ctx)
    rows = comparison_rows(results, book)
    parts = [
        "### Each method at its book settings (different data and budgets)",
        "Each method as its reference chapter runs it: its own data file, network, "
        "optimizer and epochs, so rows of different methods do not compare the methods "
        "(the one-budget table does). Every method repeats its whole procedure (training "
        "included) over independent repeats; numbers are the mean over repeats with a "
        f"95% confidence interval ({interval_name('test_accuracy')} for accuracy, "
        f"{interval_name('test_nll')} for the NLL, whose median [interquartile range] "
        "stands beside it). "
        "Member-epochs count the epochs of training behind one ensemble (members x epochs; "
        "one run's epochs for horizontal voting, snapshots and weight averaging). Diversity "
        "is the members' mean pairwise disagreement on the test rows. Combiners with fitted "
        "parameters, and the snapshot ensemble's size, are fitted on a validation split; the "
        "references' way (fitted on the test set it reports) is shown beside, labelled "
        "optimistic.",
        table(rows),
    ]
    honest = [
        (method, metrics["dataset"], arm)
        for method, (metrics, _) in results.items()
        for arm in metrics["arms"].values()
        if "optimistic" not in arm["fitted_on"]
        and arm["n_members"] > 1
        and arm["test_accuracy"]["n"]  # 0: every repeat diverged
    ]
    flagged = [r for r in rows if r["published within our range?"] == "**no**"]
    text = []
    if honest:
        method, dataset, best = max(honest, key=lambda h: h[2]["test_accuracy"]["mean"])
        text.append(
            f"Among ensembles fitted without looking at the test set, the highest mean test "
            f"accuracy is {fmt(best['test_accuracy']['mean'])} ({TITLES[method].lower()}, "
            f"{best['label']}, on {dataset}); methods on different data files "
            "are not directly comparable."
        )
    text += [method_sentence(ctx, m, metrics, members) for m, (metrics, members) in results.items()]
    for m, (metrics, _members) in results.items():
        note = diverged_note(metrics)
        if note:
            text.append(f"{TITLES[m]}: {note}")
    text.append(cost_sentence(results))
    text.append(spread_sentence(results, book))
    text += optimism_sentences(results)
    if not book:
        text.append(
            "This run does not use the book's settings, so no published number is set beside it."
        )
    else:
        names = ", ".join(f"{r['method'].lower()} / {r['combination']}" for r in flagged)
        text.append(
            f"{len(flagged)} of the published numbers fall outside the range of our repeats"
            + (f": {names}." if flagged else ".")
        )
    parts.append("\n\n".join(t for t in text if t))
    if "resampling" in results:
        parts += [
            "#### Resampling: estimated accuracy against the unseen holdout",
            resampling_table(results["resampling"][0]),
        ]
    parts.append("#### Size sweeps")
    for method, (metrics, members) in results.items():
        path, link = ctx.figure(f"ensemble_{method}_sweep.png")
        plots.size_sweep(
            members, f"{TITLES[method]} ({metrics['dataset']}, {metrics['repeats']} repeats)", path
        )
        parts.append(image(link, f"{TITLES[method]} size sweep"))
    if "snapshot" in results:
        metrics = results["snapshot"][0]
        schedule = read_csv(ctx.results / "ensembles" / "snapshot" / "schedule.csv")
        path, link = ctx.figure("ensemble_snapshot_schedule.png")
        plots.lr_schedule(
            schedule,
            metrics["snapshot_epochs"],
            "Snapshot ensemble: cosine annealing per epoch",
            path,
        )
        parts += ["#### Learning-rate schedule", image(link, "cosine annealing schedule")]
    timings = sorted((ctx.results / "timing").glob("ensemble@*.json"))
    if timings:
        total = sum(read_json(p)["wall_seconds"] for p in timings)
        parts.append(
            f"The {len(timings)} ensemble stages' last runs took {total:.0f} s of "
            "wall time together."
        )
    return parts
