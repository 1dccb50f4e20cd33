"""Stage `claims`: every study's conclusions as named effects with intervals and verdicts
(results/claims/detail.json), and their headline effects and verdicts
(results/claims/claims.json, the file `dvc exp show` lists)."""

from pathlib import Path

from layerwise import claims
from layerwise.pipeline.io import write_json
from layerwise.stage import stage_main

OUT = Path("results/claims")


def main(cfg, args):
    found = claims.collect(cfg, Path("results"))
    write_json(OUT / "detail.json", found.detail())
    write_json(OUT / "claims.json", found.headlines())
    verdicts = [c.verdict for c in found.claims if c.headline] + [
        f.verdict for f in found.families if f.headline
    ]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in sorted(set(verdicts)))
    print(f"{len(verdicts)} headline claims: {counts}")


if __name__ == "__main__":
    stage_main(
        "claims",
        main,
        describe=lambda cfg, args: "every study's claims: effects, intervals, verdicts",
        record_time=False,
    )
