"""Claims: a study's conclusions as data.

A claim is a named effect (`pipeline.effects.Effect`: A minus B, or ours minus a
published number) with a stated direction and a verdict read from its interval:

- direction GREATER (the claim is "A beats B"): `holds` when the 95% interval lies above
  zero, `reverses` when it lies below, `inconclusive` otherwise;
- direction AGREE (the claim is "we reproduce the published number"): `holds` when the
  interval contains zero, `differs` when it does not.

Where one sentence tests many comparisons at once (every depth, every label budget, every
arm against one control) they form a family: each member's verdict then comes from its
Holm-adjusted p-value (family-wise error at most ALPHA), and the family's own verdict
says whether some member holds, some reverses, both (`mixed`) or none.

The `claims` stage writes every claim to results/claims/detail.json (the report and the
sweep report read it) and the headline ones, effect and verdict only, to
results/claims/claims.json, the small file `dvc exp show` lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from layerwise.pipeline.effects import Effect, holm

CLAIMS_VERSION = 1  # bump when claim names or their meaning change
ALPHA = 0.05

GREATER = "greater"
AGREE = "agree"

HOLDS, REVERSES, INCONCLUSIVE, DIFFERS, MIXED = (
    "holds",
    "reverses",
    "inconclusive",
    "differs",
    "mixed",
)


@dataclass
class Claim:
    """One comparison: `effect` is `a` minus `b` on `metric`."""

    name: str  # dotted, as `dvc exp show` will show it: "greedy.supervised.vs_end_to_end.deepest"
    statement: str  # the claim in words, as a person would quote it
    a: str
    b: str
    metric: str
    effect: Effect
    direction: str = GREATER
    headline: bool = True  # listed in claims.json (dvc exp show), not only in detail.json
    family: str | None = None
    p_adjusted: float | None = None

    @property
    def study(self) -> str:
        return self.name.split(".")[0]

    @property
    def verdict(self) -> str:
        e = self.effect
        if self.direction == AGREE:
            if not e.defined:
                return INCONCLUSIVE
            return HOLDS if e.low <= 0 <= e.high else DIFFERS
        if self.family is not None:  # Holm-adjusted within its family
            if self.p_adjusted is None or not math.isfinite(self.p_adjusted):
                return INCONCLUSIVE
            if self.p_adjusted >= ALPHA or e.estimate == 0:
                return INCONCLUSIVE
            return HOLDS if e.estimate > 0 else REVERSES
        if not e.defined:
            return INCONCLUSIVE
        if e.low > 0:
            return HOLDS
        if e.high < 0:
            return REVERSES
        return INCONCLUSIVE

    def detail(self) -> dict:
        e = self.effect
        return {
            "study": self.study,
            "statement": self.statement,
            "a": self.a,
            "b": self.b,
            "metric": self.metric,
            "design": e.design,
            "interval": e.interval,
            "direction": self.direction,
            "effect": _number(e.estimate),
            "ci_low": _number(e.low),
            "ci_high": _number(e.high),
            "n": e.n,
            "n_b": e.n_b,
            "p": _number(e.p),
            "p_adjusted": _number(self.p_adjusted),
            "family": self.family,
            "headline": self.headline,
            "verdict": self.verdict,
            "a_values": [float(x) for x in e.a_values],
            "b_values": None if e.b_values is None else [float(x) for x in e.b_values],
        }

    def headline_leaves(self) -> dict:
        effect = self.effect.estimate
        return {
            "effect": round(effect, 4) if math.isfinite(effect) else None,
            "verdict": self.verdict,
        }


@dataclass
class Family:
    """Comparisons one sentence makes at once: Holm's correction across `members`."""

    name: str
    statement: str
    members: list[Claim] = field(default_factory=list)
    headline: bool = True

    def __post_init__(self):
        adjusted = holm([c.effect.p for c in self.members])
        for claim, p in zip(self.members, adjusted, strict=True):
            claim.family = self.name
            claim.p_adjusted = float(p)

    @property
    def study(self) -> str:
        return self.name.split(".")[0]

    def count(self, verdict: str) -> int:
        return sum(c.verdict == verdict for c in self.members)

    @property
    def verdict(self) -> str:
        holds, reverses = self.count(HOLDS), self.count(REVERSES)
        if holds and reverses:
            return MIXED
        if holds:
            return HOLDS
        if reverses:
            return REVERSES
        return INCONCLUSIVE

    def tally(self) -> str:
        """'2 hold, 1 reverses, 8 inconclusive of 11'."""
        return (
            f"{self.count(HOLDS)} hold, {self.count(REVERSES)} reverse, "
            f"{self.count(INCONCLUSIVE)} inconclusive of {len(self.members)}"
        )

    def detail(self) -> dict:
        return {
            "study": self.study,
            "statement": self.statement,
            "members": [c.name for c in self.members],
            "correction": "holm",
            "verdict": self.verdict,
            "holds": self.count(HOLDS),
            "reverses": self.count(REVERSES),
            "m": len(self.members),
            "headline": self.headline,
        }

    def headline_leaves(self) -> dict:
        return {"verdict": self.verdict, "tally": self.tally()}


@dataclass
class Claims:
    """Every claim and family of a run, in the order the studies state them."""

    claims: list[Claim] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)

    def add(self, *claims: Claim) -> None:
        self.claims.extend(claims)

    def add_family(self, family: Family) -> Family:
        self.families.append(family)
        self.claims.extend(family.members)
        return family

    def extend(self, other: Claims) -> None:
        self.claims += other.claims
        self.families += other.families

    def names(self) -> list[str]:
        return [c.name for c in self.claims] + [f.name for f in self.families]

    def detail(self) -> dict:
        names = self.names()
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"claim names must be unique: {', '.join(duplicates)}")
        return {
            "version": CLAIMS_VERSION,
            "alpha": ALPHA,
            "claims": {c.name: c.detail() for c in self.claims},
            "families": {f.name: f.detail() for f in self.families},
        }

    def headlines(self) -> dict:
        """claims.json: {study: {...: {leaf: value}}} nested by the dotted names, in order."""
        out: dict = {}
        items = [c for c in self.claims if c.headline] + [f for f in self.families if f.headline]
        order = {name: i for i, name in enumerate(self.names())}
        for item in sorted(items, key=lambda x: order[x.name]):
            node = out
            *parents, leaf = item.name.split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = item.headline_leaves()
        return out


def _number(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


# -- reading results/claims/detail.json back (the report) ---------------------------------


def lookup(detail: dict, name: str) -> dict | None:
    """The record of claim or family `name` in a detail.json document (None if absent)."""
    return detail.get("claims", {}).get(name) or detail.get("families", {}).get(name)
