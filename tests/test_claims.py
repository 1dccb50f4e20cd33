"""Every study's claims (layerwise.claims) on results whose true effects are known
(tests/helpers/fake_results.py): the right verdicts, the right designs, and a
`dvc exp show` that stays small on the book preset."""

from __future__ import annotations

import pytest

from layerwise import claims
from layerwise.pipeline.claims import DIFFERS, HOLDS, INCONCLUSIVE, REVERSES

from .helpers import fake_results

MAX_LEAVES = 120  # metric leaves on the book preset (dvc exp show columns)


def leaves(node) -> int:
    return sum(leaves(v) for v in node.values()) if isinstance(node, dict) else 1


@pytest.fixture(scope="module")
def book_claims(book_cfg, tmp_path_factory):
    results = fake_results.write(book_cfg, tmp_path_factory.mktemp("fake"))
    return claims.collect(book_cfg, results)


def test_the_book_preset_keeps_dvc_exp_show_to_at_most_120_metric_leaves(book_claims):
    heads = book_claims.headlines()
    assert leaves(heads) <= MAX_LEAVES
    assert set(heads) == {"baseline", "greedy", "transfer", "ensembles"}


def test_every_claim_the_issue_names_is_made(book_claims):
    names = set(book_claims.names())
    expected = {
        "baseline.test_vs_published",
        "greedy.supervised.vs_end_to_end.deepest",
        "greedy.supervised.vs_end_to_end.depths",
        "greedy.supervised.fine_tuning",
        "greedy.unsupervised.supervised_vs_head.depths",
        "greedy.depth_selection.validation.vs_base",
        "greedy.depth_selection.subsample.vs_base",
        "ensembles.compare.best_vs_runner_up",
        "ensembles.compare.vs_single_model",
    }
    expected |= {
        f"greedy.activations.{a}.vs_end_to_end.deepest" for a in ("relu", "sigmoid", "tanh")
    }
    expected |= {f"greedy.few_labels.{d}.smallest" for d in ("blobs", "digits")}
    expected |= {
        f"transfer.{case}.{protocol}.{arm}"
        for case in ("forward", "reverse", "digits")
        for protocol in ("same_source", "fresh_source")
        for arm in ("fixed_0", "fixed_1", "fixed_2", "new_hidden", "reinit_top")
    }
    expected |= {
        f"ensembles.{m}.vs_single_member"
        for m in (
            "model_averaging",
            "weighted_average",
            "resampling",
            "horizontal_voting",
            "snapshot",
            "stacking",
            "weight_averaging",
        )
    }
    assert expected <= names


def test_verdicts_follow_the_true_effects(book_claims):
    by_name = {c.name: c for c in book_claims.claims}
    fam = {f.name: f for f in book_claims.families}
    assert by_name["greedy.supervised.vs_end_to_end.deepest"].verdict == HOLDS
    assert fam["greedy.supervised.vs_end_to_end.depths"].verdict == HOLDS
    assert by_name["greedy.supervised.fine_tuning"].verdict == REVERSES
    assert by_name["greedy.supervised.deepest_vs_base"].verdict == INCONCLUSIVE
    assert by_name["transfer.forward.same_source.fixed_0"].verdict == HOLDS
    assert by_name["transfer.forward.same_source.fixed_2"].verdict == REVERSES
    assert by_name["transfer.forward.same_source.fixed_1"].verdict == INCONCLUSIVE
    assert fam["transfer.forward.same_source.arms"].verdict == "mixed"
    for method in ("model_averaging", "stacking", "weight_averaging"):
        assert by_name[f"ensembles.{method}.vs_single_member"].verdict == HOLDS
    assert by_name["ensembles.compare.best_vs_runner_up"].a == "averaging"
    # our fake baseline sits on the published test accuracy; fixed_2's published mean
    # (0.750) is far from our 0.77
    assert by_name["baseline.test_vs_published"].verdict == HOLDS
    assert by_name["transfer.forward.published.fixed_2"].verdict == DIFFERS


def test_each_design_fits_how_the_arms_were_made(book_claims):
    design = {c.name: c.effect.design for c in book_claims.claims}
    # the same replicas before and after a step: paired
    for name in (
        "greedy.supervised.deepest_vs_base",
        "greedy.supervised.fine_tuning",
        "greedy.depth_selection.validation.vs_base",
        "greedy.few_labels.blobs.smallest",
        "ensembles.model_averaging.vs_single_member",
        "ensembles.compare.best_vs_runner_up",
    ):
        assert design[name] == "paired", name
    # independently trained arms: Welch
    for name in (
        "greedy.supervised.vs_end_to_end.deepest",
        "greedy.activations.tanh.vs_end_to_end.deepest",
        "transfer.reverse.fresh_source.new_hidden",
    ):
        assert design[name] == "welch", name
    assert design["baseline.test_vs_published"] == "prediction"
    assert design["transfer.forward.published.fixed_0"] == "published_mean"


def test_family_members_carry_holm_adjusted_p_values(book_claims):
    for family in book_claims.families:
        ps = [c.p_adjusted for c in family.members]
        raw = [c.effect.p for c in family.members]
        assert all(a >= r for a, r in zip(ps, raw, strict=True) if r == r)
        assert all(c.family == family.name for c in family.members)
