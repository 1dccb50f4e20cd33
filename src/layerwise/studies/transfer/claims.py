"""What the transfer study concludes, as claims (see `pipeline.claims`), from
results/transfer/replicas.csv: every transfer arm against standalone training, per case
and protocol, and the reference's published means against ours.

Standalone and each transfer arm are independent repeats: Welch. The arms of one case
and protocol are compared with the one standalone control in the same sentence, so they
form a family (Holm). The reference published means and standard deviations over 30
repeats that all start from one saved source model: they are compared mean to mean with
our same-source protocol, in the reference case only.
"""

from __future__ import annotations

from pathlib import Path

from layerwise.pipeline import effects
from layerwise.pipeline.claims import AGREE, Claim, Claims, Family
from layerwise.pipeline.io import read_csv
from layerwise.studies.transfer import published

METRIC = "test_accuracy"
STANDALONE = "standalone"
PUBLISHED_REPEATS = 30  # the reference's repeats behind each published mean


def is_reference_case(case) -> bool:
    """The reference's own setting: Problem 1's model transferred to all of Problem 2."""
    return case.source == "p1" and case.dataset == "transfer_p2" and not case.classes


def claims(cfg, results: Path) -> Claims:
    out = Claims()
    path = results / "transfer" / "replicas.csv"
    if not path.is_file():
        return out
    rows = read_csv(path)
    t = cfg.transfer
    for case_name, case in t.cases.items():
        own = rows[rows["case"] == case_name]
        standalone = own.loc[own["arm"] == STANDALONE, METRIC].to_numpy()
        for protocol in t.protocols:
            arms = own[own["protocol"] == protocol]
            members = [
                Claim(
                    f"transfer.{case_name}.{protocol}.{arm}",
                    f"{case_name}: the {arm} arm ({protocol.replace('_', ' ')}) beats "
                    "standalone training",
                    arm,
                    STANDALONE,
                    METRIC,
                    effects.welch(group[METRIC].to_numpy(), standalone, metric=METRIC),
                )
                for arm, group in arms.groupby("arm", sort=False)
            ]
            if members:
                out.add_family(
                    Family(
                        f"transfer.{case_name}.{protocol}.arms",
                        f"{case_name}: some transfer arm ({protocol.replace('_', ' ')}) beats "
                        "standalone training (every arm tested, Holm-corrected)",
                        members,
                        headline=False,
                    )
                )
        if is_reference_case(case) and "same_source" in t.protocols:
            for arm, (mean, std) in published.TRANSFER_REPEATS.items():
                protocol = "none" if arm == STANDALONE else "same_source"
                values = own.loc[(own["arm"] == arm) & (own["protocol"] == protocol), METRIC]
                if values.empty:
                    continue
                out.add(
                    Claim(
                        f"transfer.{case_name}.published.{arm}",
                        f"{case_name}: our mean test accuracy of the {arm} arm agrees with the "
                        "reference's published mean over 30 repeats",
                        "ours",
                        "published",
                        METRIC,
                        effects.mean_vs_published(
                            values.to_numpy(), mean, std, PUBLISHED_REPEATS, metric=METRIC
                        ),
                        direction=AGREE,
                    )
                )
    return out
