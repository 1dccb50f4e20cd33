"""Ensemble combiners on hand-made probability arrays whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from layerwise.studies.ensembles import combiners as comb


def random_probs(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(3), size=shape)


def test_weight_grid_is_the_book_grid():
    grid = comb.weight_grid(5, 0.1)
    assert grid.shape == (11**5 - 11, 5)  # all-equal vectors (0..1 each) are skipped
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert not np.any(np.all(np.isclose(grid, 0.2), axis=1))


@pytest.mark.parametrize("step", [0.3, 0.0, -0.1, 0.15])
def test_weight_grid_step_must_divide_one(step):
    with pytest.raises(ValueError, match="does not divide 1"):
        comb.weight_grid(3, step)


def test_grid_search_finds_a_planted_weight_vector():
    probs = random_probs((4, 1500))
    planted = comb.normalise(np.array([0.9, 0.0, 0.3, 0.6]))
    labels = comb.average(probs, planted).argmax(axis=-1)  # planted weights are perfect
    weights, acc = comb.grid_search_weights(probs, labels, step=0.1)
    assert acc == 1.0
    np.testing.assert_allclose(weights, planted)


def test_score_weights_matches_direct_averaging():
    probs = random_probs((5, 300), seed=1)
    labels = np.random.default_rng(2).integers(0, 3, 300)
    probs[:, :100] = probs[0, :100]  # unanimous rows take the shortcut
    grid = comb.weight_grid(5, 0.25)
    direct = comb.accuracy(comb.average(probs[None], grid), labels)
    np.testing.assert_allclose(comb.score_weights(probs, labels, grid), direct)


def test_equal_weights_reproduce_plain_averaging():
    probs = random_probs((5, 200), seed=3)
    np.testing.assert_allclose(comb.average(probs, np.ones(5)), comb.average(probs))
    np.testing.assert_allclose(comb.average(probs, np.full(5, 7.0)), probs.mean(axis=0))


def test_differential_evolution_reaches_a_planted_optimum():
    probs = random_probs((3, 400), seed=4)
    labels = comb.average(probs, np.array([0.7, 0.2, 0.1])).argmax(axis=-1)
    weights, acc = comb.de_weights(probs, labels, maxiter=200, seed=0)
    assert acc >= 0.99
    np.testing.assert_allclose(weights.sum(), 1.0)


def test_size_sweep_first_member_and_full_average():
    probs = random_probs((2, 4, 50), seed=5)  # 2 repeats of 4 members
    labels = np.random.default_rng(6).integers(0, 3, 50)
    sweep = comb.size_sweep(probs, labels)
    np.testing.assert_allclose(sweep["ensemble"][:, 0], sweep["single"][:, 0])
    np.testing.assert_allclose(sweep["ensemble"][:, -1], comb.accuracy(probs.mean(axis=1), labels))
    np.testing.assert_allclose(sweep["single"], comb.accuracy(probs, labels))


def test_size_larger_than_members_is_refused():
    probs = random_probs((3, 10))
    with pytest.raises(ValueError, match="ensemble size = 4 is not possible with 3 members"):
        comb.size_sweep(probs, np.zeros(10, int), max_size=4)


def test_weight_averaging_of_identical_checkpoints_returns_them():
    rng = np.random.default_rng(7)
    weights = [rng.normal(size=(3, 2, 5)).astype(np.float32), rng.normal(size=(3, 5))]
    for scheme in comb.WEIGHT_SCHEMES:
        coef = comb.checkpoint_coefficients(4, scheme)
        averaged = comb.average_checkpoints([weights] * 4, coef)
        for got, want in zip(averaged, weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_checkpoint_coefficients():
    np.testing.assert_allclose(comb.checkpoint_coefficients(3, "linear"), [3 / 6, 2 / 6, 1 / 6])
    exp = np.exp(-np.arange(3) / 2)
    np.testing.assert_allclose(comb.checkpoint_coefficients(3, "exponential", 0.5), exp / exp.sum())
    np.testing.assert_allclose(comb.checkpoint_coefficients(4, "equal"), 0.25)


def test_disagreement_and_nll_on_known_arrays():
    eye = np.eye(3)
    same = np.stack([eye[[0, 1, 2]]] * 3)  # three members, identical votes
    assert comb.disagreement(same) == 0.0
    split = np.stack([eye[[0, 0]], eye[[0, 1]]])  # they differ on one row of two
    assert comb.disagreement(split) == pytest.approx(0.5)
    probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]])
    assert comb.nll(probs, np.array([0, 1])) == pytest.approx(-(np.log(0.5) + np.log(0.8)) / 2)


def test_stacking_meta_learner_learns_which_member_to_trust():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 3, 600)
    good = np.eye(3)[labels] * 0.8 + 0.2 / 3
    noise = rng.dirichlet(np.ones(3), size=(2, 600))
    probs = np.concatenate([noise, good[None]])
    features = comb.stack_features(probs)
    assert features.shape == (600, 9)
    model = comb.fit_meta_learner(features[:300], labels[:300])
    out = comb.meta_probabilities(model, features[300:], 3)
    assert comb.accuracy(out, labels[300:]) == 1.0


def test_choose_size_finds_the_planted_best_size_per_repeat():
    eye = np.eye(3)
    labels = np.array([[0, 1, 2, 0], [0, 1, 2, 0]])
    right, wrong = eye[[0, 1, 2, 0]], eye[[1, 2, 0, 1]]
    half = eye[[0, 1, 2, 1]]  # right on 3 of 4 rows
    # repeat 0: the first member is right, two wrong ones follow: size 1 is best;
    # repeat 1: a wrong member first, then two right ones: the average of 3 wins
    probs = np.stack([np.stack([right, wrong, half]), np.stack([wrong, right, right])])
    np.testing.assert_array_equal(comb.choose_size(probs, labels), [1, 3])
    combined = comb.average_first(probs, np.array([1, 3]))
    np.testing.assert_allclose(combined[0], right)
    np.testing.assert_allclose(combined[1], probs[1].mean(axis=0))


def test_choose_size_breaks_accuracy_ties_by_likelihood_then_size():
    labels = np.array([[0, 0]])
    sure = np.array([[0.9, 0.05, 0.05]] * 2)
    unsure = np.array([[0.5, 0.25, 0.25]] * 2)
    # every size is right on both rows; adding the sure member lowers the NLL
    assert comb.choose_size(np.stack([unsure, sure, unsure])[None], labels) == [2]
    # identical members: every size ties on NLL too, so the smallest wins
    assert comb.choose_size(np.stack([sure, sure, sure])[None], labels) == [1]
