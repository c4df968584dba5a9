"""Gradient descent: exact agreement with the closed form on quadratics, and honest divergence."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.chapters.descent import gradient_descent


@settings(max_examples=50, deadline=None)
@given(st.floats(0.1, 10), st.floats(0.01, 1.9), st.floats(-5, 5), st.integers(0, 40))
def test_one_dimensional_quadratic_matches_the_closed_form(a, eta_times_a, x0, steps):
    lr = eta_times_a / a  # keep eta * a < 2: the convergent regime
    result = gradient_descent(lambda x: a * x, x0, lr, steps, f=lambda x: 0.5 * a * x**2)
    expected = (1 - lr * a) ** np.arange(steps + 1) * x0
    scale = abs(x0) + 1e-300  # exact zeros after lr = 1/a come out as round-off of size eps * |x0|
    np.testing.assert_allclose(result.path, expected, rtol=1e-12, atol=1e-14 * scale)
    np.testing.assert_allclose(
        result.values, 0.5 * a * expected**2, rtol=1e-12, atol=1e-14 * a * scale**2
    )
    assert not result.diverged and result.steps == steps


def test_two_dimensional_quadratic_each_coordinate_follows_its_own_curvature():
    curvature = np.array([1.0, 10.0])
    x0 = np.array([2.0, -1.0])
    lr = 0.15  # 1 - lr*a = 0.85 and -0.5
    result = gradient_descent(lambda p: curvature * p, x0, lr, 30)
    t = np.arange(31)[:, None]
    np.testing.assert_allclose(result.path, (1 - lr * curvature) ** t * x0, rtol=1e-12)


def test_learning_rate_regimes_on_a_quadratic():
    a, x0 = 2.0, 1.0
    run = lambda lr: gradient_descent(lambda x: a * x, x0, lr, 20).path  # noqa: E731
    slow, exact, oscillating, edge = run(0.01), run(0.5), run(0.9), run(1.0)
    assert 0.5 < slow[-1] < 1  # barely moved
    assert exact[1] == 0.0  # lr = 1/a: one step to the minimum
    assert (
        np.all(np.diff(np.sign(oscillating[:5])) != 0) and abs(oscillating[-1]) < 0.02
    )  # 0.8^20  # overshoots, converges
    np.testing.assert_allclose(np.abs(edge), 1.0)  # lr = 2/a: bounces forever


def test_divergence_is_detected_without_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gradient_descent(lambda x: x**3, 2.0, 1.0, 10_000, f=lambda x: x**4 / 4)
    assert result.diverged
    assert result.steps < 10_000
    assert np.all(np.isfinite(result.path))


def test_divergence_beyond_max_norm_stops_at_the_first_iterate_outside():
    result = gradient_descent(lambda x: x, 1.0, 3.0, 100, max_norm=1e3)  # x_t = (-2)^t
    assert result.diverged
    np.testing.assert_array_equal(result.path, (-2.0) ** np.arange(11))  # 1024 is the first outside


def test_start_is_copied_and_path_rows_are_independent():
    x0 = np.array([1.0, 1.0])
    result = gradient_descent(lambda p: p, x0, 0.5, 3)
    np.testing.assert_array_equal(x0, [1.0, 1.0])
    np.testing.assert_allclose(result.path[:, 0], [1.0, 0.5, 0.25, 0.125])
    assert result.values is None


def test_bad_arguments_are_refused():
    grad = lambda x: x  # noqa: E731
    with pytest.raises(ValueError, match="lr"):
        gradient_descent(grad, 1.0, 0.0, 3)
    with pytest.raises(ValueError, match="steps"):
        gradient_descent(grad, 1.0, 0.1, -1)
    with pytest.raises(ValueError, match="shape"):
        gradient_descent(lambda x: np.ones(3), np.ones(2), 0.1, 1)
