"""The transfer study's report section, written from results/transfer*/ only."""

from __future__ import annotations

from layerwise.pipeline.io import read_csv, read_json
from layerwise.reporting import figures as plots
from layerwise.reporting.markdown import (
    ReportContext,
    ci,
    claim_text,
    diverged_note,
    effect,
    family_text,
    fmt,
    image,
    published_text,
    table,
    verdict,
)
from layerwise.studies.transfer import figures as transfer_figures
from layerwise.studies.transfer import published
from layerwise.studies.transfer.claims import is_reference_case

PROTOCOL_TITLES = {
    "same_source": "same source (every repeat starts from the one saved source model)",
    "fresh_source": "fresh source (each repeat trains its own source model first)",
}
ARM_NOTES = {
    "standalone": "fresh random weights",
    "new_hidden": "both hidden layers frozen + a new random hidden layer",
}


def _arm_note(arm: str, reinit_keep: int) -> str:
    if arm.startswith("fixed_"):
        k = int(arm.removeprefix("fixed_"))
        return (
            "source weights, all layers train"
            if k == 0
            else (f"source weights, first {k} hidden layer{'s' if k > 1 else ''} frozen")
        )
    if arm == "reinit_top":
        return (
            f"first {reinit_keep} hidden layer{'s' if reinit_keep > 1 else ''} from the "
            "source (frozen), the layers above re-initialised"
        )
    return ARM_NOTES.get(arm, arm)


def _p(value) -> str:
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _published(case_is_reference: bool, protocol: str, arm: str):
    if case_is_reference and protocol == "same_source":
        return published.TRANSFER_REPEATS.get(arm)
    return None


def _arm_row(
    arm: str, entry: dict, reference, fraction: float, versus: dict | None, agrees: dict | None
) -> dict:
    """One table row: the arm's distribution, its claim against standalone (`versus`), the
    published mean and its claim (`agrees`) where the reference has one."""
    test = entry["test_accuracy"]
    tests = entry.get("vs_standalone")
    return {
        "arm": arm,
        "test accuracy mean ± std": f"{fmt(test['mean'])} ± {fmt(test['std'])}",
        "95% CI": ci(test),
        "min–max": f"{fmt(test['min'])}–{fmt(test['max'])}",
        "published mean (std)": "–"
        if reference is None
        else (f"{published_text(reference[0])} ({published_text(reference[1])})"),
        "ours − published [95% CI]": "–" if agrees is None else effect(agrees),
        "agrees?": "–" if agrees is None else ("yes" if agrees["verdict"] == "holds" else "**no**"),
        "Δ vs standalone [95% CI]": "–" if versus is None else effect(versus),
        "verdict (Holm p)": "–" if versus is None else verdict(versus),
        "Mann-Whitney p": "–" if tests is None else _p(tests["mann_whitney_p"]),
        "Cohen's d": "–"
        if tests is None or tests["cohens_d"] is None
        else (f"{tests['cohens_d']:+.2f}"),
        "P(arm > standalone)": "–" if tests is None else fmt(tests["p_superiority"], 2),
        f"epochs to {fraction:.0%} of final": fmt(entry["epochs_to_reach"]["mean"], 1),
    }


def _protocol_rows(
    ctx: ReportContext, case: str, m: dict, protocol: str, reference_case: bool, fraction: float
) -> list[dict]:
    """The table of one case and protocol: standalone, then every transfer arm."""

    def row(arm: str, entry: dict) -> dict:
        reference = _published(reference_case, protocol, arm)
        versus = None if arm == "standalone" else ctx.claim(f"transfer.{case}.{protocol}.{arm}")
        agrees = ctx.claim(f"transfer.{case}.published.{arm}") if reference else None
        return _arm_row(arm, entry, reference, fraction, versus, agrees)

    return [row("standalone", m["standalone"])] + [
        row(arm, entry) for arm, entry in m[protocol].items()
    ]


def _case_paragraph(
    ctx: ReportContext,
    case: str,
    m: dict,
    protocols: list[str],
    fraction: float,
    reference_case: bool,
) -> str:
    standalone = m["standalone"]
    s_test = standalone["test_accuracy"]
    text = [
        f"Standalone reaches {fmt(s_test['mean'])} ± {fmt(s_test['std'])} (95% CI {ci(s_test)})."
    ]
    for protocol in protocols:
        arms = m.get(protocol, {})
        family = ctx.claim(f"transfer.{case}.{protocol}.arms")
        if not arms or family is None:
            continue
        best = max(arms, key=lambda a: arms[a]["test_accuracy"]["mean"])
        best_test = arms[best]["test_accuracy"]
        members = ctx.members(family)
        clauses = "; ".join(
            f"{name.rsplit('.', 1)[-1]} {claim_text(claim)}" for name, claim in members
        )
        text.append(
            f"With the {protocol.replace('_', ' ')} protocol the best mean is **{best}**'s, "
            f"{fmt(best_test['mean'])} ± {fmt(best_test['std'])}. Tested arm by arm against "
            "standalone (arm minus standalone), the claim that transfer helps "
            + family_text(members, lambda n: n.rsplit(".", 1)[-1])
            + f": {clauses}."
        )
    if "same_source" in m and "fresh_source" in m:
        same = [e["test_accuracy"]["std"] for e in m["same_source"].values()]
        fresh = [e["test_accuracy"]["std"] for e in m["fresh_source"].values()]
        mean_same, mean_fresh = sum(same) / len(same), sum(fresh) / len(fresh)
        text.append(
            f"The transfer arms' spread is {fmt(mean_same)} (mean std) with one shared source "
            f"and {fmt(mean_fresh)} with a fresh source per repeat"
            + (
                ": most of the small spread of the shared-source arms comes from sharing the "
                "source, not from transfer itself."
                if mean_fresh > 2 * mean_same
                else "."
            )
        )
    speeds = {"standalone": standalone["epochs_to_reach"]["mean"]}
    for protocol in protocols:
        for arm, e in m.get(protocol, {}).items():
            speeds[f"{arm} ({protocol.replace('_', ' ')})"] = e["epochs_to_reach"]["mean"]
    speeds = {k: v for k, v in speeds.items() if v is not None}  # None: every repeat diverged
    if speeds:
        fastest = min(speeds, key=speeds.get)
        text.append(
            f"Learning speed: standalone needs {fmt(speeds.get('standalone'), 1)} epochs on "
            f"average to reach {fraction:.0%} of its final accuracy; the fastest is {fastest} "
            f"with {speeds[fastest]:.1f}."
        )
    if reference_case and "same_source" in m:
        outside = []
        for arm, (mean, _std) in published.TRANSFER_REPEATS.items():
            claim = ctx.claim(f"transfer.{case}.published.{arm}")
            if claim is not None and claim["verdict"] != "holds":
                outside.append(
                    f"{arm} ({published_text(mean)}; ours minus published {effect(claim)})"
                )
        text.append(
            "Published means that differ from ours (the 95% interval of the difference "
            "excludes zero): " + ", ".join(outside) + "."
            if outside
            else "Every published mean agrees with ours (the 95% interval of the difference "
            "contains zero)."
        )
    return " ".join(text)


def transfer_section(ctx: ReportContext) -> str:
    """Source models, then per case: box plot, a table per protocol, learning speed, text."""
    t = ctx.cfg.transfer
    out, source_out = ctx.results / "transfer", ctx.results / "transfer_source"
    metrics = read_json(out / "summary.json")
    replicas = read_csv(out / "replicas.csv")
    curves = read_csv(out / "curves.csv")
    source_metrics = read_json(source_out / "metrics.json")
    fraction = t.reach_fraction
    hidden = "-".join(map(str, t.source.hidden_units))

    parts = [
        "## Transfer learning",
        "*Does starting from a related problem's weights help, and which layers should "
        "stay fixed?*",
        f"The network is {hidden} hidden units ({t.source.activation}, "
        f"{t.source.initializer}) with a softmax output, trained by SGD at learning rate "
        f"{t.learning_rate} (momentum {t.momentum}) for {t.epochs} epochs; the source model "
        f"for {t.source.epochs} epochs. Every arm runs {t.repeats} repeats.",
        "### Source models",
    ]
    rows = []
    for name, m in source_metrics.items():
        spec = t.source.problems.get(name)
        ref = published.TRANSFER_SOURCE if name == "p1" else {}
        classes = ", ".join(map(str, spec.classes)) if spec and spec.classes else "all"
        rows.append(
            {
                "source problem": name,
                "data (classes)": f"{spec.dataset if spec else '?'} ({classes})",
                "train accuracy": fmt(m["train_accuracy"]),
                "test accuracy": fmt(m["test_accuracy"]),
                "published train / test": (
                    f"{published_text(ref['train_accuracy'])} / "
                    f"{published_text(ref['test_accuracy'])}"
                    if ref
                    else "–"
                ),
            }
        )
    parts.append(table(rows))
    parts.append(
        "A single fit each, as in the reference (the fresh-source protocol below shows "
        "how much a source model varies)."
    )
    parts.append(
        "Arms: "
        + "; ".join(f"**{arm}**: {_arm_note(arm, t.reinit_keep)}" for arm in t.arm_names())
        + "."
    )

    arms_order = t.arm_names()
    for case, case_cfg in t.cases.items():
        m = metrics[case]
        reference_case = is_reference_case(case_cfg)
        classes = ", ".join(map(str, case_cfg.classes)) if case_cfg.classes else "all"
        parts.append(f"### {case}: {case_cfg.source} → {case_cfg.dataset} (classes: {classes})")
        if "fresh_sources" in m:
            fs = m["fresh_sources"]
            parts.append(
                f"The {fs['n']} fresh source models reach {fmt(fs['mean'])} ± "
                f"{fmt(fs['std'])} test accuracy on their own problem "
                f"(range {fmt(fs['min'])}–{fmt(fs['max'])})."
            )
        protocols = [p for p in t.protocols if p in m]
        fig, axes = plots.figure(len(protocols), width=5.0, height=3.6)
        rows_case = replicas[replicas["case"] == case]
        for ax, protocol in zip(axes, protocols, strict=True):
            groups = {}
            for arm in arms_order:
                chosen = rows_case[
                    (rows_case["arm"] == arm)
                    & (rows_case["protocol"] == ("none" if arm == "standalone" else protocol))
                ]
                if len(chosen):
                    groups[arm] = chosen["test_accuracy"].to_numpy()
            marks = (
                {a: v[0] for a, v in published.TRANSFER_REPEATS.items()}
                if reference_case and protocol == "same_source"
                else None
            )
            transfer_figures.arm_boxes(ax, groups, protocol.replace("_", " "), marks)
        low = min(ax.get_ylim()[0] for ax in axes)
        high = max(ax.get_ylim()[1] for ax in axes)
        for ax in axes:  # one scale, so the protocols compare at a glance
            ax.set_ylim(low, high)
        fig.suptitle(f"{case}: test accuracy over {t.repeats} repeats per arm")
        path, link = ctx.figure(f"transfer_{case}_box.png")
        plots.save(fig, path)
        parts.append(image(link, f"{case}: box plot of test accuracy per arm"))

        for protocol in protocols:
            rows = _protocol_rows(ctx, case, m, protocol, reference_case, fraction)
            parts.append(f"**{PROTOCOL_TITLES[protocol]}**")
            parts.append(table(rows))

        fig, axes = plots.figure(len(protocols), width=5.0, height=3.4)
        curves_case = curves[curves["case"] == case]
        for ax, protocol in zip(axes, protocols, strict=True):
            chosen = curves_case[curves_case["protocol"].isin(["none", protocol])]
            transfer_figures.arm_learning_curves(
                ax,
                chosen,
                [a for a in arms_order if a in set(chosen["arm"])],
                protocol.replace("_", " "),
            )
        fig.suptitle(f"{case}: test accuracy per epoch, mean and 95% band")
        path, link = ctx.figure(f"transfer_{case}_speed.png")
        plots.save(fig, path)
        parts.append(image(link, f"{case}: learning speed per arm"))
        parts.append(_case_paragraph(ctx, case, m, protocols, fraction, reference_case))
    if metrics:
        parts.append(
            "Δ vs standalone is the arm's mean minus standalone's with Welch's 95% interval "
            "(independent repeats); the arms of one protocol are tested together against "
            "the one standalone control, so each verdict uses its Holm-adjusted p-value. "
            "Mann-Whitney U p, Cohen's d (difference over the root mean of the two "
            "variances) and P(arm > standalone) = U / (n·n) describe the same comparison "
            "without a verdict. The published numbers are the reference's means and "
            "standard deviations over 30 repeats, all from one saved source model, so they "
            "are compared mean to mean with our same-source protocol (Welch's interval "
            "from both standard errors)."
        )
        note = diverged_note(metrics)
        if note:
            parts.append(note)
    return "\n\n".join(parts)
