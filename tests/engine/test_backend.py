"""`layerwise.engine.backend`: TensorFlow imported without Keras (and Keras without its
scikit-learn and matplotlib extras), and TensorFlow's start-up notices held back while it
loads, every other line and any import error still reaching stderr (run against a
stand-in `tensorflow` package that writes what the real one does; the real one is checked
on the smoke run's stages in tests/e2e/test_quiet_output.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from layerwise.engine.backend import unimportable

from ..helpers.commands import ROOT
from ..helpers.imports import SRC


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


@pytest.mark.train  # a fit in a fresh process: `make check` leaves it to `make test`
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


BACKEND = SRC / "layerwise" / "engine" / "backend.py"
PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
ONEDNN = (
    "I0000 00:00:1796287315.229290   13072 port.cc:153] oneDNN custom operations are on. "
    "You may see slightly different numerical results"
)
PROBLEM = "E0000 00:00:1796287315.229291   13072 loader.cc:12] a real problem"
FAKE = textwrap.dedent(
    f"""
    import os, sys
    for line in ({PREAMBLE!r}, {ONEDNN!r}, {PREAMBLE!r}, {ONEDNN!r}, {PROBLEM!r}):
        os.write(2, line.encode() + b"\\n")
    print("a warning from Python", file=sys.stderr)
    if os.environ.get("FAKE_TF_FAILS"):
        raise ImportError("libtensorflow_framework.so.2: cannot open shared object file")
    VALUE = 42
    """
)
LOAD = textwrap.dedent(
    f"""
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("backend", {str(BACKEND)!r})
    backend = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(backend)
    print("loaded", backend.tf.VALUE, file=sys.stderr)
    """
)


def load_backend(tmp_path, **env) -> subprocess.CompletedProcess:
    (tmp_path / "tensorflow").mkdir(exist_ok=True)
    (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE)
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-c", LOAD], capture_output=True, text=True, env=environ, cwd=tmp_path
    )


def test_the_start_up_notices_are_held_back_and_every_other_line_kept(tmp_path):
    result = load_backend(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [PROBLEM, "a warning from Python", "loaded 42"]


def test_layerwise_debug_holds_nothing_back(tmp_path):
    result = load_backend(tmp_path, LAYERWISE_DEBUG="1")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines.count(PREAMBLE) == 2 and lines.count(ONEDNN) == 2
    assert lines[-1] == "loaded 42"


def test_an_import_error_reaches_the_user_with_everything_said_before_it(tmp_path):
    result = load_backend(tmp_path, FAKE_TF_FAILS="1")
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert lines[:6] == [PREAMBLE, ONEDNN, PREAMBLE, ONEDNN, PROBLEM, "a warning from Python"]
    assert "Traceback" in result.stderr
    assert lines[-1] == (
        "ImportError: libtensorflow_framework.so.2: cannot open shared object file"
    )
