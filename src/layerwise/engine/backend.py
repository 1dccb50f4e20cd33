"""TensorFlow, imported here first in every process that trains (this package's __init__
imports this module before any other), without the start-up notices its C++ runtime
writes to stderr while it loads: "WARNING: All log messages before absl::InitializeLog()
is called are written to STDERR" and an "I0000 ... port.cc:...] oneDNN custom operations
are on ..." line, twice each, whatever TF_CPP_MIN_LOG_LEVEL says (they come before
TensorFlow reads it).

Nothing about TensorFlow changes (oneDNN stays on; its numerics are the same): only the
file descriptor 2 of this process points at a temporary file for the length of the
import. Every other line written there meanwhile goes back to stderr once the import is
done; if the import fails, everything does, before the error is raised. With
LAYERWISE_DEBUG=1 (as for the stages' tracebacks) nothing is held back.

Importing this module imports TensorFlow (`tf`): the package's __init__ does so first,
so that whichever engine module a stage reaches first, TensorFlow loads here.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

DEBUG_ENV = "LAYERWISE_DEBUG"  # the stage runner's switch (layerwise.pipeline.runner)
# what the runtime prints while it loads: absl's preamble, and log lines of level I(nfo)
NOTICE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|I\d{4} [\d:.]+\s+\d+ \S+:\d+\] )"
)


def start_up_notice(line: bytes) -> bool:
    """Whether one line of stderr (bytes, without its end) is a start-up notice that
    `import_tensorflow` holds back."""
    return NOTICE.match(line) is not None


def import_tensorflow():
    """Import and return the `tensorflow` module with its start-up notices held back (see
    the module's docstring). Once TensorFlow is loaded, or with LAYERWISE_DEBUG set, this
    is a plain import."""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    if "tensorflow" in sys.modules or debug:
        import tensorflow

        return tensorflow
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no stderr to redirect: nothing to hide
        import tensorflow

        return tensorflow
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        failed = False
        try:
            import tensorflow
        except BaseException:
            failed = True
            raise
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().splitlines(keepends=True)
            kept = lines if failed else [ln for ln in lines if not start_up_notice(ln.rstrip())]
            _write_all(2, b"".join(kept))
    return tensorflow


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


tf = import_tensorflow()
