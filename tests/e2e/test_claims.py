"""The claims in the real smoke run: the only `metrics` DVC lists, the report's sentences
quote them, and a stage's detailed summaries stay readable with `dvc metrics show <file>`.
Read-only: these tests only read the shared smoke run."""

from __future__ import annotations

import json

from layerwise.reporting.markdown import claim_text

CLAIMS = "results/claims/claims.json"


def test_dvc_lists_the_claims_and_nothing_else_as_metrics(smoke_run):
    shown = json.loads(smoke_run.dvc("metrics", "show", "--json").stdout)
    files = {path for rev in shown.values() for path in rev["data"]}
    assert files == {CLAIMS}

    def leaves(node, path=()):
        if isinstance(node, dict) and not ({"effect", "verdict"} >= set(node) or "tally" in node):
            for key, value in node.items():
                yield from leaves(value, (*path, key))
        else:
            yield path, node

    for path, claim in leaves(json.loads((smoke_run.repo / CLAIMS).read_text())):
        assert set(claim) in ({"effect", "verdict"}, {"verdict", "tally"}), path
        assert claim["verdict"] in {"holds", "reverses", "inconclusive", "differs", "mixed"}


def test_dvc_exp_show_has_the_claims_as_its_columns(smoke_run):
    """The first run is an experiment: `dvc exp show` lists it with the claims as columns
    and none of the stages' detailed summaries."""
    shown = smoke_run.dvc("exp", "show", "--md", "--no-pager").stdout
    assert "greedy.supervised.vs_end_to_end.deepest.verdict" in shown
    assert "baseline.test_vs_published.effect" in shown
    assert "test_accuracy.mean" not in shown


def test_a_stages_detailed_summaries_stay_readable_with_dvc_metrics_show(smoke_run):
    out = smoke_run.dvc("metrics", "show", "results/baseline/metrics.json", "--json").stdout
    data = json.loads(out)
    (rev,) = data.values()
    assert rev["data"]["results/baseline/metrics.json"]["data"]["n_replicas"] == 3


def test_the_report_quotes_the_claims(smoke_run):
    detail = json.loads((smoke_run.repo / "results/claims/detail.json").read_text())
    quoted = [
        "greedy.supervised.vs_end_to_end.deepest",
        "greedy.supervised.fine_tuning",
        "transfer.forward.same_source.fixed_1",
        "ensembles.snapshot.vs_single_member",
        "ensembles.compare.best_vs_runner_up",
    ]
    for name in quoted:
        assert claim_text(detail["claims"][name]) in smoke_run.report, name
    # no sentence decides by two intervals overlapping any more
    assert "overlap" not in smoke_run.report.lower()
