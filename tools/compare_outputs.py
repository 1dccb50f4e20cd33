"""Compare two runs of the pipeline byte for byte: every file under data/, results/ and
reports/ of two checkouts, timings aside (results/timing/), and a `.keras` archive by its
members' bytes.

    python tools/compare_outputs.py OLD_CHECKOUT NEW_CHECKOUT

A refactor must leave every data file, CSV, metrics file and figure identical. What it
cannot leave identical is listed, for a person to read: report.md (its timing lines),
and a `.keras` archive's metadata.json and config.json (Keras writes the save date and
an object id there; the weights are in model.weights.h5).
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

FOLDERS = ("data", "results", "reports")


def files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for folder in FOLDERS
        for p in (root / folder).rglob("*")
        if p.is_file()
    }


def differing_members(a: Path, b: Path) -> list[str]:
    """The members of two .keras archives whose bytes differ."""
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        names = sorted(set(za.namelist()) | set(zb.namelist()))
        return [
            n
            for n in names
            if n not in za.namelist() or n not in zb.namelist() or za.read(n) != zb.read(n)
        ]


def main(old: Path, new: Path) -> int:
    a, b = files(old), files(new)
    same, differ = 0, []
    for rel in sorted(a & b):
        if rel.startswith("results/timing/"):
            continue
        if rel.endswith(".keras"):
            members = differing_members(old / rel, new / rel)
            if members:
                differ.append(f"{rel} (members: {', '.join(members)})")
            else:
                same += 1
        elif (old / rel).read_bytes() == (new / rel).read_bytes():
            same += 1
        else:
            differ.append(rel)
    print(
        f"identical: {same}; differ: {len(differ)}; only old: {len(a - b)}; only new: {len(b - a)}"
    )
    for line in differ:
        print(f"  differs   {line}")
    for rel in sorted(a - b):
        print(f"  only old  {rel}")
    for rel in sorted(b - a):
        print(f"  only new  {rel}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tools/compare_outputs.py OLD_CHECKOUT NEW_CHECKOUT")
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
