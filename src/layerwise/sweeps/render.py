"""The sweep report's markdown, rendered from facts (settings, each claim across them,
P(A>B)) that across.py and sweep.py computed: nothing here computes a comparison."""

from __future__ import annotations

from collections.abc import Sequence

from layerwise.reporting.markdown import fmt, image, signed, table
from layerwise.sweeps.across import Across, per_setting_probability
from layerwise.sweeps.experiments import DETAIL
from layerwise.sweeps.improvement import N_RESAMPLES
from layerwise.sweeps.sweep import Sweep, flat_params, value_text


def _effect(record: dict | None) -> str:
    if record is None:
        return "not made"
    effect = signed(record.get("effect"), 4)
    low, high = record.get("ci_low"), record.get("ci_high")
    if low is None or high is None:
        return effect
    return f"{effect} [{signed(low, 4)}, {signed(high, 4)}]"


def _n(record: dict) -> str:
    n, n_b = record.get("n"), record.get("n_b")
    if n is None:
        return "–"
    return f"{n} / {n_b}" if n_b is not None else str(n)


def _improvement_text(item: Across) -> str:
    imp = item.improvement
    if imp is None:
        return ""
    k = len(imp.per_setting)
    where = "the one setting with repeats of both" if k == 1 else f"the {k} settings"
    return (
        f" P(A>B) over {where}: {fmt(imp.probability, 2)} [{fmt(imp.low, 2)}, {fmt(imp.high, 2)}]."
    )


def _about(record: dict) -> str:
    parts = [f"A = {record['a']}, B = {record['b']}" if record.get("a") else ""]
    parts += [f"{k}: {record[k]}" for k in ("metric", "design", "interval") if record.get(k)]
    return "; ".join(p for p in parts if p)


def claim_section(item: Across) -> list[str]:
    record = item.record
    two_arm = item.improvement is not None
    rows = []
    for setting, r in item.rows:
        row = {
            "setting": setting.label,
            "experiment": setting.experiment.name,
            "effect [95% CI]": _effect(r),
            "verdict": r.get("verdict", "–") if r else "–",
            "n": _n(r) if r else "–",
        }
        if two_arm:
            row["P(A>B)"] = fmt(per_setting_probability(r), 2)
        rows.append(row)
    return [
        f"#### `{item.name}`",
        "",
        f"{record.get('statement', '')} ({_about(record)})".strip(),
        "",
        table(rows),
        "",
        f"> **{item.name}**: {item.sentence}.{_improvement_text(item)}",
        "",
    ]


def family_section(item: Across, members: dict[str, Across]) -> list[str]:
    record = item.record
    rows = [
        {
            "setting": setting.label,
            "experiment": setting.experiment.name,
            "verdict": r.get("verdict", "–") if r else "not made",
            "members that hold": str(r.get("holds", "–")) if r else "–",
            "reverse": str(r.get("reverses", "–")) if r else "–",
            "of": str(r.get("m", "–")) if r else "–",
        }
        for setting, r in item.rows
    ]
    correction = record.get("correction")
    lines = [
        f"#### `{item.name}` (a family of {len(item.members)} claims"
        + (f", {correction.title()}'s correction within it)" if correction else ")"),
        "",
        record.get("statement", ""),
        "",
        table(rows),
        "",
        f"> **{item.name}**: {item.sentence}.",
        "",
    ]
    shown = [members[m] for m in item.members if m in members]
    if shown:
        matrix = []
        for member in shown:
            row = {"claim": f"`{member.name.removeprefix(item.name + '.')}`"}
            for setting, r in member.rows:
                row[setting.label] = _effect(r) + (f" {r.get('verdict')}" if r else "")
            matrix.append(row)
        lines += ["Its claims, effect [95% CI] and verdict in each setting:", "", table(matrix), ""]
        lines += [f"- `{m.name}`: {m.sentence}.{_improvement_text(m)}" for m in shown]
        lines.append("")
    return lines


def group_section(group: str, items: Sequence[Across], figures: list[tuple[str, str]]) -> list[str]:
    lines = [f"### {group}", ""]
    lines += [image(link, alt) + "\n" for link, alt in figures]
    families = [i for i in items if i.family]
    members = {i.name: i for i in items if not i.family}
    in_family = {m for f in families for m in f.members}
    for item in items:
        if not item.family and item.name not in in_family:
            lines += claim_section(item)
    for family in families:
        lines += family_section(family, members)
    return lines


def experiments_section(sweep: Sweep) -> list[str]:
    rows = []
    for setting in sweep.settings:
        params = flat_params(setting)
        exp = setting.experiment
        row = {"experiment": exp.name, "commit": exp.rev[:7]}
        row.update({key: value_text(params, key) for key in sweep.keys})
        rows.append(row)
    n_keys = len({k for s in sweep.settings for k in flat_params(s)})
    lines = ["## Experiments", "", table(rows), ""]
    lines.append(
        f"Only the params that differ between them are shown; the other "
        f"{n_keys - len(sweep.keys)} keys of params.yaml are the same in every one."
    )
    lines.append("")
    if sweep.left_out:
        lines += ["Left out:", ""]
        lines += [f"- `{x.experiment.name}` ({x.label}): {x.reason}" for x in sweep.left_out]
        lines.append("")
    return lines


def improvement_section(groups: dict[str, list[Across]], resample_settings: bool) -> list[str]:
    items = [i for g in groups.values() for i in g if i.improvement is not None]
    if not items:
        return []
    rows = [
        {
            "claim": f"`{i.name}`",
            "A": i.record.get("a", "–"),
            "B": i.record.get("b", "–"),
            "metric": i.record.get("metric", "–"),
            "settings": str(len(i.improvement.per_setting)),
            "P(A>B) [95% CI]": f"{fmt(i.improvement.probability, 2)} "
            f"[{fmt(i.improvement.low, 2)}, {fmt(i.improvement.high, 2)}]",
        }
        for i in items
    ]
    over = (
        "repeats within each setting and the settings themselves"
        if resample_settings
        else "repeats within each setting, the settings held fixed"
    )
    scope = (
        "for settings like these, as a sample of them"
        if resample_settings
        else "for these settings, not for others like them (`--resample-settings` treats "
        "them as a sample and resamples them too)"
    )
    return [
        "## How likely A beats B across settings",
        "",
        "P(A>B) is the chance that a repeat of A scores higher than a repeat of B run in "
        "the same setting (a tie counts half), averaged over the settings with equal "
        "weight: 0.5 means neither arm tends to win, 1 that A always does.",
        f"Its 95% interval is a stratified bootstrap: {N_RESAMPLES:,} resamples of the "
        f"{over}, the 2.5th and 97.5th percentiles of the resampled P(A>B); it speaks {scope}.",
        "",
        table(rows),
        "",
    ]


def render(
    sweep: Sweep,
    groups: dict[str, list[Across]],
    figures: dict[str, list[tuple[str, str]]],
    *,
    where: str,
    command: str,
    resample_settings: bool,
) -> str:
    k = len(sweep.left_out)
    left_out = f" ({k} more left out: see below)" if k else ""
    lines = [
        "# Sweep report",
        "",
        f"{len(sweep.settings)} experiments {where}{left_out}, side by side: each one's claims "
        f"({DETAIL}, version {sweep.version}) as its own claims stage made them. Written "
        f"by `{command}`, which reads them from DVC and trains nothing; docs/statistics.md "
        "explains every number.",
        "",
        *experiments_section(sweep),
        "## Claims",
        "",
        "Each claim has one row per setting: the effect (A − B in the claim's metric) with "
        "its 95% confidence interval and the verdict, as that experiment computed them; the "
        "quoted line says where the claim holds, reverses or is inconclusive. A figure per "
        "group of claims shows every effect and interval, with a line at zero.",
        "",
    ]
    for group, items in groups.items():
        lines += group_section(group, items, figures.get(group, []))
    lines += improvement_section(groups, resample_settings)
    return "\n".join(lines).rstrip() + "\n"
