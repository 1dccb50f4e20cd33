"""The transfer study's report section, written from results/transfer*/ only."""

from __future__ import annotations

from layerwise.pipeline.io import read_csv, read_json
from layerwise.pipeline.stats import within_range
from layerwise.reporting import figures as plots
from layerwise.reporting.markdown import (
    ReportContext,
    ci,
    diverged_note,
    fmt,
    image,
    published_text,
    table,
)
from layerwise.studies.transfer import figures as transfer_figures
from layerwise.studies.transfer import published

PROTOCOL_TITLES = {
    "same_source": "same source (every repeat starts from the one saved source model)",
    "fresh_source": "fresh source (each repeat trains its own source model first)",
}
ARM_NOTES = {
    "standalone": "fresh random weights",
    "new_hidden": "both hidden layers frozen + a new random hidden layer",
}
SIGNIFICANT = 0.05


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


def _mean_in_ci(published_mean, summary: dict) -> bool:
    """A published mean over repeats against our 95% CI of the mean (printed precision
    included: the one rule of `within_range`)."""
    return within_range(published_mean, summary, ("ci_low", "ci_high"))


def _arm_row(arm: str, entry: dict, reference, fraction: float, reinit_keep: int) -> dict:
    test = entry["test_accuracy"]
    versus = entry.get("vs_standalone")
    row = {
        "arm": arm,
        "test accuracy mean ± std": f"{fmt(test['mean'])} ± {fmt(test['std'])}",
        "95% CI": ci(test),
        "min–max": f"{fmt(test['min'])}–{fmt(test['max'])}",
        "published mean (std)": "–"
        if reference is None
        else (f"{published_text(reference[0])} ({published_text(reference[1])})"),
        "published mean in our CI?": "–"
        if reference is None
        else ("yes" if _mean_in_ci(reference[0], test) else "**no**"),
        "Δ vs standalone": "–" if versus is None else f"{versus['difference']:+.3f}",
        "Welch p": "–" if versus is None else _p(versus["welch_p"]),
        "Mann-Whitney p": "–" if versus is None else _p(versus["mann_whitney_p"]),
        "Cohen's d": "–"
        if versus is None or versus["cohens_d"] is None
        else (f"{versus['cohens_d']:+.2f}"),
        "P(arm > standalone)": "–" if versus is None else fmt(versus["p_superiority"], 2),
        f"epochs to {fraction:.0%} of final": fmt(entry["epochs_to_reach"]["mean"], 1),
    }
    return row


def _verdict(arm: str, entry: dict) -> str:
    """One clause, from the numbers, on how an arm compares with standalone."""
    versus = entry["vs_standalone"]
    if versus is None:
        return f"{arm} not comparable with standalone (fewer than two repeats did not diverge)"
    diff, p_welch, p_mw = versus["difference"], versus["welch_p"], versus["mann_whitney_p"]
    both = p_welch is not None and p_welch < SIGNIFICANT and p_mw < SIGNIFICANT
    either = (p_welch is not None and p_welch < SIGNIFICANT) or p_mw < SIGNIFICANT
    direction = "above" if diff > 0 else "below"
    if both:
        strength = "significantly"
    elif either:
        strength = "by one of the two tests"
    else:
        strength = "not significantly"
    return (
        f"{arm} {abs(diff):.3f} {direction} standalone ({strength}; Welch p "
        f"{_p(p_welch)}, Mann-Whitney p {_p(p_mw)})"
    )


def _overlap(a: dict, b: dict) -> bool:
    return a["ci_low"] <= b["ci_high"] and b["ci_low"] <= a["ci_high"]


def _case_paragraph(
    case: str, m: dict, protocols: list[str], fraction: float, reference_case: bool
) -> str:
    standalone = m["standalone"]
    s_test = standalone["test_accuracy"]
    text = [
        f"Standalone reaches {fmt(s_test['mean'])} ± {fmt(s_test['std'])} (95% CI {ci(s_test)})."
    ]
    for protocol in protocols:
        arms = m.get(protocol, {})
        if not arms:
            continue
        best = max(arms, key=lambda a: arms[a]["test_accuracy"]["mean"])
        best_test = arms[best]["test_accuracy"]
        overlap = _overlap(best_test, s_test)
        clauses = "; ".join(_verdict(a, e) for a, e in arms.items())
        text.append(
            f"With the {protocol.replace('_', ' ')} protocol the best transfer arm is "
            f"**{best}** at "
            f"{fmt(best_test['mean'])} ± {fmt(best_test['std'])}; its 95% CI "
            f"{'overlaps' if overlap else 'does not overlap'} standalone's. Arm by arm: "
            f"{clauses}."
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
            entry = standalone if arm == "standalone" else m["same_source"].get(arm)
            if entry is not None and not _mean_in_ci(mean, entry["test_accuracy"]):
                outside.append(
                    f"{arm} ({published_text(mean)} vs our {fmt(entry['test_accuracy']['mean'])})"
                )
        text.append(
            "Published means outside our 95% CI: " + ", ".join(outside) + "."
            if outside
            else "Every published mean lies inside our 95% CI."
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
        reference_case = (
            case_cfg.source == "p1" and case_cfg.dataset == "transfer_p2" and not case_cfg.classes
        )
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
            rows = [
                _arm_row(
                    "standalone",
                    m["standalone"],
                    _published(reference_case, protocol, "standalone"),
                    fraction,
                    t.reinit_keep,
                )
            ]
            rows += [
                _arm_row(
                    arm, entry, _published(reference_case, protocol, arm), fraction, t.reinit_keep
                )
                for arm, entry in m[protocol].items()
            ]
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
        parts.append(_case_paragraph(case, m, protocols, fraction, reference_case))
    if metrics:
        parts.append(
            "Tests: Welch's t (unequal variances) and Mann-Whitney U, two-sided, each "
            "arm against standalone; Cohen's d uses the root mean of the two variances; "
            "P(arm > standalone) is U / (n·n). The published numbers are the "
            "reference's 30 repeats, all from one saved source model, so they belong "
            "beside our same-source protocol."
        )
        note = diverged_note(metrics)
        if note:
            parts.append(note)
    return "\n\n".join(parts)
