"""`layerwise.engine.backend`: TensorFlow's start-up notices are held back while it loads,
every other line and any import error still reach stderr. Run against a stand-in
`tensorflow` package that writes what the real one does (the real one is checked on the
smoke run's stages in tests/e2e/test_quiet_output.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from ..helpers.imports import SRC

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
