"""Each claim across the settings: the sentence a person quotes, which claims are shown
and how they group, and P(A>B) for two-arm claims."""

import pytest

from layerwise.sweeps.across import across, all_across, group_of, sentence

from ..helpers.sweeps import FakeExperiment, claim, detail, family, sweep_of

LR = "optimizer.learning_rate"


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (
            [("lr=0.001", "holds"), ("lr=0.01", "inconclusive"), ("lr=0.1", "reverses")],
            "holds in 1 of 3 settings; reverses at lr=0.1; inconclusive elsewhere",
        ),
        (
            [("lr=0.001", "holds"), ("lr=0.01", "holds"), ("lr=0.1", "inconclusive")],
            "holds in 2 of 3 settings; inconclusive at lr=0.1",
        ),
        ([("a=1", "holds"), ("a=2", "holds"), ("a=3", "holds")], "holds in all 3 settings"),
        (
            [("a=1", "inconclusive"), ("a=2", "inconclusive")],
            "inconclusive in all 2 settings",
        ),
        (
            [("a=1", "reverses"), ("a=2", "inconclusive"), ("a=3", "inconclusive")],
            "holds in none of the 3 settings; reverses at a=1; inconclusive elsewhere",
        ),
        (
            [("a=1", "holds"), ("a=2", "reverses"), ("a=3", "reverses")],
            "holds in 1 of 3 settings; reverses at a=2 and a=3",
        ),
        (
            [("a=1, b=2", "holds"), ("a=2, b=2", "reverses"), ("a=3, b=1", "holds")],
            "holds in 2 of 3 settings; reverses at (a=2, b=2)",
        ),
        (
            [("a=1", "holds"), ("a=2", "differs"), ("a=3", "holds")],
            "holds in 2 of 3 settings; differs at a=2",
        ),
        (
            [("a=1", "mixed"), ("a=2", "holds"), ("a=3", None)],
            "holds in 1 of 2 settings; mixed at a=1; not made at a=3",
        ),
        ([("a=1", "holds"), ("a=2", None)], "holds in the one setting; not made at a=2"),
        ([("a=1", None), ("a=2", None)], "made in none of the settings; not made at a=1 and a=2"),
    ],
)
def test_the_quotable_sentence(verdicts, expected):
    assert sentence(verdicts) == expected


def test_many_settings_of_one_verdict_are_counted_not_named():
    verdicts = [(f"a={i}", "reverses") for i in range(5)] + [("a=9", "holds")]
    assert sentence(verdicts) == "holds in 1 of 6 settings; reverses in 5 settings"


def test_a_group_is_the_name_without_its_last_part():
    assert group_of("transfer.forward.frozen_0") == "transfer.forward"
    assert group_of("baseline") == "baseline"


def two_arm(effect, verdict, a, b, **kw):
    return claim(effect, verdict, a_values=a, b_values=b, **kw)


def sweep_with(per_setting):
    """A sweep over optimizer.learning_rate: lr -> that setting's claims (and families)."""
    return sweep_of(
        [
            FakeExperiment(f"e{i}", {"optimizer": {"learning_rate": lr}}, detail(*made))
            for i, (lr, made) in enumerate(per_setting.items())
        ]
    )


def test_a_claim_row_per_setting_with_its_sentence_and_p_a_beats_b():
    sweep = sweep_with(
        {
            0.001: ({"t.c": two_arm(0.3, "holds", [1, 2, 3], [0, 0, 0])},),
            0.01: ({"t.c": two_arm(0.0, "inconclusive", [1, 2], [1, 2])},),
            0.1: ({"t.c": two_arm(-0.2, "reverses", [0, 0], [5, 6])},),
        }
    )
    item = across(sweep, "t.c")
    assert [(s.label, r["verdict"]) for s, r in item.rows] == [
        (f"{LR}=0.001", "holds"),
        (f"{LR}=0.01", "inconclusive"),
        (f"{LR}=0.1", "reverses"),
    ]
    assert (
        item.sentence == f"holds in 1 of 3 settings; reverses at {LR}=0.1; inconclusive elsewhere"
    )
    assert item.improvement.per_setting == (1.0, 0.5, 0.0)
    assert item.improvement.probability == pytest.approx(0.5)


def test_a_published_comparison_has_no_p_a_beats_b():
    sweep = sweep_with(
        {0.1: ({"b.pub": claim(0.01, "holds")},), 0.2: ({"b.pub": claim(0.2, "differs")},)}
    )
    item = across(sweep, "b.pub")
    assert item.improvement is None
    assert item.sentence == f"holds in 1 of 2 settings; differs at {LR}=0.2"


def test_settings_without_repeats_of_both_arms_are_left_out_of_p_a_beats_b():
    sweep = sweep_with(
        {
            0.1: ({"c": two_arm(0.1, "holds", [1, 2], [0, 0])},),
            0.2: ({"c": two_arm(None, "inconclusive", [], [0, 0])},),
            0.3: ({},),  # the claim is not made here (e.g. its study switched off)
        }
    )
    item = across(sweep, "c")
    assert item.improvement.per_setting == (1.0,)
    assert item.sentence.endswith(f"not made at {LR}=0.3")


def test_headline_claims_and_the_members_of_headline_families_are_shown():
    members = {f"g.depths.d{k}": claim(0.1, "holds", headline=False) for k in (1, 2)}
    made = (
        {
            "b.headline": claim(0.1, "holds"),
            "b.detail_only": claim(0.1, "holds", headline=False),
            **members,
        },
        {"g.depths": family(list(members), "holds", 2, 0)},
    )
    sweep = sweep_with({0.1: made, 0.2: made})
    shown = all_across(sweep)
    assert {g: [(i.name, i.family) for i in items] for g, items in shown.items()} == {
        "b": [("b.headline", False)],
        "g.depths": [("g.depths.d1", False), ("g.depths.d2", False), ("g.depths", True)],
    }
    every = all_across(sweep, headline_only=False)
    assert [i.name for i in every["b"]] == ["b.headline", "b.detail_only"]
    assert shown["g.depths"][2].sentence == "holds in all 2 settings"
