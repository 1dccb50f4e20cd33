"""The sweep report's figures, in the project's one figure style: a forest plot per group
of claims (each claim's effect and 95% interval in every setting, a zero line) and, where
one numeric key is swept, each claim's effect against that key with its interval as a
band."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

from matplotlib.ticker import NullFormatter

from layerwise.reporting.figures import COLORS, figure, save
from layerwise.sweeps.across import Across
from layerwise.sweeps.sweep import Sweep, flat_params, numeric_key

MARKERS = "osD^v<>ph*"  # with COLORS, eleven or more settings stay apart


def slug(text: str) -> str:
    """A file name part: letters, digits, '.', '_' and '-' kept, anything else '_'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _number(x) -> float:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else math.nan


def _short(name: str, group: str) -> str:
    return name[len(group) + 1 :] if name.startswith(group + ".") else name


def _metric_label(claims: Sequence[Across]) -> str:
    metrics = {c.record.get("metric") for c in claims}
    only = next(iter(metrics)) if len(metrics) == 1 else None
    return f"effect, A − B ({only})" if only else "effect, A − B"


def forest(group: str, claims: Sequence[Across], labels: Sequence[str], path: Path) -> None:
    """Each claim of `group` as a block of rows, one per setting (colour and marker:
    the setting), its effect with the 95% interval, and the zero line."""
    n_settings = len(labels)
    rows = len(claims) * n_settings
    fig, (ax,) = figure(1, width=6.4, height=1.3 + 0.17 * rows + 0.18 * n_settings)
    for c, claim in enumerate(claims):
        for s, (_, record) in enumerate(claim.rows):
            if record is None:
                continue
            y = c * (n_settings + 1) + s
            effect = _number(record.get("effect"))
            low, high = _number(record.get("ci_low")), _number(record.get("ci_high"))
            if math.isnan(effect):
                continue
            xerr = None if math.isnan(low) else [[effect - low], [high - effect]]
            ax.errorbar(
                effect,
                y,
                xerr=xerr,
                fmt=MARKERS[(s // len(COLORS)) % len(MARKERS)],
                ms=4,
                color=COLORS[s % len(COLORS)],
                capsize=2,
                lw=1.1,
                label=labels[s] if c == 0 else None,
            )
    ax.axvline(0, color="black", lw=0.8)
    centres = [c * (n_settings + 1) + (n_settings - 1) / 2 for c in range(len(claims))]
    ax.set_yticks(centres, [_short(c.name, group) for c in claims])
    for c in range(1, len(claims)):
        ax.axhline(c * (n_settings + 1) - 1, color="grey", lw=0.4, alpha=0.5)
    ax.set_ylim(len(claims) * (n_settings + 1) - 1, -1)  # first claim on top
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(_metric_label(claims))
    ax.set_title(f"{group}: effect and 95% CI in each setting")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.5 / (1 + 0.13 * rows)),
        fontsize=7,
        ncol=1 if n_settings > 6 else 2,
    )
    save(fig, path)


def trend(
    group: str, claims: Sequence[Across], key: str, values: Sequence[float], path: Path
) -> None:
    """Each claim's effect against the swept key, its 95% interval as a band, the zero
    line; a log axis where the key spans two decades or more."""
    fig, (ax,) = figure(1, width=5.6, height=3.6)
    x = [float(v) for v in values]
    for c, claim in enumerate(claims):
        records = [r or {} for _, r in claim.rows]
        effect = [_number(r.get("effect")) for r in records]
        low = [_number(r.get("ci_low")) for r in records]
        high = [_number(r.get("ci_high")) for r in records]
        color = COLORS[c % len(COLORS)]
        marker = MARKERS[(c // len(COLORS)) % len(MARKERS)]
        ax.plot(
            x, effect, marker=marker, ms=3, lw=1.3, color=color, label=_short(claim.name, group)
        )
        ax.fill_between(x, low, high, color=color, alpha=0.15, lw=0)
    ax.axhline(0, color="black", lw=0.8)
    if min(x) > 0 and max(x) / min(x) >= 100:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # the swept values label the axis
    ax.set_xticks(x, [f"{v:g}" for v in x])
    ax.set_xlabel(key)
    ax.set_ylabel(_metric_label(claims))
    ax.set_title(f"{group}: effect against {key}")
    ax.legend(loc="best", fontsize=6 if len(claims) > 6 else 7, ncol=2 if len(claims) > 8 else 1)
    save(fig, path)


def draw(sweep: Sweep, groups: dict[str, list[Across]], folder: Path, link: str):
    """Every figure of the report into `folder`: group -> [(link, alt text)]."""
    labels = [s.label for s in sweep.settings]
    key = numeric_key(sweep)
    values = [flat_params(s)[key] for s in sweep.settings] if key else []
    drawn: dict[str, list[tuple[str, str]]] = {}
    for group, items in groups.items():
        claims = [i for i in items if not i.family and _has_effect(i)]
        if not claims:
            continue
        name = f"{slug(group)}-forest.png"
        forest(group, claims, labels, folder / name)
        drawn.setdefault(group, []).append((f"{link}/{name}", f"{group}: forest plot"))
        if key:
            name = f"{slug(group)}-by-{slug(key)}.png"
            trend(group, claims, key, values, folder / name)
            drawn[group].append((f"{link}/{name}", f"{group}: effect against {key}"))
    return drawn


def _has_effect(item: Across) -> bool:
    return any(r is not None and r.get("effect") is not None for _, r in item.rows)
