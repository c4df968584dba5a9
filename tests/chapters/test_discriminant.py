"""Linear discriminants: bias trick, classification by sign, and the geometry of the boundary."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.chapters.discriminant import (
    add_bias,
    boundary_distance,
    count_errors,
    discriminant,
    foot_of_perpendicular,
    normal_vector,
    predict,
    signed_distance,
)

THETA = np.array([1.0, 2.0, 3.0])  # g(x) = 1 + 2 x1 + 3 x2

coefficient = st.floats(-5, 5, allow_nan=False).filter(lambda v: abs(v) > 0.05)
thetas = st.tuples(st.floats(-5, 5, allow_nan=False), coefficient, coefficient).map(np.array)


# --- the bias trick ------------------------------------------------------------------------------


def test_add_bias_prepends_a_one_to_a_vector_and_to_every_row():
    np.testing.assert_array_equal(add_bias([4.0, 5.0]), [1.0, 4.0, 5.0])
    np.testing.assert_array_equal(add_bias([[4.0, 5.0], [6.0, 7.0]]), [[1, 4, 5], [1, 6, 7]])


def test_bias_trick_gives_the_same_discriminant():
    X = np.random.default_rng(0).normal(size=(7, 2))
    np.testing.assert_allclose(add_bias(X) @ THETA, 1 + 2 * X[:, 0] + 3 * X[:, 1])
    np.testing.assert_allclose(discriminant(THETA, X), add_bias(X) @ THETA)


def test_add_bias_rejects_higher_rank_input():
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        add_bias(np.ones((2, 2, 2)))


# --- classification by sign ----------------------------------------------------------------------


def test_predict_is_one_exactly_where_g_is_positive_and_zero_on_the_boundary():
    X = np.array([[0.0, 0.0], [-0.5, 0.0], [-1.0, 0.0], [0.0, -1.0]])  # g = 1, 0, -1, -2
    np.testing.assert_array_equal(discriminant(THETA, X), [1.0, 0.0, -1.0, -2.0])
    np.testing.assert_array_equal(predict(THETA, X), [1, 0, 0, 0])


def test_count_errors_counts_disagreements():
    X = np.array([[0.0, 0.0], [-1.0, 0.0], [0.0, -1.0]])
    assert count_errors(THETA, X, [1, 0, 0]) == 0
    assert count_errors(THETA, X, [0, 1, 0]) == 2
    assert count_errors(THETA, X, [0, 1, 1]) == 3


def test_count_errors_rejects_labels_other_than_zero_and_one():
    with pytest.raises(ValueError, match="0 or 1"):
        count_errors(THETA, np.zeros((2, 2)), [-1, 1])


def test_shape_mismatch_between_theta_and_x_is_reported():
    with pytest.raises(ValueError, match="bias first"):
        discriminant(THETA, np.zeros((4, 3)))


# --- geometry ------------------------------------------------------------------------------------


def test_the_worked_example_distance_is_one_over_root_13_not_theta0():
    assert boundary_distance(THETA) == pytest.approx(1 / np.sqrt(13))
    assert boundary_distance(THETA) != pytest.approx(THETA[0])
    np.testing.assert_allclose(foot_of_perpendicular(THETA), [-2 / 13, -3 / 13])


def test_distance_equals_theta0_only_for_a_unit_normal():
    theta = np.array([-1.5, 0.6, 0.8])  # ||w|| = 1
    assert boundary_distance(theta) == pytest.approx(1.5)


def test_normal_vector_is_w_and_unit_normal_has_length_one():
    np.testing.assert_array_equal(normal_vector(THETA), [2.0, 3.0])
    np.testing.assert_allclose(normal_vector(THETA, unit=True), np.array([2.0, 3.0]) / np.sqrt(13))


def test_no_boundary_when_all_weights_are_zero():
    for fn in (boundary_distance, foot_of_perpendicular, normal_vector):
        with pytest.raises(ValueError, match="no decision boundary"):
            fn([2.0, 0.0, 0.0])


@settings(max_examples=60, deadline=None)
@given(thetas)
def test_foot_is_on_the_boundary_at_the_stated_distance(theta):
    foot = foot_of_perpendicular(theta)
    assert abs(discriminant(theta, foot)) < 1e-9 * (1 + abs(theta[0]))
    assert np.linalg.norm(foot) == pytest.approx(boundary_distance(theta), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(thetas, st.floats(-10, 10), st.floats(-10, 10))
def test_foot_is_the_closest_boundary_point(theta, s, t):
    # any boundary point: the foot plus a multiple of the direction along the line
    along = np.array([-theta[2], theta[1]])
    point = foot_of_perpendicular(theta) + s * along
    assert abs(discriminant(theta, point)) < 1e-7 * (
        1 + abs(theta[0]) + np.abs(theta).max() * np.abs(point).max()
    )
    assert np.linalg.norm(point) >= boundary_distance(theta) - 1e-9


@settings(max_examples=60, deadline=None)
@given(thetas, st.floats(-5, 5), st.floats(-5, 5))
def test_signed_distance_is_the_length_of_the_step_back_to_the_boundary(theta, a, b):
    x = np.array([a, b])
    d = signed_distance(theta, x)
    back = x - d * normal_vector(theta, unit=True)  # walk d along the unit normal
    assert abs(discriminant(theta, back)) < 1e-8 * (1 + np.abs(theta).sum() * (1 + np.abs(x).sum()))
    assert np.sign(d) == np.sign(discriminant(theta, x)) or abs(d) < 1e-12


def test_normal_points_into_the_positive_region():
    foot = foot_of_perpendicular(THETA)
    ahead = foot + 0.1 * normal_vector(THETA, unit=True)
    assert discriminant(THETA, ahead) > 0 and predict(THETA, ahead) == 1
