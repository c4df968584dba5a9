"""Logistic regression: probabilities, the gradient sum_i (h_i - y_i) x_i, and training."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coursekit.chapters import logistic
from coursekit.activations import sigmoid
from coursekit.data import blobs
from coursekit.gradcheck import check_gradient
from coursekit.losses import bce

RNG = np.random.default_rng(0)
X_SMALL = RNG.normal(size=(12, 2))
Y_SMALL = (RNG.random(12) < 0.5).astype(float)


def test_probabilities_are_the_sigmoid_of_the_bias_trick_score():
    theta = np.array([0.3, -1.0, 2.0])
    expected = sigmoid(0.3 - X_SMALL[:, 0] + 2.0 * X_SMALL[:, 1])
    np.testing.assert_allclose(logistic.predict_proba(theta, X_SMALL), expected)


def test_loss_is_binary_cross_entropy_with_both_conventions():
    theta = np.array([0.3, -1.0, 2.0])
    p = logistic.predict_proba(theta, X_SMALL)
    assert logistic.loss(theta, X_SMALL, Y_SMALL) == pytest.approx(bce(p, Y_SMALL))
    assert logistic.loss(theta, X_SMALL, Y_SMALL, reduction="sum") == pytest.approx(
        12 * bce(p, Y_SMALL)
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3), st.sampled_from(["mean", "sum"]))
def test_gradient_passes_a_gradient_check(theta, reduction):
    theta = np.array(theta)
    analytic = logistic.gradient(theta, X_SMALL, Y_SMALL, reduction)
    # round-off in the loss (~1e-16 / eps) is not small relative to a near-zero partial
    assume(np.all(np.abs(analytic) > 1e-2))
    result = check_gradient(
        lambda t: logistic.loss(t, X_SMALL, Y_SMALL, reduction), theta.copy(), analytic
    )
    assert result.ok, str(result)


def test_gradient_is_the_sum_of_residual_times_input():
    theta = np.array([0.1, 0.2, 0.3])
    h = logistic.predict_proba(theta, X_SMALL)
    Xb = np.column_stack([np.ones(12), X_SMALL])
    expected = sum((h[i] - Y_SMALL[i]) * Xb[i] for i in range(12))
    np.testing.assert_allclose(
        logistic.gradient(theta, X_SMALL, Y_SMALL, reduction="sum"), expected
    )
    # the opposite sign is the gradient of the log-likelihood, which ascent (not descent) would use
    assert not np.allclose(-expected, expected)


def test_fit_lowers_the_loss_and_classifies_blobs():
    X, y = blobs(200, std=1.5, seed=1)
    fit = logistic.fit(X, y, lr=1.0, steps=200)
    assert not fit.diverged
    assert fit.losses[0] == pytest.approx(np.log(2))  # theta = 0 predicts 1/2 for everyone
    assert np.all(np.diff(fit.losses) <= 1e-12)  # a safe learning rate: never goes up
    assert fit.errors(X, y) <= 6
    np.testing.assert_allclose(np.linalg.norm(logistic.gradient(fit.theta, X, y)), 0, atol=1e-3)


def test_fit_with_sum_reduction_equals_mean_with_a_rate_m_times_larger():
    X, y = blobs(50, std=1.5, seed=2)
    a = logistic.fit(X, y, lr=0.02, steps=30, reduction="sum")
    b = logistic.fit(X, y, lr=0.02 * 50, steps=30, reduction="mean")
    np.testing.assert_allclose(a.thetas, b.thetas, rtol=1e-10, atol=1e-12)


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="bias first"):
        logistic.predict_proba(np.zeros(2), X_SMALL)
    with pytest.raises(ValueError, match=r"\(12,\)"):
        logistic.loss(np.zeros(3), X_SMALL, np.zeros(5))
    with pytest.raises(ValueError, match="reduction"):
        logistic.gradient(np.zeros(3), X_SMALL, Y_SMALL, reduction="avg")
