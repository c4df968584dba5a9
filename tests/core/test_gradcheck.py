"""Gradient checking: the checker must pass right gradients and catch wrong ones."""

import numpy as np
import pytest

from coursekit.gradcheck import check_gradient, numerical_gradient, relative_error


def test_numerical_gradient_of_a_quadratic_form_any_shape():
    A = np.arange(1.0, 7.0).reshape(2, 3)
    X = np.random.default_rng(0).normal(size=(2, 3))
    grad = numerical_gradient(lambda x: np.sum(A * x**2), X)
    np.testing.assert_allclose(grad, 2 * A * X, rtol=1e-8)


def test_input_is_restored_and_closures_see_the_perturbation():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    before = W.copy()
    grad = numerical_gradient(lambda _: float(np.sum(W**3)), W)  # reads W through the closure
    np.testing.assert_array_equal(W, before)
    np.testing.assert_allclose(grad, 3 * W**2, rtol=1e-8)


def test_relative_error_formula_and_floor():
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error([1e-13], [-1e-13]) < 1e-4  # round-off around zero is not a 200% error


def test_check_passes_a_correct_gradient_and_reports():
    x = np.array([0.3, -1.2, 2.0])
    result = check_gradient(lambda t: np.sum(np.sin(t)), x, np.cos(x))
    assert result.ok and result.max_error < 1e-8
    assert "passed" in str(result)


def test_check_reports_the_worst_entry_of_a_wrong_gradient():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    wrong = 2 * x
    wrong[1, 0] *= -1  # a sign error in one entry
    result = check_gradient(lambda t: np.sum(t**2), x, wrong)
    assert not result.ok
    assert result.worst_index == (1, 0)
    assert result.analytic == pytest.approx(-6.0) and result.numeric == pytest.approx(6.0)
    assert "FAILED" in str(result) and "(1, 0)" in str(result)


def test_a_gradient_off_by_a_factor_of_two_fails():
    x = np.array([0.5, 1.5])
    assert not check_gradient(lambda t: np.sum(t**2), x, x).ok


def test_float32_is_refused_with_a_reason():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda t: float(np.sum(t)), np.ones(3, dtype=np.float32))


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        check_gradient(lambda t: float(np.sum(t)), np.ones(2), np.ones(3))


def test_non_scalar_function_is_refused():
    with pytest.raises(TypeError, match="single number"):
        numerical_gradient(lambda t: t * 2, np.ones(2))


def test_lists_are_accepted():
    np.testing.assert_allclose(
        numerical_gradient(lambda t: np.sum(t**2), [1.0, -2.0]), [2.0, -4.0], rtol=1e-8
    )
