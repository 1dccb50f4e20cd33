"""The unsupervised part: the greedy autoencoder and its classifier head per depth."""

from __future__ import annotations

from layerwise.pipeline.io import read_csv
from layerwise.reporting import markdown as rp
from layerwise.studies.greedy import figures as plots
from layerwise.studies.greedy import published
from layerwise.studies.greedy.report.common import (
    at_depths,
    cell,
    count,
    published_cell,
    published_outside,
    summaries,
)


def unsupervised_part(ctx: rp.ReportContext, book_data: bool) -> list[str]:
    out = ctx.results / "greedy_unsupervised"
    replicas = read_csv(out / "replicas.csv")
    depths = read_csv(out / "depths.csv")
    ours = summaries(replicas, "autoencoder")
    refs = published.GREEDY_UNSUPERVISED if book_data else {}
    g = ctx.cfg.greedy.unsupervised
    n = int(replicas["replica"].nunique())

    acc_path, acc_link = ctx.figure("greedy_unsupervised_depth.png")
    panels = [
        {
            "title": f"classifier head, {split}",
            "ylabel": "accuracy",
            "series": [(depths, f"{split}_accuracy", "autoencoder encoder + head")],
            "published": {"published": refs[f"{split}_accuracy"]} if refs else None,
        }
        for split in ("train", "test")
    ]
    plots.depth_panels(
        panels,
        f"Unsupervised (autoencoder) greedy pretraining on "
        f"{ctx.cfg.data.name}: classifier accuracy, {n} replicas",
        acc_path,
    )
    mse_path, mse_link = ctx.figure("greedy_reconstruction.png")
    plots.depth_panels(
        [
            {
                "title": "reconstruction error",
                "ylabel": "MSE (symmetric log scale)",
                "logy": True,
                "series": [(depths, "train_mse", "train"), (depths, "test_mse", "test")],
                "published": (
                    {"published train": refs["train_mse"], "published test": refs["test_mse"]}
                    if refs
                    else None
                ),
            }
        ],
        f"Autoencoder reconstruction error by depth ({n} replicas)",
        mse_path,
    )

    error_ci = rp.interval_name("test_mse")  # one interval for train and test MSE
    rows = []
    for depth, s in ours.items():
        row = {
            "depth": depth,
            f"train MSE [95% CI, {error_ci}]": cell(s["train_mse"]),
            "train MSE median [IQR]": rp.quartiles(s["train_mse"]),
            f"test MSE [95% CI, {error_ci}]": cell(s["test_mse"]),
            "test MSE median [IQR]": rp.quartiles(s["test_mse"]),
            "head train acc.": cell(s["train_accuracy"]),
            "head test acc.": cell(s["test_accuracy"]),
            "diverged": f"{s.get('diverged', 0)} of {n}",
        }
        if refs:
            row["published test MSE"] = published_cell(refs["test_mse"].get(depth), s["test_mse"])
            row["published test acc."] = published_cell(
                refs["test_accuracy"].get(depth), s["test_accuracy"]
            )
        rows.append(row)

    first, last = min(ours), max(ours)
    mse = {d: s["test_mse"] for d, s in ours.items()}
    acc = {d: s["test_accuracy"] for d, s in ours.items()}
    worst = max(mse, key=lambda d: mse[d]["mean"])
    best = max(acc, key=lambda d: acc[d]["mean"])
    unstable = [d for d, s in mse.items() if s["max"] > 10 * max(mse[first]["median"], 1e-3)]
    diverged = {d: s.get("diverged", 0) for d, s in ours.items()}
    text = [
        (
            f"{diverged[first]} of {n} autoencoders diverged (reconstruction loss inf/NaN) "
            f"at depth {first} and {diverged[last]} by depth {last}; they are left out of the "
            "error and head-accuracy summaries. "
            if diverged[last]
            else "No autoencoder diverged. "
        )
        + "Test reconstruction error, as median [interquartile range] over replicas, goes "
        f"from {rp.quartiles(mse[first], 4)} at depth {first} to "
        f"{rp.quartiles(mse[last], 4)} at depth {last}. Its mean, which the worst replicas "
        f"pull up, goes from {rp.fmt(mse[first]['mean'], 4)} to "
        f"{rp.fmt(mse[last]['mean'], 4)} (95% CI {rp.ci(mse[last], 4)}, {error_ci}) and is "
        f"largest, {rp.fmt(mse[worst]['mean'], 4)}, at depth {worst}. Replicas whose error "
        "exceeds ten times the base autoencoder's median "
        f"appear {at_depths(unstable)}.",
        f"The classifier head on the frozen encoder scores {rp.fmt(acc[first]['mean'])} test "
        f"accuracy at depth {first} and {rp.fmt(acc[last]['mean'])} at depth {last}; the best "
        f"depth is {best} ({rp.fmt(acc[best]['mean'])})."
        + (
            f" Depth {last} minus depth {first}, replica by replica: "
            f"{rp.claim_text(ctx.claim('greedy.unsupervised.deepest_vs_base'))}."
            if ctx.claim("greedy.unsupervised.deepest_vs_base")
            else ""
        ),
    ]
    family = ctx.claim("greedy.unsupervised.supervised_vs_head.depths")
    if family:
        text.append(
            f"Against the supervised greedy network at the {family['m']} depths both studies "
            "reach (supervised minus head), the claim that supervised greedy training is "
            "better "
            + rp.family_text(ctx.members(family), lambda n: f"depth {rp.suffix(n, 'depth_')}")
            + "."
        )
    if refs:
        outside_mse = published_outside(refs, ours, "test_mse")
        outside_acc = published_outside(refs, ours, "test_accuracy")
        text.append(
            "The reference read its run as a minor benefit that turns unstable past 5 layers. "
            f"Its test MSE falls outside our replicas' range {at_depths(outside_mse)}, "
            f"its test accuracy {at_depths(outside_acc)}."
        )
    return [
        "### Unsupervised: greedy autoencoder, classifier head per depth",
        f"{n} autoencoder replicas (input -> input, MSE) grow by "
        f"{count(g.additions, 'hidden layer')}, "
        f"{g.epochs} epochs per depth; at each depth a softmax head is fitted for "
        f"{g.classifier_epochs} epochs on the frozen encoder, and the reconstruction layer "
        "is put back for the next round. Cells: mean ± std [95% CI of the mean] over "
        f"replicas, a {rp.interval_name('test_accuracy')} interval for the head's accuracy; "
        "the reconstruction error cannot be negative and a few badly trained replicas "
        f"give it a long upper tail, so its interval is a {error_ci} one (within the range "
        "of the replicas) and its median [interquartile range] stands beside it.",
        rp.table(rows),
        rp.image(acc_link, "unsupervised greedy classifier accuracy by depth"),
        rp.image(mse_link, "reconstruction error by depth"),
        " ".join(text),
    ]
