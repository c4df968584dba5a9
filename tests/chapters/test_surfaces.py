"""The 2-D test functions: gradients and Hessians checked numerically, stationary points typed."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coursekit.chapters.descent import gradient_descent
from coursekit.gradcheck import check_gradient, numerical_gradient
from coursekit.chapters.surfaces import (
    cubic_valley,
    cubic_valley_grad,
    cubic_valley_hessian,
    rosenbrock,
    rosenbrock_grad,
    rosenbrock_hessian,
)

points = st.tuples(st.floats(-3, 3), st.floats(-3, 3)).map(lambda p: np.array(p, dtype=np.float64))
FUNCTIONS = [
    (cubic_valley, cubic_valley_grad, cubic_valley_hessian),
    (rosenbrock, rosenbrock_grad, rosenbrock_hessian),
]


@pytest.mark.parametrize("f, grad, _", FUNCTIONS)
@settings(max_examples=40, deadline=None)
@given(p=points)
def test_gradients_pass_a_gradient_check(f, grad, _, p):
    # The centred difference is off by up to eps^2 |f'''| / 6 + 1e-16 |f| / eps: on [-3, 3]^2 both
    # functions have third derivatives up to 7200 and values up to 1.5e4, so at most about 5e-7.
    # A partial must be well above that for a 1e-6 *relative* tolerance to mean anything.
    assume(np.all(np.abs(grad(p)) > 1.0))
    result = check_gradient(lambda q: float(f(q)), p.copy(), grad(p), eps=1e-5, tol=1e-6)
    assert result.ok, str(result)


@pytest.mark.parametrize("f, grad, hessian", FUNCTIONS)
@settings(max_examples=30, deadline=None)
@given(p=points)
def test_hessians_are_the_jacobians_of_the_gradients(f, grad, hessian, p):
    # A relative test alone cannot work here: where a Hessian entry passes near 0 the centred
    # difference's truncation error (eps^2/6 times a third derivative of up to ~7e3) and its
    # rounding error (|grad| * 1e-16 / eps) are not small relative to the entry. So the bound is
    # relative plus an absolute term sized by those two error sources.
    eps = 1e-6
    for i in range(2):
        numeric = numerical_gradient(lambda q: float(grad(q)[i]), p.copy(), eps=eps)
        atol = eps**2 / 6 * 1e4 + 1e-15 * (1 + np.abs(grad(p)).max()) / eps
        np.testing.assert_allclose(numeric, hessian(p)[i], rtol=1e-6, atol=atol)


def test_cubic_valley_partials_are_the_given_ones():
    x, y = 0.7, -1.3
    np.testing.assert_allclose(
        cubic_valley_grad([x, y]), [-3 * x**2 - 200 * (y**2 - x), 400 * y * (y**2 - x)]
    )


def test_functions_work_on_grids():
    P = np.stack(np.meshgrid(np.linspace(-1, 1, 4), np.linspace(0, 2, 3)), axis=-1)  # (3, 4, 2)
    assert cubic_valley(P).shape == (3, 4) and rosenbrock_grad(P).shape == (3, 4, 2)
    assert cubic_valley_hessian(P).shape == (3, 4, 2, 2)
    np.testing.assert_allclose(cubic_valley(P)[1, 2], cubic_valley(P[1, 2]))


def test_one_point_gets_the_numbers_of_the_array_code():
    # A single point is computed on plain floats, the fast path gradient descent uses; the
    # gradient it follows must be bit for bit the array code's.
    P = np.random.default_rng(0).uniform(-3, 3, size=(200, 2))
    for f, grad, hessian in FUNCTIONS:
        np.testing.assert_array_equal(np.array([grad(p) for p in P]), grad(P))
        np.testing.assert_array_equal(np.array([hessian(p) for p in P]), hessian(P))
        np.testing.assert_allclose([f(p) for p in P], f(P), rtol=1e-14)


def test_points_need_a_last_axis_of_two():
    with pytest.raises(ValueError, match="length 2"):
        cubic_valley(np.ones(3))


def test_cubic_valley_stationary_points_a_degenerate_saddle_and_a_local_maximum():
    np.testing.assert_array_equal(cubic_valley_grad([0.0, 0.0]), [0.0, 0.0])
    np.testing.assert_allclose(cubic_valley_grad([200 / 3, 0.0]), [0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(cubic_valley_hessian([0.0, 0.0]), [[200.0, 0.0], [0.0, 0.0]])
    assert np.all(np.linalg.eigvalsh(cubic_valley_hessian([200 / 3, 0.0])) < 0)
    t = np.linspace(-0.5, 0.5, 11)
    t = t[t != 0]
    assert np.all(cubic_valley(np.stack([t**2, t], -1)) < 0)  # along the valley: below f(0, 0) = 0
    assert np.all(cubic_valley(np.stack([t / 10, 0 * t], -1)) > 0)  # along y = 0: above it


def test_cubic_valley_is_unbounded_below_along_its_floor():
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    np.testing.assert_allclose(cubic_valley(np.stack([x, np.sqrt(x)], -1)), -(x**3))


def test_rosenbrock_minimum_and_hessian_there():
    assert rosenbrock([1.0, 1.0]) == 0.0
    np.testing.assert_array_equal(rosenbrock_grad([1.0, 1.0]), [0.0, 0.0])
    np.testing.assert_allclose(rosenbrock_hessian([1.0, 1.0]), [[802.0, -400.0], [-400.0, 200.0]])


def test_gradient_descent_reaches_the_rosenbrock_minimum_with_a_small_rate():
    result = gradient_descent(rosenbrock_grad, np.array([-1.5, 2.0]), 1e-3, 20_000, f=rosenbrock)
    np.testing.assert_allclose(result.final, [1.0, 1.0], atol=1e-3)


def test_gradient_descent_slides_down_the_cubic_valley_and_blows_up():
    result = gradient_descent(cubic_valley_grad, np.array([0.5, -1.0]), 3e-4, 5000, f=cubic_valley)
    assert result.diverged
    before = result.values[: np.argmax(result.path[:, 0] > 10)]  # while still in the valley
    assert before[-1] < -900 and np.all(np.diff(before[20:]) < 0)  # steadily downhill, f ~ -x^3
