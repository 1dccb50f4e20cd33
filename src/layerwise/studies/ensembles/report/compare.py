"""The one-budget comparison of every method (stage ensemble_compare)."""

from __future__ import annotations

from layerwise.pipeline.io import read_csv, read_json
from layerwise.reporting.markdown import (
    ReportContext,
    ci,
    claim_text,
    diverged_note,
    family_text,
    fmt,
    image,
    interval_name,
    signed,
    table,
)
from layerwise.studies.ensembles import figures as plots
from layerwise.studies.ensembles.report.common import nll_cells


def compare_rows(summary: dict) -> list[dict]:
    rows = []
    for arm in summary["arms"].values():
        acc = arm["test_accuracy"]
        cost = str(arm["member_epochs"]) + (f" {arm['note']}" if arm["note"] else "")
        rows.append(
            {
                "method": arm["label"],
                "kind": arm["kind"],
                "members trained on": arm["trained_on"],
                "fitted on": arm["fitted_on"],
                "test accuracy (95% CI)": f"{fmt(acc['mean'])} ({ci(acc)})",
                **nll_cells(arm["test_nll"]),
                "member-epochs": cost,
                "best single member": fmt(arm["best_single"]["mean"]),
                "diversity": fmt(arm["diversity"]["mean"]) if arm["n_members"] > 1 else "–",
            }
        )
    return rows


def _mean(arm: dict, metric: str = "test_accuracy") -> float:
    return arm[metric]["mean"]


def compare_text(ctx: ReportContext, summary: dict) -> str:
    """What the comparison table says, from its numbers and the claims."""
    arms = summary["arms"]
    B, E = summary["budget"], summary["epochs_per_member"]
    single, member = arms["single_model"], arms["single_member"]
    ensembles = {k: a for k, a in arms.items() if a["group"] != "reference"}
    ranked = sorted(ensembles.values(), key=_mean, reverse=True)
    best, worst = ranked[0], ranked[-1]
    s_acc = single["test_accuracy"]

    def name(arm: dict) -> str:
        return f"*{arm['label']}*"

    text = [
        f"With the same {B} member-epochs, the most accurate ensemble is {name(best)}: "
        f"{fmt(_mean(best))} ({ci(best['test_accuracy'])}), {signed(_mean(best) - _mean(single))} "
        f"against one model trained for all {B} epochs ({fmt(_mean(single))}, {ci(s_acc)})."
    ]
    top = ctx.claim("ensembles.compare.best_vs_runner_up")
    if top:
        text.append(
            f"Best minus runner-up ({top['b']}), repeat by repeat: {claim_text(top)}; both "
            "are picked by these means, which flatters the best a little."
        )
    gain = {id(a): _mean(a) - _mean(member) for a in (best, worst, single)}
    text.append(
        f"Every row but the {E}-epoch member spends {B} member-epochs, so accuracy per "
        "member-epoch ranks the methods as accuracy does. Over one member trained for "
        f"{E} epochs ({fmt(_mean(member))}), the other {B - E} member-epochs buy "
        f"{signed(gain[id(best)])} as {name(best)} "
        f"({signed(gain[id(best)] * 1000 / (B - E), 4)} per "
        f"1,000 member-epochs), {signed(gain[id(single)])} spent on training one model longer, "
        f"and {signed(gain[id(worst)])} as {name(worst)}, the least."
        + (f" ({name(best)} also trains {best['note'].lstrip('+ ')}.)" if best["note"] else "")
    )
    family = ctx.claim("ensembles.compare.vs_single_model")
    if family:
        labels = {f"ensembles.compare.vs_single_model.{k}": name(a) for k, a in arms.items()}
        text.append(
            f"Against the {B}-epoch single model, repeat by repeat (every repeat shares its "
            "splits and test rows; horizontal voting and weight averaging are that very run's "
            "last epochs), the claim that an ensemble beats it "
            + family_text(ctx.members(family), labels.get)
            + ": "
            + "; ".join(f"{labels[n]} {claim_text(c, 4)}" for n, c in ctx.members(family))
            + "."
        )
    fitted = [
        a for a in ensembles.values() if a["fitted_on"] == "validation" and a["group"] == "members"
    ]
    if fitted and "averaging" in arms:
        plain = arms["averaging"]
        text.append(
            f"The fitted combiners learn from {summary['validation_rows']} validation rows "
            f"while their members train on the other "
            f"{summary['training_rows'] - summary['validation_rows']}: "
            + "; ".join(
                f"{name(a)} {fmt(_mean(a))} ({signed(_mean(a) - _mean(plain))})" for a in fitted
            )
            + f", against {name(plain)} on every row at {fmt(_mean(plain))}."
        )
    if {"snapshot", "snapshot_validation"} <= set(arms):
        chosen, every = arms["snapshot_validation"], arms["snapshot"]
        sizes = summary.get("chosen", {}).get("snapshot_sizes") or [0]
        text.append(
            f"Choosing the snapshot ensemble's size on validation (sizes {min(sizes)} to "
            f"{max(sizes)}, mean {sum(sizes) / len(sizes):.1f} of {summary['n_members']}) "
            f"gives {fmt(_mean(chosen))} against {fmt(_mean(every))} for all snapshots "
            f"({signed(_mean(chosen) - _mean(every))})."
        )
    diverse = sorted(ensembles.values(), key=lambda a: _mean(a, "diversity"), reverse=True)
    most = diverse[0]
    text.append(
        "The members' mean pairwise disagreement on the test rows runs from "
        f"{fmt(_mean(most, 'diversity'))} ({name(most)}) to "
        f"{fmt(_mean(diverse[-1], 'diversity'))} ({name(diverse[-1])}); the most diverse "
        f"members {'make' if most is best else 'do not make'} the most accurate ensemble."
    )
    lowest = min(arms.values(), key=lambda a: _mean(a, "test_nll"))
    text.append(
        f"The lowest mean negative log-likelihood, {fmt(_mean(lowest, 'test_nll'))} (median "
        f"{fmt(lowest['test_nll']['median'])}), belongs to {name(lowest)}; the {B}-epoch "
        f"single model has {fmt(_mean(single, 'test_nll'))} (median "
        f"{fmt(single['test_nll']['median'])})."
    )
    return " ".join(text)


def compare_part(ctx: ReportContext) -> list[str]:
    """The comparison of every method on one dataset and one budget, if it has run."""
    out = ctx.results / "ensemble_compare"
    if not (out / "summary.json").is_file():
        return []
    summary = read_json(out / "summary.json")
    repeats = read_csv(out / "repeats.csv")
    path, link = ctx.figure("ensemble_compare.png")
    plots.method_dots(
        read_csv(out / "table.csv"),
        repeats,
        "single_model",
        f"{summary['budget']} member-epochs per method ({summary['dataset']}, "
        f"{summary['repeats']} repeats); band: the single model",
        path,
    )
    parts = [
        "### One budget, every method",
        f"Every method on **{summary['dataset']}** ({summary['training_rows']} training rows, "
        f"{summary['test_rows']} test rows) with the same member network (Dense("
        f"{summary['hidden_units']}, relu) -> softmax, {summary['optimizer']} at "
        f"{summary['learning_rate']}, batch {summary['batch_size']}) and the same budget of "
        f"**{summary['budget']} member-epochs**: independent members train "
        f"{summary['n_members']} x {summary['epochs_per_member']} epochs, single-run methods "
        f"one network for {summary['budget']} epochs. Weights, meta-learners and the "
        f"snapshot ensemble's size are fitted on {summary['validation_rows']} validation "
        "rows carved from the training rows (per repeat), never on the test rows; the "
        "members they combine train on the rest. Over "
        f"{summary['repeats']} repeats of all training: mean test accuracy with its 95% CI "
        f"({interval_name('test_accuracy')}), the mean NLL with its 95% CI "
        f"({interval_name('test_nll')}: the NLL is never negative and skewed over repeats) "
        "and its median [interquartile range], the best single member, and diversity (the "
        "members' mean pairwise disagreement on the test rows; for weight averaging, "
        "among the averaged checkpoints). Horizontal voting and weight averaging draw on "
        "the very run behind the single-model row.",
        table(compare_rows(summary)),
        image(link, "every method at one budget"),
        compare_text(ctx, summary),
    ]
    note = diverged_note(summary)
    if note:
        parts.append(note)
    timing = ctx.results / "timing" / "ensemble_compare.json"
    if timing.is_file():
        parts.append(f"The comparison's last run took {read_json(timing)['wall_seconds']:.0f} s.")
    return parts
