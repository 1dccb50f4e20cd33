"""What ruamel.yaml's C parser (the ruamel.yaml.clib package) saves DVC: `dvc status` and
`dvc exp show` on this project, and one parse of its dvc.lock, with the C parser beside
pure Python, alternating, in one run.

    python benchmarks/bench_dvc_yaml.py [--repeats 5]

DVC reads params.yaml once per stage that declares params, and dvc.yaml and dvc.lock
several times per command, with `YAML(typ="safe")`, which takes the C parser when it is
importable. The pure-Python side hides it (`sys.modules["_ruamel_yaml"] = None` before DVC
imports ruamel.yaml), which is what an environment without ruamel.yaml.clib gets. Both run
in a clone of HEAD (its committed dvc.lock: the book run's, no outputs in the workspace),
never in the checkout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PURE = "import sys; sys.modules['_ruamel_yaml'] = None; "
DVC = "from dvc.cli import main; sys.exit(main({args!r}))"
PARSE = (
    "import time; from ruamel.yaml import YAML; text = open('dvc.lock').read(); "
    "y = YAML(typ='safe'); t = time.perf_counter(); y.load(text); "
    "print(time.perf_counter() - t)"
)


def python(code: str, cwd: Path) -> float:
    """Wall seconds of `python -c code` in `cwd` (it must exit 0)."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):  # `dvc status` exits 1 when something changed
        sys.exit(f"{code}\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        import _ruamel_yaml  # noqa: F401
    except ImportError:
        sys.exit("ruamel.yaml.clib is not installed here: nothing to compare (make setup)")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        lines = len((repo / "dvc.lock").read_text().splitlines())
        print(f"dvc.lock of HEAD: {lines} lines; {args.repeats} runs each, alternating")
        cases = {
            "dvc status": "import sys; " + DVC.format(args=["status", "-q"]),
            "dvc exp show": "import sys; " + DVC.format(args=["exp", "show", "--json"]),
        }
        for name, code in cases.items():
            python(code, repo)  # warm the file system cache and DVC's state database
            c_times, pure_times = [], []
            for _ in range(args.repeats):
                c_times.append(python(code, repo))
                pure_times.append(python(PURE + code, repo))
            c, pure = statistics.median(c_times), statistics.median(pure_times)
            ratio = pure / c
            print(f"{name:16s} C parser {c:5.2f} s  pure Python {pure:5.2f} s  ratio {ratio:4.2f}")
        parse = {"C parser": [], "pure Python": []}
        for _ in range(args.repeats):
            for label, prefix in (("C parser", ""), ("pure Python", PURE)):
                out = subprocess.run(
                    [sys.executable, "-c", prefix + PARSE],
                    cwd=repo,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                parse[label].append(float(out.stdout))
        c, pure = (statistics.median(v) for v in parse.values())
        label = "parse dvc.lock"
        print(f"{label:16s} C parser {c:5.3f} s  pure Python {pure:5.3f} s  ratio {pure / c:4.1f}")


if __name__ == "__main__":
    main()
