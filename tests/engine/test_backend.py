"""The engine imports TensorFlow without Keras, scikit-learn and matplotlib, and Keras only
where a model is exported; nothing stays unimportable afterwards."""

from __future__ import annotations

import subprocess
import sys

from layerwise.engine.backend import unimportable

from ..helpers.commands import ROOT


def test_unimportable_marks_only_inside_the_block():
    name = "layerwise_no_such_module_here"
    with unimportable(name, "json"):  # json is imported already: left as it is
        assert sys.modules[name] is None
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise AssertionError("imported inside the block")
        import json  # noqa: F401
    assert name not in sys.modules


def test_training_imports_no_keras_and_export_no_sklearn():
    """A fresh process: the engine alone, then an export, then the marked modules."""
    code = (
        "import sys\n"
        "import layerwise.engine as e\n"
        "heavy = lambda: sorted({m.split('.')[0] for m in sys.modules} & "
        "{'keras', 'sklearn', 'matplotlib'})\n"
        "print('engine:', heavy())\n"
        "m = e.ReplicaMLP.create(2, [e.Dense(3, 'relu'), e.Dense(2, 'softmax')], 2, seed=0)\n"
        "k = m.to_keras(1)\n"
        "print('export:', heavy(), type(k).__name__)\n"
        "import sklearn.base, matplotlib.pyplot, tensorflow as tf\n"
        "print('after:', heavy(), None in tf.__path__, tf.keras.Sequential is not None)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    lines = [
        x for x in result.stdout.splitlines() if x.split(":")[0] in ("engine", "export", "after")
    ]
    assert lines == [
        "engine: []",
        "export: ['keras'] Sequential",
        "after: ['keras', 'matplotlib', 'sklearn'] False True",
    ], result.stdout + result.stderr[-2000:]
