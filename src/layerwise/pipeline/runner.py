"""What every stage entry point shares: argument parsing, loading params, one-line errors,
a header and the wall-time record the report reads (progress lines: pipeline.progress).

The runner knows nothing of the configuration's schema: `layerwise.stage` binds it to the
project's loader (`layerwise.config.load_params`) and header note."""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import remove_stale_temps, write_json
from layerwise.pipeline.progress import progress_seconds

DEBUG_ENV = "LAYERWISE_DEBUG"
VERSIONED = (
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "numpy",
    "scikit-learn",
    "scipy",
    "pandas",
    "matplotlib",
    "dvc",
    "hydra-core",
    "mnist1d",
)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def process_age() -> float | None:
    """Seconds since this process started (interpreter start-up and imports included), from
    Linux's /proc; None where there is none. The sweep benchmark sets it against the
    stage's own wall time."""
    try:
        # field 22 of /proc/self/stat, counted after the command name's closing paren
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return round(uptime - started / os.sysconf("SC_CLK_TCK"), 2)


def _fingerprint(path: str) -> str | None:
    """The params file's content hash (None when it cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def run_stage(
    stage: str,
    run: Callable[[Any, argparse.Namespace], None],
    *,
    load: Callable[[str], Any],
    note: Callable[[Any], str] = lambda cfg: "",
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    describe: Callable[[Any, argparse.Namespace], str] | None = None,
    instance: Callable[[argparse.Namespace], str] | None = None,
    record_time: bool = True,
) -> None:
    """Run one stage: parse args, load and check params (`load(path)`), print a header
    (`note(cfg)` is appended to it), run, record wall time (results/timing/<stage>.json,
    read by the report; the report itself records none).

    Bad input ends the process with one line on stderr and exit code 2; set
    LAYERWISE_DEBUG=1 to see the traceback instead.
    """
    parser = argparse.ArgumentParser(prog=f"stages/{stage}.py")
    parser.add_argument("--params", default="params.yaml", help="composed parameters file")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args()
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        params_at_start = _fingerprint(args.params)
        cfg = load(args.params)
        progress_seconds()  # a bad LAYERWISE_PROGRESS_SECONDS is refused before any work
        remove_stale_temps()  # what a killed stage left (io.TEMP_GLOB); no writer owns them
        name = instance(args) if instance else stage  # e.g. ensemble@snapshot
        what = describe(cfg, args) if describe else stage
        print(f"== {name}: {what} (preset: {cfg.preset}{note(cfg)})", flush=True)
        start = time.monotonic()
        run(cfg, args)
        seconds = time.monotonic() - start
        if _fingerprint(args.params) != params_at_start:
            # `dvc exp run` rewrites params.yaml before it finds the repository busy
            raise UserError(
                f"{args.params} changed while {name} ran, so its outputs may mix two "
                "configurations; the stage is not recorded as done: run `dvc repro` again "
                "once the other run has finished"
            )
        if record_time:
            write_json(
                f"results/timing/{name}.json",
                {
                    "stage": name,
                    "wall_seconds": seconds,
                    "process_seconds": process_age(),
                    "versions": versions(),
                },
            )
        print(f"== {name}: done in {seconds:.1f}s", flush=True)
    except UserError as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"error: {stage} interrupted", file=sys.stderr)
        sys.exit(130)
    # Every output is written and closed (atomically) by now. Leave without the
    # interpreter's teardown: with TensorFlow loaded it costs about a second per stage.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
