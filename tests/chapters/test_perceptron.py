"""The perceptron rule: single updates, convergence on separable data, honest failure otherwise."""

import numpy as np
import pytest

from coursekit.data import blobs, xor
from coursekit.chapters.discriminant import count_errors
from coursekit.chapters.perceptron import perceptron_update, train_perceptron


# --- one update ----------------------------------------------------------------------------------


def test_a_correct_point_leaves_theta_unchanged():
    theta = np.array([0.5, 1.0, -1.0])
    np.testing.assert_array_equal(
        perceptron_update(theta, [2.0, 0.0], 1), theta
    )  # g = 2.5 > 0, y = 1
    np.testing.assert_array_equal(perceptron_update(theta, [-2.0, 0.0], 0), theta)  # g < 0, y = 0


def test_a_missed_positive_adds_the_input_and_a_false_positive_subtracts_it():
    theta = np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(perceptron_update(theta, [-1.0, 2.0], 1, lr=0.5), [0.5, 0.5, 1.0])
    np.testing.assert_allclose(perceptron_update(theta, [1.0, 2.0], 0, lr=0.5), [-0.5, 0.5, -1.0])


def test_an_update_raises_the_score_of_the_missed_point_by_lr_times_its_squared_norm():
    theta = np.array([0.2, -1.0, 0.5])
    x = np.array([1.5, -0.5])
    x_tilde = np.array([1.0, 1.5, -0.5])
    new = perceptron_update(theta, x, 1, lr=0.3)
    assert new @ x_tilde - theta @ x_tilde == pytest.approx(0.3 * x_tilde @ x_tilde)


def test_update_checks_its_inputs():
    with pytest.raises(ValueError, match="0 or 1"):
        perceptron_update([0.0, 0.0, 0.0], [1.0, 1.0], -1)
    with pytest.raises(ValueError, match="shape"):
        perceptron_update([0.0, 0.0], [1.0, 1.0], 1)


# --- training ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_converges_to_zero_training_errors_on_separable_blobs(seed):
    X, y = blobs(80, std=0.9, seed=seed)
    result = train_perceptron(X, y)
    assert result.converged
    assert count_errors(result.theta, X, y) == 0
    assert result.mistakes_per_epoch[-1] == 0 and result.mistakes_per_epoch.sum() == result.updates
    assert result.history.shape == (result.updates + 1, 3)
    np.testing.assert_array_equal(result.history[0], 0.0)
    np.testing.assert_array_equal(result.history[-1], result.theta)


def test_history_replays_the_rule():
    X, y = blobs(40, centers=[[0.5, 1.0], [-0.5, -1.0]], std=0.3, seed=1)
    result = train_perceptron(X, y, lr=0.7)
    theta, replay = np.zeros(3), [np.zeros(3)]
    for _ in range(result.epochs):
        for x, target in zip(X, y):
            new = perceptron_update(theta, x, int(target), lr=0.7)
            if not np.array_equal(new, theta):
                replay.append(new)
            theta = new
    np.testing.assert_allclose(np.array(replay), result.history)


def test_learning_rate_only_rescales_theta_from_a_zero_start():
    X, y = blobs(60, std=1.0, seed=2)
    a, b = train_perceptron(X, y, lr=1.0), train_perceptron(X, y, lr=0.01)
    assert a.updates == b.updates and a.epochs == b.epochs
    np.testing.assert_allclose(b.theta, 0.01 * a.theta)


def test_on_xor_it_does_not_converge_and_says_so():
    X, y = xor(40, noise=0.1, seed=0)
    result = train_perceptron(X, y, max_epochs=25)
    assert not result.converged
    assert result.epochs == 25 and np.all(result.mistakes_per_epoch > 0)
    assert count_errors(result.theta, X, y) > 0
    assert "did NOT converge" in str(result)


def test_training_checks_its_inputs():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="0 or 1"):
        train_perceptron(X, [1, -1, 1])
    with pytest.raises(ValueError, match=r"\(3,\)"):
        train_perceptron(X, [1, 0])
    with pytest.raises(ValueError, match="lr"):
        train_perceptron(X, [1, 0, 1], lr=0)
    with pytest.raises(ValueError, match="max_epochs"):
        train_perceptron(X, [1, 0, 1], max_epochs=0)
    with pytest.raises(ValueError, match="theta_init"):
        train_perceptron(X, [1, 0, 1], theta_init=[0.0, 0.0])
