"""The optimizers: built by name with their own constants only, each constant checked
against its range, and a typed state that holds the update count with the slots."""

import numpy as np
import pytest
import tensorflow as tf

from layerwise.engine import (
    SGD,
    Adam,
    AdamState,
    Optimizer,
    SGDState,
    optimizer,
    optimizer_constants,
)


def test_optimizers_are_built_by_name_with_their_own_constants():
    """A configuration's spelling builds one class per optimizer, and the compiled
    program's key holds its constants without the learning rate."""
    assert optimizer("sgd", 0.01, momentum=0.9) == SGD(0.01, 0.9)
    assert optimizer("adam", 0.001, epsilon=1e-5) == Adam(0.001, epsilon=1e-5)
    assert optimizer("adam", 0.001) == Adam(0.001)  # a constant left out: Keras' default
    assert SGD() == SGD(0.01) and isinstance(Adam(), Optimizer)
    assert SGD(0.1, 0.9).constants() == SGD(0.5, 0.9).constants() != SGD(0.1, 0.0).constants()
    assert Adam(0.1).constants() != Adam(0.1, beta_2=0.99).constants()
    assert optimizer_constants("sgd") == ("momentum",)
    assert optimizer_constants("adam") == ("beta_1", "beta_2", "epsilon")
    assert isinstance(SGD(np.float32(0.5), 1).momentum, float)  # compiled in as floats


@pytest.mark.parametrize(
    "name, constants, message",
    [
        ("rmsprop", {}, r"optimizer 'rmsprop' is unknown \(allowed: sgd, adam\)"),
        ("adam", {"momentum": 0.9}, r"'adam' takes no constant 'momentum' \(allowed: "),
        ("sgd", {"beta_1": 0.9}, r"'sgd' takes no constant 'beta_1' \(allowed: .*momentum\)"),
        ("sgd", {"nesterov": True}, "takes no constant 'nesterov'"),
    ],
)
def test_unknown_optimizers_and_constants_are_refused(name, constants, message):
    """As Keras refuses an argument it does not know: a constant that does not apply is
    an error naming it and the optimizer's own, never silently dropped."""
    with pytest.raises(ValueError, match=message):
        optimizer(name, 0.01, **constants)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD(-0.1), r"learning_rate = -0.1 is out of range \(allowed: a finite number"),
        (lambda: SGD(float("nan")), "learning_rate = nan is out of range"),
        (lambda: Adam(float("inf")), "learning_rate = inf is out of range"),
        (lambda: SGD(0.01, -0.5), r"momentum = -0.5 is out of range \(allowed: a number >= 0 "),
        (lambda: SGD(0.01, 1.5), r"momentum = 1.5 .*<= 1\)"),
        (
            lambda: Adam(beta_1=1.0),
            r"beta_1 = 1.0 is out of range \(allowed: a number >= 0 and < 1\)",
        ),
        (lambda: Adam(beta_1=-0.1), "beta_1 = -0.1 is out of range"),
        (lambda: Adam(beta_2=1.0), "beta_2 = 1.0 is out of range"),
        (lambda: Adam(epsilon=-1e-7), "epsilon = -1e-07 is out of range"),
        (lambda: optimizer("adam", 0.001, beta_2=2), "adam: beta_2 = 2.0 is out of range"),
    ],
)
def test_constants_outside_their_domain_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_constant_that_is_no_number_is_a_type_error():
    with pytest.raises(TypeError, match="momentum = 'high' is not a number"):
        SGD(0.01, "high")


def test_the_edges_of_each_domain_are_allowed():
    SGD(0.0, 0.0), SGD(0.01, 1.0), Adam(0.0, beta_1=0.0, beta_2=0.0, epsilon=0.0)
    assert SGD(0.01).constants().learning_rate is None  # the program's key


def test_the_state_holds_the_update_count_with_the_slots():
    """optax's way: one typed state per optimizer, its step count inside it."""
    params = [tf.ones([2, 3, 4]), tf.ones([2, 4])]
    grads = [tf.fill([2, 3, 4], 0.5), tf.fill([2, 4], 0.5)]
    lr = tf.constant(0.1)
    plain = SGD(0.1).init(params)
    assert isinstance(plain, SGDState) and plain.velocity == () and int(plain.count) == 0
    state = SGD(0.1, 0.9).init(params)
    assert [v.shape for v in state.velocity] == [p.shape for p in params]
    new, state = SGD(0.1, 0.9).update(lr, params, grads, state)
    assert int(state.count) == 1
    np.testing.assert_allclose(state.velocity[0], -0.05)
    np.testing.assert_allclose(new[0], 0.95)
    adam = Adam(0.1)
    state = adam.init(params)
    assert isinstance(state, AdamState) and int(state.count) == 0
    for _ in range(3):
        params, state = adam.update(lr, params, grads, state)
    assert int(state.count) == 3
    assert [m.shape for m in state.mu] == [n.shape for n in state.nu] == [[2, 3, 4], [2, 4]]
