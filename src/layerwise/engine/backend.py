"""TensorFlow and Keras, imported without what the engine does not run.

`import tensorflow` (2.21) ends by importing `keras.src.optimizers` (to register Keras'
optimizers for SavedModel) and with it all of Keras 3, which imports scikit-learn (for its
sklearn wrappers, and through it scipy.stats) and matplotlib (for its image gallery) when
they are installed: about half of the 4 s that `import tensorflow` takes here, paid by
every training stage. The engine trains with TensorFlow ops and its own optimizers, and
uses Keras only to save or load one replica as a `.keras` model (export.py).

Both imports are optional where they are made (`try: import ... except ImportError`), so
`tensorflow` imports here with Keras marked unimportable, and `keras` (only when a model
is exported or loaded) with scikit-learn and matplotlib marked so; each mark is lifted
right after, so a later `import keras`, `import sklearn` or `import matplotlib` anywhere
works as usual. What is left out is Keras' scikit-learn wrappers and image gallery, which
nothing here uses. No numerical code is touched: the same kernels run on the same values.
A module already imported is never marked (a test that imported Keras first gets it as it
is).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator


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


def import_tensorflow():
    """`tensorflow`, without the Keras it would import along."""
    with unimportable("keras"):
        tf = importlib.import_module("tensorflow")
    # with Keras absent, TensorFlow put None on its package path (where it adds Keras'
    # folder for `tensorflow.keras` imports); drop it, the `tf.keras` attribute still works
    tf.__path__[:] = [p for p in tf.__path__ if p is not None]
    return tf


def import_keras():
    """`keras`, without its scikit-learn wrappers and matplotlib gallery."""
    with unimportable("sklearn", "matplotlib", "matplotlib.pyplot"):
        return importlib.import_module("keras")


tf = import_tensorflow()
