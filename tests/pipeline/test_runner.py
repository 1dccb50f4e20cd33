"""The stage runner, through real processes (it ends them with os._exit)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from layerwise.pipeline.progress import PROGRESS_ENV, Progress

STAGE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    from layerwise.pipeline.runner import run_stage

    def load(path):
        return SimpleNamespace(preset=Path(path).read_text().strip())

    def main(cfg, args):
        Path("results/out.txt").parent.mkdir(exist_ok=True)
        Path("results/out.txt").write_text("made from " + cfg.preset)
        if sys.argv[1:] == ["--edit"]:  # as a `dvc exp run` refused as busy does
            Path("params.yaml").write_text("other")

    def add_arguments(parser):
        parser.add_argument("--edit", action="store_true")

    run_stage("demo", main, load=load, add_arguments=add_arguments)
    """
)


def run_demo(folder, *args, env=None):
    (folder / "demo.py").write_text(STAGE)
    (folder / "params.yaml").write_text("book")
    return subprocess.run(
        [sys.executable, "demo.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_a_stage_records_its_time_when_params_stay(tmp_path):
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "results/timing/demo.json").is_file()


def test_params_changed_under_a_running_stage_fail_it_in_one_line(tmp_path):
    result = run_demo(tmp_path, "--edit")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: params.yaml changed while demo ran"), lines[0]
    assert not (tmp_path / "results/timing/demo.json").exists()


@pytest.mark.parametrize(("seconds", "printed"), [(None, [3]), ("0", [1, 2, 3])])
def test_progress_lines_every_layerwise_progress_seconds(monkeypatch, capsys, seconds, printed):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    if seconds is not None:
        monkeypatch.setenv(PROGRESS_ENV, seconds)
    progress = Progress("steps", 3)
    for _ in range(3):
        progress.advance()
    lines = capsys.readouterr().out.splitlines()
    assert [int(line.split(": ")[1].split("/")[0]) for line in lines] == printed, lines


def test_a_bad_progress_interval_is_refused_in_one_line_before_the_stage_runs(tmp_path):
    result = run_demo(tmp_path, env={PROGRESS_ENV: "soon"})
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: LAYERWISE_PROGRESS_SECONDS = 'soon' is not a number of seconds (allowed: >= 0)"
    ]
    assert not (tmp_path / "results/out.txt").exists()
