"""The sweep report: the claims of many DVC experiments side by side.

python -m layerwise.sweeps.report                     # every experiment based on HEAD
python -m layerwise.sweeps.report --exp NAME NAME ... # these experiments
python -m layerwise.sweeps.report --rev REV           # every experiment based on REV

It reads each experiment's claims (results/claims/detail.json) from DVC, trains nothing,
and writes reports/sweep.md (or --out) with its figures in reports/sweep/ (the folder
named after the file): the params that differ between the experiments; for every claim
its effect, interval and verdict in each setting and a sentence on where it holds;
forest plots; and P(A>B) across settings with a stratified bootstrap interval.
Experiments queued, running, failed or made by other code are listed and left out.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from layerwise.pipeline.errors import UserError
from layerwise.sweeps.experiments import collect, pull_hint, read_detail
from layerwise.sweeps.sweep import Sweep, assemble, require_comparable

DEBUG_ENV = "LAYERWISE_DEBUG"
DEFAULT_OUT = Path("reports/sweep.md")
FORMAT_VERSION = 1  # the claims files' version this reader was written for


def claims_version() -> int:
    """The version of the claims this code's claims stage writes: an experiment whose
    claims carry another was made by other code."""
    try:
        from layerwise.pipeline.claims import CLAIMS_VERSION
    except ImportError:  # a checkout without the claims stage
        return FORMAT_VERSION
    return CLAIMS_VERSION


def figures_folder(out: Path) -> Path:
    """reports/sweep.md -> reports/sweep/"""
    return out.with_suffix("")


def build(
    sweep: Sweep,
    out: Path,
    *,
    where: str,
    command: str,
    headline_only: bool = True,
    resample_settings: bool = False,
) -> tuple[int, int]:
    """Write the report of a comparable sweep to `out` and its figures beside it (stale
    figures of an earlier report removed); (claims shown, figures written)."""
    # numpy, scipy, pandas, matplotlib: imported only once there is a report to write,
    # so that a refusal costs no more than asking DVC
    from layerwise.pipeline.io import atomic_path
    from layerwise.sweeps.across import all_across
    from layerwise.sweeps.figures import draw
    from layerwise.sweeps.render import render

    groups = all_across(sweep, headline_only, resample_settings)
    folder = figures_folder(out)
    drawn = draw(sweep, groups, folder, folder.name)
    written = {Path(link).name for figs in drawn.values() for link, _ in figs}
    for old in folder.glob("*.png") if folder.is_dir() else ():
        if old.name not in written:
            old.unlink()
    text = render(
        sweep, groups, drawn, where=where, command=command, resample_settings=resample_settings
    )
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    return sum(len(g) for g in groups.values()), len(written)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m layerwise.sweeps.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--exp", nargs="+", metavar="NAME", help="these experiments only")
    which.add_argument("--rev", help="experiments based on this commit (default: HEAD)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the markdown file")
    parser.add_argument(
        "--all", action="store_true", help="every claim, not only the headline ones"
    )
    parser.add_argument(
        "--resample-settings",
        action="store_true",
        help="P(A>B)'s bootstrap resamples the settings too, not only their repeats",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, root: str | Path = ".") -> int:
    args = parse(argv)
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    start = time.monotonic()
    try:
        if args.out.suffix != ".md":
            raise UserError(f"--out {args.out}: the report is markdown, a file ending in .md")
        experiments, baseline = collect(root, args.rev, args.exp or ())
        if args.exp:
            where = f"named ({', '.join(args.exp)})"
        else:
            where = f"based on {args.rev or 'HEAD'} ({baseline[:7]})"
        sweep = assemble(
            experiments,
            lambda e: read_detail(root, e),
            claims_version(),
            lambda name: pull_hint(root, name),
        )
        for x in sweep.left_out:
            print(f"left out: {x.experiment.name} ({x.label}): {x.reason}")
        require_comparable(sweep, where)
        given = sys.argv[1:] if argv is None else list(argv)
        command = " ".join(["python -m layerwise.sweeps.report", *given])
        n_claims, n_figures = build(
            sweep,
            args.out,
            where=where,
            command=command,
            headline_only=not args.all,
            resample_settings=args.resample_settings,
        )
    except UserError as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: the sweep report was interrupted", file=sys.stderr)
        return 130
    print(
        f"wrote {args.out}: {len(sweep.settings)} settings, {n_claims} claims and families, "
        f"{n_figures} figures in {figures_folder(args.out)}/ "
        f"({time.monotonic() - start:.1f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
