"""The sweep report against real DVC experiments.

First a toy project whose one stage writes a claims file in the claims stage's format
from its params (seconds per experiment): what DVC lists, what is left out and why, and
each refusal as one line. Then the real pipeline: a three-point sweep of the smoke
preset queued in a copy of the session's smoke run, and the report checked against each
experiment's own claims (needs the claims stage, stages/claims.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from ..helpers.commands import DVC, ROOT, run
from ..helpers.sweeps import wait_for_queue

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
REPORT = [sys.executable, "-m", "layerwise.sweeps.report"]
DETAIL = "results/claims/detail.json"

TOY_STAGE = '''\
"""A toy claims stage: one two-arm claim whose effect falls as lr grows."""
import json, os, yaml

p = yaml.safe_load(open("params.yaml"))
a = [round(0.9 - p["lr"] + 0.01 * i, 4) for i in range(4)]
b = [round(0.8 + 0.01 * i, 4) for i in range(4)]
effect = round(sum(a) / 4 - sum(b) / 4, 4)
verdict = "holds" if effect > 0.02 else "reverses" if effect < -0.02 else "inconclusive"
claim = {"study": "toy", "statement": "A beats B", "a": "A", "b": "B",
         "metric": "test_accuracy", "design": "paired", "interval": "t",
         "direction": "greater", "effect": effect, "ci_low": effect - 0.02,
         "ci_high": effect + 0.02, "n": 4, "n_b": None, "p": 0.01, "p_adjusted": None,
         "family": None, "headline": True, "verdict": verdict, "a_values": a, "b_values": b}
os.makedirs("results/claims", exist_ok=True)
detail = {"version": p["version"], "alpha": 0.05, "claims": {"toy.effect": claim},
          "families": {}}
if p["write_detail"]:
    json.dump(detail, open("results/claims/detail.json", "w"))
json.dump({"toy": {"effect": {"effect": effect, "verdict": verdict}}},
          open("results/claims/claims.json", "w"))
'''

TOY_DVC_YAML = """\
stages:
  claims:
    cmd: python claims.py
    deps: [claims.py]
    params: [lr, version, write_detail]
    outs: [{outs}]
    metrics: [results/claims/claims.json]
"""


def toy_repo(path: Path) -> Path:
    """A git + DVC project of one stage, first committed as older code: its stage
    declares no claims file and writes none."""
    path.mkdir()
    run(["git", "init", "-q"], path)
    run([*DVC, "init", "-q"], path)
    (path / "claims.py").write_text(TOY_STAGE)
    (path / "params.yaml").write_text("lr: 0.01\nversion: 1\nwrite_detail: false\n")
    (path / ".gitignore").write_text("/results/\n")
    (path / "dvc.yaml").write_text(TOY_DVC_YAML.format(outs=""))
    run([*GIT, "add", "-A"], path)
    run([*GIT, "commit", "-qm", "older code: no claims file"], path)
    return path


def toy_exp(repo: Path, name: str, *overrides: str, queue: bool = False) -> None:
    sets = [arg for o in overrides for arg in ("-S", o)]
    run([*DVC, "exp", "run", "-q", "-n", name, *sets, *(["--queue"] if queue else [])], repo)


def report(repo: Path, *args: str, check: bool = True):
    return run([*REPORT, *args], repo, check=check)


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    repo = toy_repo(tmp_path_factory.mktemp("toy") / "repo")
    toy_exp(repo, "old", "lr=0.05")
    (repo / "dvc.yaml").write_text(TOY_DVC_YAML.format(outs=DETAIL))
    (repo / "params.yaml").write_text("lr: 0.01\nversion: 1\nwrite_detail: true\n")
    run([*GIT, "add", "-A"], repo)
    run([*GIT, "commit", "-qm", "the claims file"], repo)
    for name, lr in (("low", "0.01"), ("mid", "0.1"), ("high", "0.2"), ("gone", "0.15")):
        toy_exp(repo, name, f"lr={lr}")
    toy_exp(repo, "other-code", "lr=0.3", "version=0")
    # each run leaves its params in the workspace: the next names what it keeps
    toy_exp(repo, "waiting", "lr=0.4", "version=1", queue=True)
    # the outputs of `gone` leave the local cache (as after `dvc exp pull` without them)
    lock = run(["git", "show", "refs/exps/" + exp_ref(repo, "gone") + ":dvc.lock"], repo).stdout
    md5 = re.search(rf"path: {DETAIL}\n\s+hash: md5\n\s+md5: (\w+)", lock).group(1)
    (repo / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).unlink()
    return repo


def exp_ref(repo: Path, name: str) -> str:
    """An experiment's ref below refs/exps/."""
    refs = run(["git", "for-each-ref", "--format=%(refname)", "refs/exps/"], repo).stdout
    (ref,) = [r for r in refs.split() if r.endswith("/" + name)]
    return ref.removeprefix("refs/exps/")


def experiment_claims(repo: Path, name: str) -> dict:
    import dvc.api

    rev = run(["git", "rev-parse", "refs/exps/" + exp_ref(repo, name)], repo).stdout.strip()
    return json.loads(dvc.api.read(DETAIL, repo=str(repo), rev=rev))["claims"]


def test_the_toy_sweep_compares_what_finished_and_lists_the_rest(toy):
    result = report(toy)
    text = (toy / "reports/sweep.md").read_text()
    assert "| experiment   | commit   | lr   |" in text
    for name, lr in (("low", "0.01"), ("mid", "0.1"), ("high", "0.2")):
        claim = experiment_claims(toy, name)["toy.effect"]
        effect = f"{claim['effect']:+.4f} [{claim['ci_low']:+.4f}, {claim['ci_high']:+.4f}]"
        row = rf"\| lr=\s*{lr}\s*\| {name}\s*\| {re.escape(effect)} \| {claim['verdict']}\s*\|"
        assert re.search(row, text), (row, text)
    assert "> **toy.effect**: holds in 1 of 3 settings; reverses at lr=0.2; inconclusive " in text
    left_out = result.stdout
    assert "left out: waiting (lr=0.4, version=1): queued, not run yet" in left_out
    assert "left out: other-code (lr=0.3, version=0): made by other code: its claims are " in (
        left_out
    )
    assert (
        f"left out: gone (lr=0.15, version=1): its {DETAIL} is not in the local DVC cache: "
        "`dvc exp pull <git remote> gone`" in left_out
    )
    assert (toy / "reports/sweep/toy-forest.png").is_file()
    assert (toy / "reports/sweep/toy-by-lr.png").is_file()


@pytest.mark.slow  # the toy sweep's other views and refusals: make test-all
def test_named_experiments_include_older_code_left_out(toy, tmp_path):
    out = tmp_path / "named.md"
    result = report(toy, "--exp", "old", "low", "mid", "--out", str(out))
    assert (
        f"left out: old (lr=0.05, write_detail=false): made by older code: it has no {DETAIL}"
        in result.stdout
    )
    text = out.read_text()
    assert "3 experiments" not in text and "2 experiments named (old, low, mid)" in text
    assert (tmp_path / "named" / "toy-forest.png").is_file()


@pytest.mark.slow  # the toy sweep's other views and refusals: make test-all
def test_the_older_baseline_has_nothing_to_compare(toy):
    line = one_error_line(report(toy, "--rev", "HEAD~1", "--out", "x.md", check=False))
    assert line.startswith("error: none of the 1 experiments based on HEAD~1 (")
    assert not (toy / "x.md").exists()


@pytest.mark.slow  # the toy sweep's other views and refusals: make test-all
def test_unknown_names_and_commits_are_one_line(toy):
    line = one_error_line(report(toy, "--exp", "low", "nope", check=False))
    assert line.startswith("error: --exp nope: no such experiment (`dvc exp list` names them")
    line = one_error_line(report(toy, "--rev", "no-such-branch", check=False))
    assert line.startswith("error: --rev no-such-branch: no such commit")


def test_a_project_without_experiments_says_how_to_run_a_sweep(tmp_path):
    repo = toy_repo(tmp_path / "repo")
    line = one_error_line(report(repo, check=False))
    assert re.match(r"error: no experiments based on HEAD \(\w{7}\): run a sweep with ", line)
    assert "`dvc queue start -j 2`" in line
    plain = tmp_path / "plain"
    plain.mkdir()
    line = one_error_line(report(plain, check=False))
    assert line == "error: . is not a DVC repository (no .dvc folder above it)"


# ---- the real pipeline ------------------------------------------------------------------

SWEEP = ("baseline.epochs", (3, 4, 5))  # 5: the smoke preset's own, from the run cache


def table_after(text: str, heading: str) -> list[dict[str, str]]:
    """The first markdown table after the line `heading`, as rows of header -> cell."""
    lines = text.split(heading, 1)[1].splitlines()
    rows = [line for line in lines[lines.index(next(x for x in lines if x.startswith("|"))) :]]
    rows = rows[: next((i for i, x in enumerate(rows) if not x.startswith("|")), len(rows))]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in r.strip("|").split("|")))) for r in rows[2:]]


def shown_in_report(text: str, name: str, claim: dict, detail: dict, label: str) -> str:
    """'effect [CI] verdict' of a claim in one setting, from its own table or, for a
    member of a family, from the family's table of its claims."""
    heading = f"#### `{name}`"
    if heading + "\n" in text:
        (row,) = [r for r in table_after(text, heading + "\n") if r["setting"] == label]
        return f"{row['effect [95% CI]']} {row['verdict']}"
    (family,) = [f for f, r in detail["families"].items() if name in r["members"]]
    members = table_after(text.split(f"#### `{family}` (a family", 1)[1], "Its claims")
    (row,) = [r for r in members if r["claim"] == f"`{name.removeprefix(family + '.')}`"]
    return row[label]


@pytest.mark.skipif(
    not (ROOT / "stages/claims.py").exists(), reason="needs the claims stage (stages/claims.py)"
)
@pytest.mark.slow  # two smoke experiments through DVC's queue (about 100 s); the toy ones stay
def test_a_queued_smoke_sweep_reports_each_experiment_s_own_claims(smoke_run, tmp_path):
    import dvc.api
    from dvc.repo import Repo

    from layerwise.sweeps.experiments import from_states
    from layerwise.sweeps.report import FORMAT_VERSION

    repo = shutil.copytree(smoke_run.repo, tmp_path / "repo", symlinks=True)
    # the smoke run as the baseline commit: each experiment then changes one key against it
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    run([*git, "add", "params.yaml", "dvc.lock"], repo)
    run([*git, "commit", "-qm", "the smoke run"], repo)
    key, values = SWEEP
    sweep = f"{key}={','.join(map(str, values))}"
    queued = run([*DVC, "exp", "run", "--queue", "-S", "experiment=smoke", "-S", sweep], repo)
    names = re.findall(r"Queued experiment '([^']+)'", queued.stdout)
    assert len(names) == len(values), queued.stdout
    run([*DVC, "queue", "start", "-j", "2"], repo)
    assert set(wait_for_queue(repo, names, timeout=900).values()) == {"success"}

    # dvc exp show beside the baseline: a one-key experiment stays a readable table
    changed = run([*DVC, "exp", "show", "--only-changed", "--csv"], repo).stdout
    columns = next(csv.reader(io.StringIO(changed)))
    assert len(columns) < 150, (len(columns), columns)
    assert any(c.endswith((".effect", ".verdict")) for c in columns)  # the claims moved

    result = report(repo, "--exp", *names)
    text = (repo / "reports/sweep.md").read_text()
    assert f"{len(values)} experiments named" in text
    assert f"| experiment   | commit   | {key}" in text

    with Repo(str(repo)) as dvc_repo:
        shown = dvc_repo.experiments.show(revs=["HEAD"], num=1, hide_workspace=True)
    experiments = {e.name: e for e in from_states(shown) if e.name in names}
    checked = 0
    for name in names:
        experiment = experiments[name]
        detail = json.loads(dvc.api.read(DETAIL, repo=str(repo), rev=experiment.rev))
        assert detail["version"] == FORMAT_VERSION
        label = f"{key}={experiment.params['baseline']['epochs']}"
        for claim_name, claim in detail["claims"].items():
            if not claim.get("headline"):
                continue
            cell = shown_in_report(text, claim_name, claim, detail, label)
            effect = "–" if claim["effect"] is None else f"{claim['effect']:+.4f}"
            assert cell.startswith(effect), (claim_name, label, cell)
            assert cell.endswith(f" {claim['verdict']}"), (claim_name, label, cell)
            checked += 1
    assert checked > 0
    assert re.search(rf"wrote reports/sweep.md: {len(values)} settings", result.stdout)
    assert list((repo / "reports/sweep").glob("*-forest.png"))
    assert list((repo / "reports/sweep").glob(f"*-by-{key}.png"))
