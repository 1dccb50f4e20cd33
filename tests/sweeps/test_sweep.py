"""Which experiments a sweep compares, what is left out and why, and how settings are
named: through the seam between DVC's experiment states and everything after them."""

import pytest

from layerwise.pipeline.errors import UserError
from layerwise.sweeps.experiments import DETAIL, from_states
from layerwise.sweeps.sweep import (
    assemble,
    differing,
    flatten,
    numeric_key,
    require_comparable,
)

from ..helpers.sweeps import FakeExperiment, claim, detail, reader, states, sweep_of


def params(lr, epochs=5, **more):
    optimizer = {"name": "sgd", "learning_rate": lr}
    return {"optimizer": optimizer, "baseline": {"epochs": epochs}, "seed": 0, **more}


CLAIMS = detail({"baseline.c": claim(0.1, "holds")})


def finished(name, p, claims=CLAIMS):
    return FakeExperiment(name, p, claims)


def test_only_the_params_that_differ_are_kept():
    flat = [flatten(params(0.1)), flatten(params(0.01)), flatten(params(0.001))]
    assert differing(flat) == ["optimizer.learning_rate"]
    flat.append(flatten(params(0.1, epochs=7, extra={"k": [1, 2]})))
    assert differing(flat) == ["baseline.epochs", "extra.k", "optimizer.learning_rate"]


def test_nested_params_flatten_to_dotted_keys_and_lists_stay_values():
    assert flatten({"a": {"b": {"c": 1}, "d": [1, 2]}, "e": {}}) == {
        "a.b.c": 1,
        "a.d": [1, 2],
        "e": {},
    }


def test_settings_are_named_by_their_differing_params_and_sorted_by_value():
    sweep = sweep_of([finished(n, params(lr)) for n, lr in [("x", 0.1), ("y", 0.001), ("z", 1e-5)]])
    assert sweep.keys == ["optimizer.learning_rate"]
    assert [s.label for s in sweep.settings] == [
        "optimizer.learning_rate=1e-05",
        "optimizer.learning_rate=0.001",
        "optimizer.learning_rate=0.1",
    ]
    assert [s.experiment.name for s in sweep.settings] == ["z", "y", "x"]
    assert numeric_key(sweep) == "optimizer.learning_rate"


def test_two_keys_name_a_setting_together_and_no_single_numeric_key():
    sweep = sweep_of(
        [
            finished("a", params(0.1, epochs=5)),
            finished("b", params(0.1, epochs=10)),
            finished("c", params(0.01, epochs=5, flag=True)),
        ]
    )
    assert sweep.keys == ["baseline.epochs", "flag", "optimizer.learning_rate"]
    labels = {s.experiment.name: s.label for s in sweep.settings}
    assert labels["c"] == "baseline.epochs=5, flag=true, optimizer.learning_rate=0.01"
    assert labels["a"] == "baseline.epochs=5, flag=(absent), optimizer.learning_rate=0.1"
    assert numeric_key(sweep) is None


def test_settings_with_the_same_params_are_told_apart_by_their_names():
    sweep = sweep_of(
        [finished("a", params(0.1)), finished("b", params(0.1)), finished("c", params(0.2))]
    )
    assert [s.label for s in sweep.settings] == [
        "optimizer.learning_rate=0.1 [a]",
        "optimizer.learning_rate=0.1 [b]",
        "optimizer.learning_rate=0.2",
    ]
    same = sweep_of([finished("a", params(0.1)), finished("b", params(0.1))])
    assert same.keys == [] and [s.label for s in same.settings] == ["[a]", "[b]"]


def test_the_workspace_row_is_no_experiment_and_a_workspace_run_counts_as_finished():
    experiments = from_states(states([FakeExperiment("w", params(0.1), CLAIMS, state=None)]))
    assert [(e.name, e.state, e.detail_recorded) for e in experiments] == [("w", "success", True)]
    assert experiments[0].params == params(0.1)


LEFT_OUT = {
    "queued": (FakeExperiment("q", params(0.3), None, state="queued"), "queued, not run yet"),
    "running": (FakeExperiment("r", params(0.4), None, state="running"), "still running"),
    "failed": (FakeExperiment("f", params(0.5), None, state="failed"), "`dvc queue logs f`"),
    "no claims file": (FakeExperiment("o", params(0.6), None), f"older code: it has no {DETAIL}"),
    "other version": (
        FakeExperiment("v", params(0.7), detail({}, version=0)),
        "other code: its claims are version 0, this code's are version 1",
    ),
    "not in the cache": (
        FakeExperiment("u", params(0.8), "uncached"),
        "not in the local DVC cache: `dvc exp pull <git remote> u`",
    ),
    "not json": (FakeExperiment("j", params(0.9), "{oops"), "is not a claims file"),
    "no claims object": (FakeExperiment("k", params(1.0), '{"claims": [1]}'), "not a claims"),
}


@pytest.mark.parametrize("case", LEFT_OUT, ids=list(LEFT_OUT))
def test_an_experiment_that_cannot_be_compared_is_listed_with_why(case):
    odd, why = LEFT_OUT[case]
    good = [finished("a", params(0.1)), finished("b", params(0.01))]
    sweep = sweep_of([*good, odd])
    assert [s.experiment.name for s in sweep.settings] == ["b", "a"]
    assert [x.experiment.name for x in sweep.left_out] == [odd.name]
    assert why in sweep.left_out[0].reason
    assert sweep.left_out[0].label.startswith("optimizer.learning_rate=")
    require_comparable(sweep, "based on HEAD")  # two are left: a report


def test_the_pull_hint_names_the_remote_it_is_given():
    experiments = [finished("a", params(0.1)), FakeExperiment("u", params(0.8), "uncached")]
    sweep = assemble(
        from_states(states(experiments)),
        reader(experiments),
        1,
        lambda n: f"dvc exp pull origin {n}",
    )
    assert sweep.left_out[0].reason.endswith("`dvc exp pull origin u`")


def test_no_experiments_says_how_to_run_a_sweep():
    with pytest.raises(
        UserError,
        match=r"no experiments based on HEAD .*`dvc exp run --queue -S 'key=a,b,c'`.*"
        r"`dvc queue start -j 2`",
    ):
        require_comparable(sweep_of([]), "based on HEAD (1234567)")


def test_one_experiment_is_not_a_sweep():
    sweep = sweep_of([finished("a", params(0.1)), LEFT_OUT["failed"][0]])
    with pytest.raises(
        UserError, match=r"only one experiment .* \(a\); a sweep report compares two or more"
    ):
        require_comparable(sweep, "based on HEAD")


def test_none_comparable_points_at_the_listed_reasons():
    sweep = sweep_of([LEFT_OUT["queued"][0], LEFT_OUT["failed"][0]])
    with pytest.raises(UserError, match=r"none of the 2 experiments .* listed above with why"):
        require_comparable(sweep, "based on HEAD")
