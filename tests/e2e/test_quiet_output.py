"""What `dvc exp run` shows on the smoke preset: DVC's lines and the stages' headers and
progress, without TensorFlow's start-up notices (held back by layerwise.engine.backend)
nor DVC's warning about an empty dependency file."""

from __future__ import annotations

import re
import sys

from ..helpers.commands import ran_stages, run

# TensorFlow's C++ runtime, while it loads: absl's preamble and its I/W/E log lines
TF_NOTICE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} [\d:.]+\s+\d+ \S+\])"
)
TRAINING = ("baseline", "greedy_supervised", "transfer", "ensemble_compare")


def test_the_training_stages_print_no_tensorflow_notices(smoke_run):
    ran = ran_stages(smoke_run.first.stdout)
    assert set(TRAINING) <= ran  # the stages that import TensorFlow ran in this output
    assert all("tensorflow" in smoke_run.audit[s].imports for s in TRAINING)
    said = smoke_run.first.stdout.splitlines() + smoke_run.first.stderr.splitlines()
    notices = [line for line in said if TF_NOTICE.match(line) or "oneDNN" in line]
    assert notices == [], notices[:4]


def test_the_notices_are_there_to_hold_back(tmp_path):
    """With LAYERWISE_DEBUG=1 the same import shows them: the test above is not vacuous."""
    shown = run(
        [sys.executable, "-c", "import layerwise.engine"],
        tmp_path,
        env={"LAYERWISE_DEBUG": "1"},
    )
    assert any(TF_NOTICE.match(line) for line in shown.stderr.splitlines()), shown.stderr


def test_dvc_warns_of_no_empty_dependency(smoke_run):
    said = smoke_run.first.stdout + smoke_run.first.stderr
    assert "is empty" not in said, [line for line in said.splitlines() if "is empty" in line]
