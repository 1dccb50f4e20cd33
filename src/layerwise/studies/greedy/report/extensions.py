"""The extension studies: activations, depth selection without the test set, few labels."""

from __future__ import annotations

from layerwise.pipeline.io import read_csv, read_json
from layerwise.pipeline.stats import summarize
from layerwise.reporting import markdown as rp
from layerwise.studies.greedy import figures as plots
from layerwise.studies.greedy.labels import CONTROL, GREEDY
from layerwise.studies.greedy.report.common import (
    cell,
    count,
    summaries,
)


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
        f"Greedy vs end-to-end by hidden activation ({a.repeats} replicas, mean and 95% CI)",
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
    plots.chosen_depths(replicas, f"Depth chosen on validation rows ({d.repeats} replicas)", path)
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
        f"supervised only ({f.repeats} replicas, mean and 95% CI)",
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
