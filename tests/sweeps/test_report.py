"""The sweep report from constructed experiments: its tables, figures and sentences, the
same bytes from the same inputs, and one line (no traceback) for each refusal."""

import json
import re

import numpy as np
import pytest

from layerwise.sweeps import report
from layerwise.sweeps.experiments import from_states

from ..helpers.sweeps import FakeExperiment, claim, detail, family, reader, states

LR = "optimizer.learning_rate"
VERDICTS = {0.001: "holds", 0.01: "inconclusive", 0.1: "reverses"}


def setting_claims(lr: float, shift: float) -> dict:
    rng = np.random.default_rng(int(lr * 1000))
    a = (0.8 + shift + rng.normal(0, 0.01, 6)).round(4).tolist()
    b = (0.8 + rng.normal(0, 0.01, 6)).round(4).tolist()
    members = {
        f"greedy.depths.d{k}": claim(
            shift * k, VERDICTS[lr], a_values=a, b_values=b, design="paired", headline=False
        )
        for k in (1, 2)
    }
    return detail(
        {
            "transfer.forward.frozen_0": claim(shift, VERDICTS[lr], a_values=a, b_values=b),
            "baseline.vs_published": claim(shift / 2, "holds" if lr < 0.1 else "differs"),
            **members,
        },
        {"greedy.depths": family(list(members), VERDICTS[lr], int(lr < 0.01), int(lr > 0.01))},
    )


def experiments(extra=()):
    shifts = {0.001: 0.05, 0.01: 0.0, 0.1: -0.04}
    made = [
        FakeExperiment(
            f"exp-{lr}", {"optimizer": {"learning_rate": lr}, "seed": 0}, setting_claims(lr, s)
        )
        for lr, s in shifts.items()
    ]
    return [*made, *extra]


@pytest.fixture
def no_figures(monkeypatch):
    """Drawing costs most of a report's time: the tests of its text skip it."""
    monkeypatch.setattr("layerwise.sweeps.figures.draw", lambda *args: {})


def fake_dvc(monkeypatch, exps, baseline="c" * 40):
    monkeypatch.setattr(
        report, "collect", lambda root, rev, names: (from_states(states(exps, baseline)), baseline)
    )
    monkeypatch.setattr(report, "read_detail", lambda root, e: reader(exps)(e))


def run(monkeypatch, tmp_path, exps, *args):
    fake_dvc(monkeypatch, exps)
    out = tmp_path / "reports" / "sweep.md"
    code = report.main(["--out", str(out), *args], root=tmp_path)
    return code, out


def test_the_report_has_the_differing_params_each_claim_per_setting_and_its_sentence(
    no_figures, monkeypatch, tmp_path, capsys
):
    failed = FakeExperiment(
        "broken", {"optimizer": {"learning_rate": 1.0}, "seed": 0}, None, state="failed"
    )
    code, out = run(monkeypatch, tmp_path, experiments([failed]))
    assert code == 0
    text = out.read_text()
    assert "| experiment   | commit   | optimizer.learning_rate   |" in text
    assert "seed" not in text.split("## Claims")[0]  # equal in every experiment
    assert f"- `broken` ({LR}=1.0): failed" in text
    assert f"left out: broken ({LR}=1.0): failed" in capsys.readouterr().out
    frozen = text.split("#### `transfer.forward.frozen_0`")[1].split("####")[0]
    assert f"| {LR}=0.001 | exp-0.001    | +0.0500 [+0.0400, +0.0600] | holds " in frozen
    assert f"| {LR}=0.1   | exp-0.1      | -0.0400 [-0.0500, -0.0300] | reverses " in frozen
    assert (
        f"> **transfer.forward.frozen_0**: holds in 1 of 3 settings; reverses at {LR}=0.1; "
        "inconclusive elsewhere. P(A>B) over the 3 settings: " in frozen
    )
    assert "> **baseline.vs_published**: holds in 2 of 3 settings; differs at" in text
    assert "#### `greedy.depths` (a family of 2 claims, Holm's correction within it)" in text
    assert "| `d1`    | +0.0500 [+0.0400, +0.0600] holds |" in text
    assert "## How likely A beats B across settings" in text


def test_each_group_has_a_forest_plot_and_a_trend_over_the_numeric_key(monkeypatch, tmp_path):
    _, out = run(monkeypatch, tmp_path, experiments())
    figures = sorted(p.name for p in (out.parent / "sweep").iterdir())
    assert figures == [
        "baseline-by-optimizer.learning_rate.png",
        "baseline-forest.png",
        "greedy.depths-by-optimizer.learning_rate.png",
        "greedy.depths-forest.png",
        "transfer.forward-by-optimizer.learning_rate.png",
        "transfer.forward-forest.png",
    ]
    for name in figures:
        assert f"(sweep/{name})" in out.read_text()


def test_the_same_experiments_give_the_same_bytes(monkeypatch, tmp_path):
    def files(folder):
        folder.mkdir()
        monkeypatch.chdir(folder)
        fake_dvc(monkeypatch, experiments())
        assert report.main(["--out", "reports/sweep.md"], root=folder) == 0
        return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    first, second = files(tmp_path / "one"), files(tmp_path / "two")
    assert first == second and len(first) == 7


def test_a_new_report_removes_the_figures_of_the_last(no_figures, monkeypatch, tmp_path):
    stale = tmp_path / "reports" / "sweep" / "gone-forest.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    run(monkeypatch, tmp_path, experiments())
    assert not stale.exists()


def test_resampling_settings_says_so(no_figures, monkeypatch, tmp_path):
    _, out = run(monkeypatch, tmp_path, experiments(), "--resample-settings")
    assert "the repeats within each setting and the settings themselves" in out.read_text()


def test_every_claim_on_request(no_figures, monkeypatch, tmp_path):
    exps = experiments()
    for e in exps:
        e.detail["claims"]["baseline.minor"] = claim(0.0, "inconclusive", headline=False)
    _, out = run(monkeypatch, tmp_path, exps)
    assert "baseline.minor" not in out.read_text()
    _, out = run(monkeypatch, tmp_path, exps, "--all")
    assert "#### `baseline.minor`" in out.read_text()


REFUSED = {
    "no experiments": ([], r"^error: no experiments based on HEAD \(ccccccc\): run a sweep"),
    "one experiment": (
        experiments()[:1],
        r"^error: only one experiment based on HEAD \(ccccccc\) has claims to compare "
        r"\(exp-0.001\); a sweep report compares two or more",
    ),
    "none finished": (
        [
            FakeExperiment("q", {"x": 1}, None, state="queued"),
            FakeExperiment("r", {"x": 2}, None, state="running"),
        ],
        r"^error: none of the 2 experiments",
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_sweep_that_cannot_be_reported_is_one_line_and_no_report(
    no_figures, monkeypatch, tmp_path, capsys, case
):
    exps, message = REFUSED[case]
    code, out = run(monkeypatch, tmp_path, exps)
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert len(err.splitlines()) == 1, err
    assert re.search(message, err), err


def test_a_refusal_keeps_the_last_report(no_figures, monkeypatch, tmp_path):
    _, out = run(monkeypatch, tmp_path, experiments())
    before = out.read_bytes()
    code, _ = run(monkeypatch, tmp_path, experiments()[:1])
    assert code == 2 and out.read_bytes() == before


def test_the_output_must_be_markdown(no_figures, monkeypatch, tmp_path, capsys):
    fake_dvc(monkeypatch, experiments())
    assert report.main(["--out", str(tmp_path / "sweep.html")], root=tmp_path) == 2
    assert capsys.readouterr().err.startswith("error: --out ")


def test_debug_shows_the_traceback(no_figures, monkeypatch, tmp_path):
    monkeypatch.setenv("LAYERWISE_DEBUG", "1")
    from layerwise.pipeline.errors import UserError

    with pytest.raises(UserError):
        run(monkeypatch, tmp_path, [])


def test_the_claims_version_is_the_claims_stage_s():
    assert isinstance(report.claims_version(), int)
    json.dumps(report.claims_version())
