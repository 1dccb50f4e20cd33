"""TensorFlow and Keras, imported here first in every process that trains (this package's
__init__ imports this module before any other), without what the engine does not run and
without the start-up notices TensorFlow's C++ runtime writes to stderr.

What is left out. `import tensorflow` (2.21) ends by importing `keras.src.optimizers` (to
register Keras' optimizers for SavedModel) and with it all of Keras 3, which imports
scikit-learn (for its sklearn wrappers, and through it scipy.stats) and matplotlib (for
its image gallery) when they are installed: about half of the 4 s that `import tensorflow`
takes here, paid by every training stage. The engine trains with TensorFlow ops and its
own optimizers, and uses Keras only to save or load one replica as a `.keras` model
(export.py). Both imports are optional where they are made (`try: import ... except
ImportError`), so `tensorflow` imports here with Keras marked unimportable, and `keras`
(only when a model is exported or loaded) with scikit-learn and matplotlib marked so; each
mark is lifted right after, so a later `import keras`, `import sklearn` or `import
matplotlib` anywhere works as usual. A module already imported is never marked.

What is held back. While it loads, the runtime prints "WARNING: All log messages before
absl::InitializeLog() is called are written to STDERR" and an "I0000 ... port.cc:...]
oneDNN custom operations are on ..." line, whatever TF_CPP_MIN_LOG_LEVEL says (they come
before TensorFlow reads it). For the length of the import, file descriptor 2 points at a
temporary file; every other line written there goes back to stderr once the import is
done, and if the import fails, everything does, before the error is raised. With
LAYERWISE_DEBUG=1 (as for the stages' tracebacks) nothing is held back.

Nothing numerical changes: oneDNN stays on, the same kernels run on the same values.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

DEBUG_ENV = "LAYERWISE_DEBUG"  # the stage runner's switch (layerwise.pipeline.runner)
# what the runtime prints while it loads: absl's preamble, and log lines of level I(nfo)
NOTICE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|I\d{4} [\d:.]+\s+\d+ \S+:\d+\] )"
)


@contextlib.contextmanager
def unimportable(*names: str) -> Iterator[None]:
    """`import name` (or of a submodule) raises ImportError inside the block, for each
    name not yet imported; afterwards it imports as usual."""
    marked = [name for name in names if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # the import system's "not importable" mark
    try:
        yield
    finally:
        for name in marked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def start_up_notice(line: bytes) -> bool:
    """Whether one line of stderr (bytes, without its end) is a start-up notice that
    `import_tensorflow` holds back."""
    return NOTICE.match(line) is not None


def _tensorflow_without_keras():
    with unimportable("keras"):
        tf = importlib.import_module("tensorflow")
    # with Keras absent, TensorFlow put None on its package path (where it adds Keras'
    # folder for `tensorflow.keras` imports); drop it, the `tf.keras` attribute still works
    tf.__path__[:] = [p for p in tf.__path__ if p is not None]
    return tf


def import_tensorflow():
    """`tensorflow`, without the Keras it would import along and with its start-up notices
    held back. Once TensorFlow is loaded this is a plain import."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        return _tensorflow_without_keras()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no stderr to redirect: nothing to hide
        return _tensorflow_without_keras()
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        failed = False
        try:
            tf = _tensorflow_without_keras()
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
    return tf


def import_keras():
    """`keras`, without its scikit-learn wrappers and matplotlib gallery."""
    with unimportable("sklearn", "matplotlib", "matplotlib.pyplot"):
        return importlib.import_module("keras")


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


tf = import_tensorflow()
