"""Each claim across the settings of a sweep: its row in every setting, the sentence a
person can quote ("holds in 2 of 3 settings; reverses at optimizer.learning_rate=0.1;
inconclusive elsewhere") and, for a claim between two arms, P(A>B) across settings
(docs/statistics.md#each-claim-across-settings).

Facts only: report.py renders them, figures.py draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from layerwise.sweeps.improvement import Arms, Improvement, improvement, probability
from layerwise.sweeps.sweep import Setting, Sweep

# the order a sentence names verdicts in; `holds` opens it
VERDICTS = ("holds", "reverses", "differs", "mixed", "inconclusive")
NAMED_SETTINGS = 3  # a clause names up to this many settings, beyond it counts them


@dataclass(frozen=True)
class Across:
    name: str  # the claim's (or family's) dotted name
    family: bool  # a family of claims (verdict and tally, no effect of its own)
    record: dict  # its record in the first setting that made it (statement, arms, ...)
    rows: list[tuple[Setting, dict | None]]  # each setting's record (None: not made there)
    sentence: str
    improvement: Improvement | None  # P(A>B) across settings: two-arm claims only
    members: tuple[str, ...] = ()  # a family's claims (as every setting lists them)

    @property
    def group(self) -> str:
        """The group it is shown in: a family joins its members' group."""
        return group_of(self.members[0] if self.members else self.name)


def group_of(name: str) -> str:
    """The group a claim's figure shows it in: its name without the last part
    ('transfer.forward.frozen_0' -> 'transfer.forward')."""
    return name.rsplit(".", 1)[0] if "." in name else name


def _where(labels: Sequence[str]) -> str:
    if len(labels) > NAMED_SETTINGS:
        return f"in {len(labels)} settings"
    return "at " + " and ".join(f"({x})" if ", " in x else x for x in labels)


def sentence(verdicts: Sequence[tuple[str, str | None]]) -> str:
    """Where a claim holds, reverses or is inconclusive, from (setting label, verdict or
    None where the setting did not make the claim)."""
    made = [(label, v) for label, v in verdicts if v is not None]
    missing = [label for label, v in verdicts if v is None]
    order = list(VERDICTS) + sorted({v for _, v in made} - set(VERDICTS))
    groups = {v: [label for label, w in made if w == v] for v in order}
    groups = {v: labels for v, labels in groups.items() if labels}
    n = len(made)
    if n == 0:
        clauses = ["made in none of the settings"]
    elif len(groups) == 1:
        (verdict,) = groups
        clauses = [f"{verdict} in all {n} settings" if n > 1 else f"{verdict} in the one setting"]
    else:
        k = len(groups.get("holds", ()))
        clauses = [f"holds in {k} of {n} settings" if k else f"holds in none of the {n} settings"]
        others = [v for v in groups if v != "holds"]
        for i, verdict in enumerate(others):
            last = i == len(others) - 1
            where = "elsewhere" if last and len(others) > 1 else _where(groups[verdict])
            clauses.append(f"{verdict} {where}")
    if missing:
        clauses.append(f"not made {_where(missing)}")
    return "; ".join(clauses)


def _listed(sweep: Sweep, section: str) -> dict[str, dict]:
    """Every claim (`section` 'claims') or family ('families') in the settings, by name,
    in the order the claims files list them (first setting first): its first record."""
    found: dict[str, dict] = {}
    for setting in sweep.settings:
        for name, record in (setting.detail.get(section) or {}).items():
            found.setdefault(name, record)
    return found


def _arms(record: dict | None) -> Arms | None:
    """A setting's repeats of both arms, or None (a published comparison, or no repeat
    left on one side)."""
    if not record or not record.get("a_values") or not record.get("b_values"):
        return None
    a, b = record["a_values"], record["b_values"]
    return Arms(a, b, paired=record.get("design") == "paired" and len(a) == len(b))


def per_setting_probability(record: dict | None) -> float | None:
    """P(A>B) within one setting (None where the claim has no repeats of both arms)."""
    arms = _arms(record)
    return None if arms is None else probability(arms.a, arms.b)


def across(
    sweep: Sweep, name: str, family: bool = False, resample_settings: bool = False
) -> Across:
    """One claim (or family) across the settings of `sweep`."""
    section = "families" if family else "claims"
    rows = [(s, (s.detail.get(section) or {}).get(name)) for s in sweep.settings]
    made = [r for _, r in rows if r is not None]
    if not made:
        raise ValueError(f"no setting makes the claim {name!r}")
    verdicts = [(s.label, r.get("verdict") if r else None) for s, r in rows]
    arms = [] if family else [a for a in (_arms(r) for r in made) if a is not None]
    members = {m: None for r in made for m in r.get("members") or ()} if family else {}
    return Across(
        name=name,
        family=family,
        record=made[0],
        rows=rows,
        sentence=sentence(verdicts),
        improvement=improvement(arms, name, resample_settings=resample_settings) if arms else None,
        members=tuple(members),
    )


def all_across(
    sweep: Sweep, headline_only: bool = True, resample_settings: bool = False
) -> dict[str, list[Across]]:
    """Every claim and family the report shows, by group, in the claims files' order:
    the headline ones (those `dvc exp show` lists) and the members of a headline family,
    or with `headline_only` False every one."""
    claims, families = _listed(sweep, "claims"), _listed(sweep, "families")
    shown_families = [
        across(sweep, name, True)
        for name, record in families.items()
        if record.get("headline") or not headline_only
    ]
    in_shown_family = {m for f in shown_families for m in f.members}
    groups: dict[str, list[Across]] = {}
    for name, record in claims.items():
        if record.get("headline") or name in in_shown_family or not headline_only:
            item = across(sweep, name, False, resample_settings)
            groups.setdefault(item.group, []).append(item)
    for item in shown_families:
        groups.setdefault(item.group, []).append(item)
    return groups
