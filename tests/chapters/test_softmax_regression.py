"""Softmax regression: shapes, gradients against finite differences, training, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from coursekit.activations import sigmoid
from coursekit.data import blobs, spirals
from coursekit.gradcheck import check_gradient, numerical_gradient, relative_error
from coursekit.losses import bce_with_logits
from coursekit.chapters.softmax_regression import SoftmaxRegression


def random_model(rng, d=2, k=3):
    model = SoftmaxRegression(d, k)
    model.W = rng.normal(size=(k, d))
    model.b = rng.normal(size=k)
    return model


class TestPrediction:
    def test_fresh_model_gives_uniform_probabilities_and_loss_log_k(self):
        X, y = blobs(n=30, centers=4, seed=1)
        model = SoftmaxRegression(2, 4)
        np.testing.assert_allclose(model.predict_proba(X), 0.25)
        assert model.loss(X, y) == pytest.approx(np.log(4))

    def test_logits_are_x_w_transpose_plus_b(self):
        model = SoftmaxRegression(2, 3)
        model.W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
        model.b = np.array([0.5, 0.0, -0.5])
        np.testing.assert_allclose(model.logits([[2.0, 3.0]]), [[2.5, 3.0, -5.5]])
        assert model.predict([[2.0, 3.0]]).tolist() == [1]

    def test_predict_is_argmax_of_probabilities(self):
        rng = np.random.default_rng(0)
        model = random_model(rng)
        X = rng.normal(size=(50, 2))
        np.testing.assert_array_equal(model.predict(X), model.predict_proba(X).argmax(axis=1))
        np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)

    def test_two_classes_is_logistic_regression_on_the_score_difference(self):
        rng = np.random.default_rng(3)
        model = random_model(rng, k=2)
        X = rng.normal(size=(20, 2))
        y = rng.integers(0, 2, size=20)
        g = model.logits(X) @ np.array([-1.0, 1.0])  # z_1 - z_0
        np.testing.assert_allclose(model.predict_proba(X)[:, 1], sigmoid(g))
        assert model.loss(X, y) == pytest.approx(bce_with_logits(g, y.astype(float)))


class TestGradients:
    @settings(max_examples=25, deadline=None)
    @given(seed=st.integers(0, 10_000), k=st.integers(2, 5), d=st.integers(1, 4))
    def test_gradients_match_finite_differences(self, seed, k, d):
        rng = np.random.default_rng(seed)
        model = random_model(rng, d, k)
        X = rng.normal(size=(7, d))
        y = rng.integers(0, k, size=7)
        dW, db = model.gradients(X, y)
        loss = lambda _: model.loss(X, y)  # noqa: E731 (reads model.W and model.b, perturbed in place)
        # The loss is ~1, so its rounding error over a step of 1e-5 is ~1e-11, and truncation adds
        # ~1e-10: an entry of 1e-4 cannot be checked to a relative 1e-7. Entries below 1e-2 are
        # therefore measured against 1e-2 (the floor), i.e. to an absolute 1e-9.
        assert relative_error(dW, numerical_gradient(loss, model.W, eps=1e-5), floor=1e-2) < 1e-7
        assert relative_error(db, numerical_gradient(loss, model.b, eps=1e-5), floor=1e-2) < 1e-7

    def test_gradient_check_at_a_fixed_point(self):
        model = random_model(np.random.default_rng(7), d=2, k=3)
        X, y = blobs(n=9, centers=3, seed=7)
        dW, db = model.gradients(X, y)
        assert check_gradient(lambda _: model.loss(X, y), model.W, dW).ok
        assert check_gradient(lambda _: model.loss(X, y), model.b, db).ok

    @given(arrays(np.float64, (3,), elements=st.floats(-20, 20)))
    def test_bias_gradient_sums_to_zero(self, b):
        # sum_k (s_k - t_k) = 1 - 1 for every sample, so the class biases' gradients cancel.
        model = SoftmaxRegression(2, 3)
        model.b = b
        X, y = blobs(n=12, centers=3, seed=2)
        _, db = model.gradients(X, y)
        assert abs(db.sum()) < 1e-12


class TestTraining:
    def test_reaches_99_percent_on_three_blobs(self):
        X, y = blobs(n=300, centers=3, std=0.8, seed=0)
        model = SoftmaxRegression(2, 3)
        history = model.fit(X, y, lr=0.5, epochs=300)
        assert len(history) == 301
        assert history[0] == pytest.approx(np.log(3))
        assert history[-1] < 0.05
        assert model.accuracy(X, y) >= 0.99

    def test_loss_decreases_every_step_with_a_small_learning_rate(self):
        X, y = blobs(n=90, centers=3, std=1.0, seed=4)
        history = SoftmaxRegression(2, 3).fit(X, y, lr=0.1, epochs=100)
        assert np.all(np.diff(history) < 0)

    def test_a_linear_model_cannot_fit_spirals(self):
        X, y = spirals(n=300, k=3, seed=0)
        model = SoftmaxRegression(2, 3)
        model.fit(X, y, lr=0.5, epochs=300)
        assert model.accuracy(X, y) < 0.6

    def test_fit_continues_from_the_current_weights(self):
        X, y = blobs(n=60, centers=3, seed=5)
        once = SoftmaxRegression(2, 3)
        once.fit(X, y, epochs=20)
        twice = SoftmaxRegression(2, 3)
        twice.fit(X, y, epochs=10)
        twice.fit(X, y, epochs=10)
        np.testing.assert_allclose(once.W, twice.W)
        np.testing.assert_allclose(once.b, twice.b)


class TestBadInput:
    def test_wrong_feature_count_names_the_shape(self):
        with pytest.raises(ValueError, match=r"X must have shape \(n, 2\).*\(4, 3\)"):
            SoftmaxRegression(2, 3).predict(np.zeros((4, 3)))

    def test_label_out_of_range(self):
        with pytest.raises(ValueError, match="labels must lie in 0..2"):
            SoftmaxRegression(2, 3).fit(np.zeros((2, 2)), [0, 3])

    def test_labels_must_match_rows(self):
        with pytest.raises(ValueError, match=r"one integer label per row of X, shape \(3,\)"):
            SoftmaxRegression(2, 3).loss(np.zeros((3, 2)), [0, 1])

    def test_fractional_labels(self):
        with pytest.raises(ValueError, match="integer class labels"):
            SoftmaxRegression(2, 3).loss(np.zeros((2, 2)), [0.5, 1.0])

    @pytest.mark.parametrize("lr", [0.0, -1.0, float("nan")])
    def test_bad_learning_rate(self, lr):
        with pytest.raises(ValueError, match="lr must be a finite number > 0"):
            SoftmaxRegression(2, 3).fit(np.zeros((2, 2)), [0, 1], lr=lr)

    def test_one_class_is_not_a_classifier(self):
        with pytest.raises(ValueError, match="num_classes must be at least 2"):
            SoftmaxRegression(2, 1)


class TestDivergence:
    def test_a_huge_learning_rate_is_reported_and_the_weights_are_kept(self):
        X, y = blobs(n=60, centers=3, seed=0)
        model = SoftmaxRegression(2, 3)
        model.fit(X, y, lr=0.5, epochs=5)
        W, b = model.W.copy(), model.b.copy()
        with pytest.raises(FloatingPointError, match="diverged"):
            model.fit(X, y, lr=1e9, epochs=3)
        np.testing.assert_array_equal(model.W, W)
        np.testing.assert_array_equal(model.b, b)
