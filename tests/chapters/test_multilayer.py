"""Hidden layers: XOR by hand, linear stacks, ReLU interpolants, Cover's count, symmetry."""

import math

import numpy as np
import pytest

from coursekit.chapters.multilayer import (
    bump,
    collapse_linear,
    constant_init,
    cover_count,
    cover_fraction,
    hidden_features,
    relu_interpolant,
    separable_by_least_squares,
    separable_by_perceptron,
    xor_by_hand,
)
from coursekit.chapters.training import train
from coursekit.data import xor
from coursekit.nn import ReLU, mlp

CORNERS = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])


def test_xor_by_hand_is_abs_difference_minus_one():
    net = xor_by_hand()
    np.testing.assert_allclose(net(CORNERS)[:, 0], [-1, -1, 1, 1])
    P = np.random.default_rng(0).uniform(-3, 3, (50, 2))
    np.testing.assert_allclose(net(P)[:, 0], np.abs(P[:, 0] - P[:, 1]) - 1)
    np.testing.assert_allclose(hidden_features(net, CORNERS), [[0, 0], [0, 0], [2, 0], [0, 2]])


def test_hidden_features_need_a_hidden_layer():
    with pytest.raises(ValueError, match="no hidden layer"):
        hidden_features(mlp([2, 1], rng=0), CORNERS)
    with pytest.raises(TypeError, match="Sequential"):
        hidden_features(ReLU(), CORNERS)


def test_a_stack_of_linear_layers_is_one_affine_map():
    net = mlp([3, 5, 4, 2], "identity", rng=3)
    W, b = collapse_linear(net)
    assert W.shape == (2, 3) and b.shape == (2,)
    X = np.random.default_rng(1).standard_normal((7, 3))
    np.testing.assert_allclose(net(X), X @ W.T + b, atol=1e-12)
    with pytest.raises(ValueError, match="layer 1 is ReLU"):
        collapse_linear(mlp([2, 3, 1], "relu", rng=0))


def test_bump_is_a_triangle_of_height_one():
    x = np.array([-1.0, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0])
    np.testing.assert_allclose(bump(x, centre=2.0, half_width=1.0), [0, 0, 0.5, 1, 0.5, 0, 0])
    with pytest.raises(ValueError, match="half_width"):
        bump(x, 0.0, 0.0)


def test_relu_interpolant_passes_through_the_points_and_is_linear_between():
    knots = np.array([0.0, 1.0, 2.5, 4.0])
    values = np.array([1.0, -1.0, 2.0, 0.0])
    net = relu_interpolant(knots, values)
    assert net[0].W.shape == (3, 1)
    np.testing.assert_allclose(net(knots[:, None])[:, 0], values, atol=1e-12)
    xs = np.linspace(0, 4, 41)
    np.testing.assert_allclose(net(xs[:, None])[:, 0], np.interp(xs, knots, values), atol=1e-12)
    with pytest.raises(ValueError, match="strictly increasing"):
        relu_interpolant([0.0, 0.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="one entry per knot"):
        relu_interpolant([0.0, 1.0], [1.0])


def test_cover_count():
    assert cover_count(4, 2) == 14  # of the 16 labellings of 4 points in the plane, XOR's two fail
    assert (
        cover_count(12, 1) == 24 and cover_fraction(12, 11) == 1.0 and cover_fraction(12, 5) == 0.5
    )
    assert cover_count(5, 10) == 2**5
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        cover_count(5, 0)


def test_separability_certificates_agree_with_xor():
    labels_xor = np.array([[0, 0, 1, 1]])  # XOR on the corners
    labels_line = np.array([[1, 0, 1, 0]])  # x1 > 0
    both = np.vstack([labels_xor, labels_line])
    np.testing.assert_array_equal(
        separable_by_perceptron(CORNERS, both, max_epochs=100), [False, True]
    )
    np.testing.assert_array_equal(separable_by_least_squares(CORNERS, both), [False, True])
    lifted = np.hstack(
        [CORNERS, (CORNERS[:, :1] * CORNERS[:, 1:])]
    )  # the feature x1 x2 separates XOR
    assert separable_by_perceptron(lifted, labels_xor)[0]
    with pytest.raises(ValueError, match="only the labels 0 and 1"):
        separable_by_least_squares(CORNERS, np.array([[0, 1, 2, 1]]))
    with pytest.raises(ValueError, match=r"shape \(L, 4\)"):
        separable_by_perceptron(CORNERS, np.array([[0, 1, 1]]))


def test_units_that_start_equal_stay_equal():
    X, y = xor(80, noise=0.25, seed=2)
    net = constant_init(mlp([2, 4, 1], "relu", rng=0), value=0.3)
    train(net, X, y, loss="bce", lr=0.5, epochs=60)
    np.testing.assert_allclose(net[0].W, np.broadcast_to(net[0].W[0], net[0].W.shape))
    np.testing.assert_allclose(net[2].W[0], net[2].W[0, 0])
    assert not math.isclose(net[0].W[0, 0], 0.3)  # it did train
