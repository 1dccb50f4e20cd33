"""The report's greedy layer-wise pretraining section, written from the stages' outputs."""

from __future__ import annotations

import pandas as pd

from layerwise.pipeline.io import read_csv, read_json
from layerwise.pipeline.stats import summarize
from layerwise.reporting import markdown as rp
from layerwise.studies.greedy import figures as plots
from layerwise.studies.greedy import published
from layerwise.studies.greedy.labels import (
    CONTROL,
    FINE_TUNED,
    GREEDY,
)

SCORES = ("train_accuracy", "test_accuracy", "train_mse", "test_mse")
GREEDY_STAGES = (
    "greedy_supervised",
    "greedy_unsupervised",
    "greedy_activations",
    "greedy_depth",
    "greedy_few_labels",
)


def summaries(replicas: pd.DataFrame, method: str) -> dict[int, dict[str, dict]]:
    """{depth: {score: summary over replicas}} for one method."""
    out = {}
    for depth, group in replicas[replicas["method"] == method].groupby("depth"):
        out[int(depth)] = {c: summarize(group[c], metric=c) for c in SCORES if c in group}
        if "diverged" in group:
            out[int(depth)]["diverged"] = int(group["diverged"].sum())
    return out


cell = rp.cell


def published_cell(reference, s: dict) -> str:
    """A published number (as printed), marked where it is outside our replicas' range."""
    if reference is None:
        return "–"
    return rp.published_text(reference) + (
        " (**outside**)" if rp.within(reference, s) == "**no**" else ""
    )


def count(n: int, noun: str) -> str:
    """'1 round', '3 rounds'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _at_depths(depths) -> str:
    """'at depths 3, 5', 'at depth 3' or 'at no depth'."""
    depths = list(depths)
    if not depths:
        return "at no depth"
    return f"at depth{'s' if len(depths) > 1 else ''} {', '.join(str(d) for d in depths)}"


def _published_outside(refs: dict, ours: dict[int, dict], score: str) -> list[int]:
    return [
        d
        for d, v in refs.get(score, {}).items()
        if d in ours and rp.within(v, ours[d][score]) == "**no**"
    ]


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
        outside = _published_outside(refs, greedy, "test_accuracy")
        text.append(
            f"The reference's single-run test accuracies fall outside our replicas' range "
            f"{_at_depths(outside)} (of {len(refs['test_accuracy'])})."
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
        f"appear {_at_depths(unstable)}.",
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
        outside_mse = _published_outside(refs, ours, "test_mse")
        outside_acc = _published_outside(refs, ours, "test_accuracy")
        text.append(
            "The reference read its run as a minor benefit that turns unstable past 5 layers. "
            f"Its test MSE falls outside our replicas' range {_at_depths(outside_mse)}, "
            f"its test accuracy {_at_depths(outside_acc)}."
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


def greedy_section(ctx: rp.ReportContext) -> str:
    book_data = ctx.cfg.data.name == "blobs"
    parts = [
        "## Greedy layer-wise pretraining",
        "*Does greedy layer-wise pretraining help these networks, and when?*",
    ]
    if (ctx.results / "greedy_supervised" / "replicas.csv").is_file():
        parts += supervised_part(ctx, book_data)
    if (ctx.results / "greedy_unsupervised" / "replicas.csv").is_file():
        parts += unsupervised_part(ctx, book_data)
    if (ctx.results / "greedy_activations" / "metrics.json").is_file():
        parts += activations_part(ctx)
    if (ctx.results / "greedy_depth" / "metrics.json").is_file():
        parts += depth_selection_part(ctx)
    parts += few_labels_part(ctx)
    for stage in GREEDY_STAGES:  # one sentence per stage whose replicas diverged somewhere
        for path in sorted((ctx.results / stage).glob("**/metrics.json")):
            note = rp.diverged_note(read_json(path), "replicas")
            if note:
                where = path.parent.relative_to(ctx.results).as_posix()
                parts.append(f"`{where}`: {note}")
    if not book_data and ctx.cfg.data.name != "cifar10":
        parts.append(f"The references publish no greedy numbers for {ctx.cfg.data.name}.")
    return "\n\n".join(parts)


def activations_part(ctx: rp.ReportContext) -> list[str]:
    out = ctx.results / "greedy_activations"
    metrics = read_json(out / "metrics.json")
    if not metrics.get("enabled", False):
        return []
    replicas = read_csv(out / "replicas.csv")
    depths = read_csv(out / "depths.csv")
    gradients = read_csv(out / "gradients.csv")
    a = ctx.cfg.greedy.activations
    names = list(dict.fromkeys(replicas["activation"]))

    path, link = ctx.figure("greedy_activations_depth.png")
    panels = []
    for name in names:
        own = depths[depths["activation"] == name]
        series = [
            (own[own["method"] == m], "test_accuracy", m)
            for m in (GREEDY, CONTROL)
            if m in set(own["method"])
        ]
        panels.append({"title": f"{name}: test accuracy", "ylabel": "accuracy", "series": series})
    plots.depth_panels(
        panels,
        f"Greedy vs end-to-end by hidden activation ({a.n_replicas} replicas, mean and 95% CI)",
        path,
    )
    grad_path, grad_link = ctx.figure("greedy_gradient_norms.png")
    plots.gradient_norms(
        gradients,
        f"Gradient norms at initialisation, {a.gradient_depth} "
        f"hidden layers of {ctx.cfg.model.hidden_units[-1]} units",
        grad_path,
    )

    rows, text = [], []
    for name in names:
        own = replicas[replicas["activation"] == name]
        greedy, control = summaries(own, GREEDY), summaries(own, CONTROL)
        ratio = metrics[name]["gradient_ratio_first_to_last"]
        for depth in (min(greedy), max(greedy)):
            row = {
                "activation": name,
                "depth": depth,
                "greedy test": cell(greedy[depth]["test_accuracy"]),
            }
            if control:
                row["end-to-end test"] = cell(control[depth]["test_accuracy"])
            row["gradient first/output layer"] = f"{ratio:.2g}" if depth == min(greedy) else ""
            rows.append(row)
        last = max(greedy)
        sentence = (
            f"With {name}, greedy training reaches {rp.fmt(greedy[last]['test_accuracy']['mean'])}"
            f" test accuracy at depth {last}"
        )
        claim = ctx.claim(f"greedy.activations.{name}.vs_end_to_end.deepest")
        if control and claim:
            c = control[last]["test_accuracy"]
            sentence += (
                f", the end-to-end control {rp.fmt(c['mean'])} (greedy minus control: "
                f"{rp.claim_text(claim)})"
            )
        sentence += (
            f"; at initialisation the first hidden layer's gradient is {ratio:.2g} "
            "times the output layer's (median over replicas)."
        )
        text.append(sentence)
    return [
        "### Activation: where vanishing gradients bite",
        f"Each activation gets its own base network ({a.epochs} epochs), "
        f"{count(a.additions, 'greedy addition')} and, per depth, an end-to-end control "
        "with the same total epochs. "
        "The gradient figure is measured on freshly initialised networks.",
        rp.table(rows),
        rp.image(link, "greedy vs end-to-end by activation"),
        rp.image(grad_link, "gradient norms at initialisation"),
        " ".join(text),
    ]


def depth_selection_part(ctx: rp.ReportContext) -> list[str]:
    out = ctx.results / "greedy_depth"
    metrics = read_json(out / "metrics.json")
    if not metrics.get("enabled", False):
        return []
    replicas = read_csv(out / "replicas.csv")
    d = ctx.cfg.greedy.depth_selection
    path, link = ctx.figure("greedy_chosen_depth.png")
    plots.chosen_depths(
        replicas, f"Depth chosen on validation rows ({d.n_replicas} replicas)", path
    )
    labels = {
        "validation": "early stop on a validation split",
        "subsample": f"search on {d.subsample_fraction:.0%} of the rows, train on all",
    }
    rows, text = [], []
    for setting, group in replicas.groupby("setting", sort=False):
        chosen = summarize(group["test_accuracy"], metric="test_accuracy")
        base = summarize(group["base_test_accuracy"], metric="base_test_accuracy")
        counts = group["chosen_depth"].value_counts().sort_index()
        mode = int(counts.idxmax())
        rows.append(
            {
                "setting": labels.get(setting, setting),
                "chosen depths (depth: replicas)": ", ".join(
                    f"{k}: {v}" for k, v in counts.items()
                ),
                "test at chosen depth": cell(chosen),
                "test at depth 2 (base)": cell(base),
            }
        )
        claim = ctx.claim(f"greedy.depth_selection.{setting}.vs_base")
        text.append(
            f"With {labels.get(setting, setting)}, the most common choice is depth {mode} "
            f"({counts[mode]} of {len(group)} replicas; mean depth "
            f"{group['chosen_depth'].mean():.1f})"
            + (
                f"; the chosen depth minus each replica's base network: {rp.claim_text(claim)}."
                if claim
                else "."
            )
        )
    return [
        "### Depth selection without the test set",
        f"The tutorial stops adding layers once test performance has not improved for "
        f"{count(d.patience, 'round')}; here the rule reads a validation split "
        f"({d.validation_fraction:.0%} of each replica's training rows, drawn per replica) "
        "and the test set is only scored.",
        rp.table(rows),
        rp.image(link, "chosen depth distribution"),
        " ".join(text),
    ]


def few_labels_part(ctx: rp.ReportContext) -> list[str]:
    f = ctx.cfg.greedy.few_labels
    if not f.enabled:
        return []
    tables, rows, text = {}, [], []
    for name in f.datasets:
        out = ctx.results / "greedy_few_labels" / name
        if not (out / "replicas.csv").is_file():
            continue
        replicas = read_csv(out / "replicas.csv")
        if replicas.empty:
            continue
        tables[name] = read_csv(out / "sizes.csv")
        for n, group in replicas.groupby("n_labelled", sort=True):
            s = {
                m: summarize(g["test_accuracy"], metric="test_accuracy")
                for m, g in group.groupby("method", sort=False)
            }
            row = {"dataset": name, "labelled rows": int(n)}
            row.update({m: cell(v) for m, v in s.items()})
            rows.append(row)
        n_diverged = int(
            replicas.drop_duplicates("replica")["autoencoder_diverged"].sum()
            if "autoencoder_diverged" in replicas
            else 0
        )
        if n_diverged:
            text.append(
                f"On {name}, {n_diverged} of {replicas['replica'].nunique()} autoencoders "
                "diverged (inf/NaN loss); their pretrained arms are left out."
            )
        smallest = ctx.claim(f"greedy.few_labels.{name}.smallest")
        family = ctx.claim(f"greedy.few_labels.{name}.budgets")
        if smallest and family:
            text.append(
                f"On {name}, pretrained and fine-tuned minus trained from scratch on the same "
                f"rows, at the pre-declared test point, the fewest labels: "
                f"{rp.claim_text(smallest)}. Over every label budget, the claim that "
                "pretraining helps "
                + rp.family_text(
                    ctx.members(family), lambda n: f"{rp.suffix(n, 'n_')} labelled rows"
                )
                + "."
            )
    if not tables:
        return []
    path, link = ctx.figure("greedy_few_labels.png")
    plots.few_labels(
        tables,
        f"Few labels: autoencoder pretraining on all inputs vs "
        f"supervised only ({f.n_replicas} replicas, mean and 95% CI)",
        path,
    )
    return [
        "### Few labels: the regime where pretraining is said to help",
        f"The autoencoder ({count(f.pretrain_additions, 'greedy round')} beyond the base) sees "
        "every training input and no label; each replica then draws its own labelled rows. "
        "Arms: a softmax head on the frozen encoder; the same network with every layer "
        "trained from the pretrained weights; the same shape trained from scratch. "
        "Cells: test accuracy, mean ± std [95% CI].",
        rp.table(rows),
        rp.image(link, "few labels"),
        " ".join(text),
    ]
