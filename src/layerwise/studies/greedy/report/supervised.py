"""The supervised part: add a layer, freeze the rest, refit; its control and fine-tuning."""

from __future__ import annotations

from layerwise.pipeline.io import read_csv
from layerwise.reporting import markdown as rp
from layerwise.studies.greedy import figures as plots
from layerwise.studies.greedy import published
from layerwise.studies.greedy.labels import CONTROL, FINE_TUNED, GREEDY
from layerwise.studies.greedy.report.common import (
    at_depths,
    cell,
    count,
    published_cell,
    published_outside,
    summaries,
)


def supervised_part(ctx: rp.ReportContext, book_data: bool) -> list[str]:
    out = ctx.results / "greedy_supervised"
    replicas = read_csv(out / "replicas.csv")
    depths = read_csv(out / "depths.csv")
    greedy, control = summaries(replicas, GREEDY), summaries(replicas, CONTROL)
    tuned = summaries(replicas, FINE_TUNED)
    refs = published.GREEDY_SUPERVISED if book_data else {}
    if ctx.cfg.data.name == "cifar10":  # the TensorFlow tutorial publishes test accuracy only
        refs = {"test_accuracy": published.GREEDY_CIFAR10_TEST_ACCURACY}
    g = ctx.cfg.greedy.supervised
    n = int(replicas["replica"].nunique())

    path, link = ctx.figure("greedy_supervised_depth.png")
    panels = []
    for split in ("train", "test"):
        col = f"{split}_accuracy"
        series = [
            (depths[depths["method"] == m], col, m)
            for m in (GREEDY, CONTROL, FINE_TUNED)
            if m in set(depths["method"])
        ]
        panels.append(
            {
                "title": f"{split} accuracy",
                "ylabel": "accuracy",
                "series": series,
                "published": {"published (greedy)": refs[col]} if col in refs else None,
            }
        )
    plots.depth_panels(
        panels,
        f"Supervised greedy layer addition on {ctx.cfg.data.name}: mean "
        f"and 95% CI over {n} replicas",
        path,
    )

    rows = []
    for depth, s in greedy.items():
        row = {
            "depth": depth,
            "greedy train": cell(s["train_accuracy"]),
            "greedy test": cell(s["test_accuracy"]),
        }
        if control:
            row["end-to-end test"] = (
                cell(control[depth]["test_accuracy"]) if depth in control else "–"
            )
        if tuned:
            row["fine-tuned test"] = cell(tuned[depth]["test_accuracy"]) if depth in tuned else "–"
        if "train_accuracy" in refs:
            row["published train"] = published_cell(
                refs["train_accuracy"].get(depth), s["train_accuracy"]
            )
        if "test_accuracy" in refs:
            row["published test"] = published_cell(
                refs["test_accuracy"].get(depth), s["test_accuracy"]
            )
        rows.append(row)

    first, last = min(greedy), max(greedy)
    test = {d: s["test_accuracy"] for d, s in greedy.items()}
    best = max(test, key=lambda d: test[d]["mean"])
    change = test[last]["mean"] - test[first]["mean"]
    text = [
        f"Greedy addition moves mean test accuracy from {rp.fmt(test[first]['mean'])} at depth "
        f"{first} to {rp.fmt(test[last]['mean'])} at depth {last} ({rp.signed(change)}); "
        f"the best mean is {rp.fmt(test[best]['mean'])} at depth {best}."
    ]
    claim = ctx.claim("greedy.supervised.deepest_vs_base")
    if claim:
        text.append(
            f"Depth {last} minus depth {first}, replica by replica (the claim that adding "
            f"layers helps): {rp.claim_text(claim)}."
        )
    family = ctx.claim("greedy.supervised.vs_end_to_end.depths")
    if control and family:
        gaps = {d: test[d]["mean"] - control[d]["test_accuracy"]["mean"] for d in control}
        widest = max(gaps, key=lambda d: abs(gaps[d]))
        deepest = ctx.claim("greedy.supervised.vs_end_to_end.deepest")
        text.append(
            "Against the end-to-end control (each depth trained from scratch for as many "
            "epochs as the greedy network received in total), greedy minus control at the "
            f"pre-declared test point, the deepest depth: {rp.claim_text(deepest)}. Tested at "
            "every depth, the claim that greedy training is better "
            + rp.family_text(ctx.members(family), lambda n: f"depth {rp.suffix(n, 'depth_')}")
            + f". The largest gap is {rp.signed(gaps[widest])} at depth {widest} (greedy minus "
            f"control; control {rp.fmt(control[widest]['test_accuracy']['mean'])} ± "
            f"{rp.fmt(control[widest]['test_accuracy']['std'])})."
        )
    claim = ctx.claim("greedy.supervised.fine_tuning")
    if tuned and claim:
        d = max(tuned)
        t = tuned[d]["test_accuracy"]
        text.append(
            f"Fine-tuning all {d} layers for {g.fine_tune_epochs} epochs at learning rate "
            f"{g.fine_tune_learning_rate} takes the final test accuracy from "
            f"{rp.fmt(test[d]['mean'])} to {rp.fmt(t['mean'])}; fine-tuned minus greedy, replica "
            f"by replica: {rp.claim_text(claim)}."
        )
    if refs:
        outside = published_outside(refs, greedy, "test_accuracy")
        text.append(
            f"The reference's single-run test accuracies fall outside our replicas' range "
            f"{at_depths(outside)} (of {len(refs['test_accuracy'])})."
        )
    return [
        "### Supervised: add a layer, freeze the rest, refit",
        f"From the baseline's {n} replicas, {count(g.additions, 'hidden layer')} are added "
        f"one at a time, {g.epochs} epochs each; only the new hidden layer and the kept "
        "output layer learn. Cells: mean ± std [95% CI] over replicas.",
        rp.table(rows),
        rp.image(link, "supervised greedy accuracy by depth"),
        " ".join(text),
    ]
