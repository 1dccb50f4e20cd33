"""Markdown helpers every report section uses: number formats, tables, images, and the
context a section is written from."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from layerwise.pipeline.claims import lookup
from layerwise.pipeline.io import is_summary, read_json
from layerwise.pipeline.stats import BOOTSTRAP, T, interval_of, within_range

INTERVAL_NAMES = {T: "t", BOOTSTRAP: "BCa bootstrap"}  # as headers and captions say it


@dataclass
class ReportContext:
    cfg: Any  # the whole configuration (layerwise.config.Config); a section reads its part
    results: Path
    data: Path
    figures: Path  # reports/figures
    overrides: list[str]
    _claims: dict | None = field(default=None, repr=False)

    def figure(self, name: str) -> tuple[Path, str]:
        """(file to write, link to use in report.md) for a figure called `name`."""
        return self.figures / name, f"figures/{name}"

    def claim(self, name: str) -> dict | None:
        """The claim or family `name` as the claims stage wrote it
        (results/claims/detail.json), or None where this run makes no such claim."""
        if self._claims is None:
            path = self.results / "claims" / "detail.json"
            self._claims = read_json(path) if path.is_file() else {}
        return lookup(self._claims, name)

    def members(self, family: dict) -> list[tuple[str, dict]]:
        """A family's member claims as (name, claim), in its order."""
        return [(name, self.claim(name)) for name in family["members"]]


def fmt(x: float | None, digits: int = 3, sign: str = "") -> str:
    """A number to `digits` decimals ('+' as `sign`: always signed); '–' for a statistic of
    nothing (None, NaN)."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:{sign}.{digits}f}"


def signed(x: float | None, digits: int = 3) -> str:
    """A difference with its sign ('+0.012'); '–' where either side had no number."""
    return fmt(x, digits, sign="+")


def ci(summary: dict, digits: int = 3) -> str:
    if not summary.get("n", 1):
        return "–"
    return f"{fmt(summary['ci_low'], digits)}–{fmt(summary['ci_high'], digits)}"


def interval_name(metric: str) -> str:
    """How a metric's 95% CI is made, for a header or caption: 't' or 'BCa bootstrap'."""
    return INTERVAL_NAMES[interval_of(metric)]


def cell(summary: dict) -> str:
    """'mean ± std [95% CI]' in one table cell."""
    return f"{fmt(summary['mean'])} ± {fmt(summary['std'])} [{ci(summary)}]"


def quartiles(summary: dict, digits: int = 3) -> str:
    """'median [q1–q3]' of a summary made with the bootstrap (it carries the quartiles)."""
    if not summary.get("n", 1):
        return "–"
    return (
        f"{fmt(summary['median'], digits)} "
        f"[{fmt(summary['q1'], digits)}–{fmt(summary['q3'], digits)}]"
    )


def published_text(value) -> str:
    """A published number as the reference printed it; a (low, high) range as low–high."""
    if value is None:
        return "–"
    if isinstance(value, tuple):
        return f"{value[0].text}–{value[1].text}"
    return value.text


def diverged_count(summary: dict) -> str:
    """' (2 of 30 diverged)' for a summary that left diverged repeats out, else ''."""
    k = summary.get("diverged", 0)
    return f" ({k} of {k + summary['n']} diverged)" if k else ""


def diverged_note(metrics, what: str = "repeats") -> str:
    """A sentence on the repeats that diverged anywhere in a stage's metrics ('' if none).

    Every summary (`pipeline.stats.summarize`) leaves out the repeats whose loss went to
    inf/NaN and counts them as `diverged`; this says so once per section, with the worst
    count, so that a table of means over the others is read for what it is."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            if is_summary(node):
                if node.get("diverged"):
                    k = node["diverged"]
                    found.append((k, k + node["n"] if "n" in node else None, path))
                return
            for key, value in node.items():
                walk(value, (*path, str(key)))

    walk(metrics, ())
    if not found:
        return ""
    worst, total, where = max(found, key=lambda f: (f[0] / f[1]) if f[1] else f[0])
    of = "" if total is None else f" of {total}" + (" (every one)" if worst == total else "")
    return (
        f"**Diverged runs:** in {len(found)} of this section's summaries some {what} "
        f"diverged (loss inf/NaN): up to {worst}{of}, at "
        f"{' / '.join(where) or 'the top level'}. They are left out of the means, "
        "intervals and ranges, which describe the others; a summary with none left shows –."
    )


def summary_row(label: str, summary: dict, reference=None) -> dict:
    """One table row: our distribution over repeats beside the published number (a
    `Published`). A summary made with the bootstrap adds its median and quartiles, and its
    CI column says so."""
    robust = "median" in summary
    row = {
        "": label + diverged_count(summary),
        "mean ± std": f"{fmt(summary['mean'])} ± {fmt(summary['std'])}",
        f"95% CI ({INTERVAL_NAMES[BOOTSTRAP]})" if robust else "95% CI": ci(summary),
        **({"median [IQR]": quartiles(summary)} if robust else {}),
        "min–max": f"{fmt(summary['min'])}–{fmt(summary['max'])}" if summary.get("n", 1) else "–",
        "published": published_text(reference),
    }
    row["published within our range?"] = within(reference, summary)
    return row


def within(reference, summary: dict) -> str:
    """'yes' or '**no**': whether a published number (or range) meets our repeats'
    min..max, by its printed precision (`pipeline.stats.within_range`, the one rule); '–'
    without a published number or without repeats left to compare."""
    if reference is None or not summary.get("n", 1):
        return "–"
    return "yes" if within_range(reference, summary) else "**no**"


def table(rows: list[dict]) -> str:
    return pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True)


def image(link: str, alt: str) -> str:
    return f"![{alt}]({link})"


# -- claims (results/claims/detail.json) ----------------------------------------------------

DESIGN_NAMES = {  # how each claim's interval was made, as a sentence says it
    ("paired", "t"): "paired t",
    ("paired", "bootstrap"): "paired BCa bootstrap",
    ("welch", "t"): "Welch",
    ("welch", "bootstrap"): "BCa bootstrap",
    ("prediction", "t"): "95% prediction interval of one run",
    ("prediction", "bootstrap"): "2.5-97.5% quantiles of our runs",
    ("published_mean", "t"): "Welch, with the published std",
    ("published_mean", "bootstrap"): "Welch, with the published std",
}


def effect(claim: dict, digits: int = 3) -> str:
    """'+0.012 [+0.004, +0.020]': a claim's effect (A minus B) and its 95% interval."""
    if claim["effect"] is None:
        return "–"
    return (
        f"{signed(claim['effect'], digits)} "
        f"[{signed(claim['ci_low'], digits)}, {signed(claim['ci_high'], digits)}]"
    )


def design(claim: dict) -> str:
    """'paired t, n = 30' or 'Welch, n = 10 and 10'."""
    n = f"n = {claim['n']}" + (f" and {claim['n_b']}" if claim.get("n_b") else "")
    return f"{DESIGN_NAMES[claim['design'], claim['interval']]}, {n}"


def verdict(claim: dict) -> str:
    """The verdict, in bold where it is not inconclusive; for a family member, with its
    Holm-adjusted p-value."""
    word = claim["verdict"]
    text = word if word == "inconclusive" else f"**{word}**"
    if claim.get("family") and claim.get("p_adjusted") is not None:
        text += f" (Holm p {p_value(claim['p_adjusted'])})"
    return text


def claim_text(claim: dict | None, digits: int = 3) -> str:
    """'+0.012 [+0.004, +0.020] (paired t, n = 30): **holds**'; '' without a claim."""
    if claim is None:
        return ""
    return f"{effect(claim, digits)} ({design(claim)}): {verdict(claim)}"


def p_value(p: float | None) -> str:
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def family_text(members: list[tuple[str, dict]], where) -> str:
    """'holds at depths 3, 5 and reverses at depth 7 (Holm-corrected over 11); inconclusive
    at the other 8', with `where(name) -> str` naming a member's point from its name."""
    holds = [where(n) for n, c in members if c["verdict"] == "holds"]
    reverses = [where(n) for n, c in members if c["verdict"] == "reverses"]
    parts = []
    if holds:
        parts.append(f"holds at {', '.join(holds)}")
    if reverses:
        parts.append(f"reverses at {', '.join(reverses)}")
    if not parts:
        return f"is inconclusive at every one of the {len(members)} (Holm-corrected)"
    rest = len(members) - len(holds) - len(reverses)
    tail = f"; inconclusive at the other {rest}" if rest else ""
    return " and ".join(parts) + f" (Holm-corrected over {len(members)}){tail}"


def suffix(name: str, prefix: str) -> str:
    """The last part of a claim's dotted name without `prefix`: ('...depth_3', 'depth_') -> '3'."""
    return name.rsplit(".", 1)[-1].removeprefix(prefix)
