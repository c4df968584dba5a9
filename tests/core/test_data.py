"""Toy datasets: reproducible, well-formed, balanced and as (non-)separable as documented."""

import numpy as np
import pytest

from coursekit import data

GENERATORS = {
    "blobs": data.blobs,
    "xor": data.xor,
    "moons": data.moons,
    "spirals": data.spirals,
}


def least_squares_accuracy(X, y):
    """Training accuracy of the best linear classifier in the least-squares sense.

    Fits w, b to targets -1/+1 and predicts class 1 where w . x + b > 0.
    """
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, np.where(y == 1, 1.0, -1.0), rcond=None)
    return float(np.mean((A @ coef > 0) == (y == 1)))


def is_linearly_separable(X, y):
    """Exact test for two classes: the perceptron converges iff a separating line exists.

    Only used where the margin is large, so a few hundred epochs are far more than enough.
    """
    A = np.column_stack([X, np.ones(len(X))])
    t = np.where(y == 1, 1.0, -1.0)
    w = np.zeros(3)
    for _ in range(500):
        mistakes = 0
        for a, target in zip(A, t):
            if target * (a @ w) <= 0:
                w += target * a
                mistakes += 1
        if mistakes == 0:
            return True
    return False


class TestFormat:
    @pytest.mark.parametrize("name", GENERATORS)
    def test_shapes_dtypes_labels(self, name):
        X, y = GENERATORS[name](n=101, seed=0)
        assert X.shape == (101, 2) and X.dtype == np.float64
        assert y.shape == (101,) and y.dtype == np.int64
        k = 3 if name == "spirals" else 2
        assert set(np.unique(y)) == set(range(k))
        assert np.all(np.isfinite(X))

    @pytest.mark.parametrize("name", GENERATORS)
    def test_classes_are_balanced(self, name):
        X, y = GENERATORS[name](n=101, seed=0)
        counts = np.bincount(y)
        assert counts.max() - counts.min() <= 1 and counts.sum() == 101

    def test_xor_corners_are_balanced_too(self):
        X, y = data.xor(n=10, noise=0.0, seed=0)
        corners = {tuple(row) for row in X}
        assert corners == {(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)}
        for corner in corners:
            assert 2 <= np.sum(np.all(X == corner, axis=1)) <= 3

    @pytest.mark.parametrize("name", GENERATORS)
    def test_rows_are_shuffled(self, name):
        _, y = GENERATORS[name](n=200, seed=0)
        assert len(set(y[:50])) > 1  # not all of class 0 first

    def test_blobs_with_k_centres_and_explicit_centres(self):
        X, y = data.blobs(n=300, centers=4, seed=1)
        assert set(y) == {0, 1, 2, 3}
        means = np.array([[0.0, 5.0], [5.0, 0.0], [-5.0, -5.0]])
        X, y = data.blobs(n=300, centers=means, std=0.1, seed=1)
        for k in range(3):
            np.testing.assert_allclose(X[y == k].mean(axis=0), means[k], atol=0.05)

    def test_blobs_centres_lie_on_the_circle(self):
        X, y = data.blobs(n=4000, centers=3, std=0.2, radius=2.0, seed=0)
        for k in range(3):
            assert np.linalg.norm(X[y == k].mean(axis=0)) == pytest.approx(2.0, abs=0.02)

    def test_noise_free_moons_lie_on_their_arcs(self):
        X, y = data.moons(n=50, noise=0.0, seed=0)
        np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
        np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0)
        assert np.all(X[y == 0, 1] >= -1e-12) and np.all(X[y == 1, 1] <= 0.5 + 1e-12)

    def test_spirals_radii_and_arm_count(self):
        X, y = data.spirals(n=100, k=4, noise=0.0, seed=0)
        assert set(y) == {0, 1, 2, 3}
        r = np.linalg.norm(X, axis=1)
        assert r.max() == pytest.approx(1.0) and r.min() > 0


class TestDeterminism:
    @pytest.mark.parametrize("name", GENERATORS)
    def test_same_seed_same_data(self, name):
        X1, y1 = GENERATORS[name](seed=42)
        X2, y2 = GENERATORS[name](seed=42)
        np.testing.assert_array_equal(X1, X2)
        np.testing.assert_array_equal(y1, y2)

    @pytest.mark.parametrize("name", GENERATORS)
    def test_different_seeds_differ(self, name):
        X1, _ = GENERATORS[name](seed=1)
        X2, _ = GENERATORS[name](seed=2)
        assert not np.allclose(X1, X2)

    def test_a_generator_can_be_passed(self):
        gen = np.random.default_rng(0)
        X1, _ = data.moons(seed=gen)
        X2, _ = data.moons(seed=gen)
        assert not np.allclose(X1, X2)


class TestSeparability:
    @pytest.mark.parametrize("seed", range(5))
    def test_default_blobs_are_linearly_separable(self, seed):
        X, y = data.blobs(seed=seed)
        assert least_squares_accuracy(X, y) == 1.0
        assert is_linearly_separable(X, y)

    @pytest.mark.parametrize("seed", range(3))
    def test_xor_defeats_a_linear_classifier(self, seed):
        X, y = data.xor(seed=seed)
        assert least_squares_accuracy(X, y) < 0.8

    @pytest.mark.parametrize("seed", range(3))
    def test_moons_are_not_linearly_separable(self, seed):
        X, y = data.moons(seed=seed)
        assert least_squares_accuracy(X, y) < 0.92

    def test_noise_free_moons_are_not_separable_even_by_the_perceptron(self):
        X, y = data.moons(n=60, noise=0.0, seed=0)
        assert not is_linearly_separable(X, y)

    def test_spirals_defeat_a_linear_classifier_one_arm_against_the_rest(self):
        X, y = data.spirals(seed=0)
        for k in range(3):
            assert least_squares_accuracy(X, (y == k).astype(int)) < 0.8


class TestValidation:
    @pytest.mark.parametrize("name", GENERATORS)
    def test_n_must_be_positive(self, name):
        with pytest.raises(ValueError, match="n must be at least"):
            GENERATORS[name](n=0)

    @pytest.mark.parametrize("name", GENERATORS)
    def test_n_must_be_an_integer(self, name):
        with pytest.raises(TypeError, match="n must be an integer"):
            GENERATORS[name](n=10.5)

    def test_too_few_points_for_the_classes(self):
        with pytest.raises(ValueError, match="n must be at least 4"):
            data.xor(n=3)
        with pytest.raises(ValueError, match="n must be at least 5"):
            data.spirals(n=4, k=5)

    @pytest.mark.parametrize("name", ["xor", "moons", "spirals"])
    @pytest.mark.parametrize("noise", [-0.1, np.inf, np.nan])
    def test_noise(self, name, noise):
        with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
            GENERATORS[name](noise=noise)

    def test_spirals_need_two_arms(self):
        with pytest.raises(ValueError, match="k must be at least 2"):
            data.spirals(k=1)

    def test_blobs_arguments(self):
        with pytest.raises(ValueError, match="std must be a finite number > 0"):
            data.blobs(std=0)
        with pytest.raises(ValueError, match="centers must be at least 2"):
            data.blobs(centers=1)
        with pytest.raises(ValueError, match=r"shape \(K, 2\).*\(2, 3\)"):
            data.blobs(centers=np.zeros((2, 3)))

    def test_bad_seed(self):
        with pytest.raises(TypeError, match="seed"):
            data.moons(seed="0")


class TestHelpers:
    def test_to_pm1(self):
        out = data.to_pm1(np.array([0, 1, 1, 0]))
        np.testing.assert_array_equal(out, [-1, 1, 1, -1])
        assert out.dtype == np.int64

    def test_to_pm1_refuses_other_labels(self):
        with pytest.raises(ValueError, match="labels 0 and 1"):
            data.to_pm1([0, 1, 2])
        with pytest.raises(ValueError, match="labels 0 and 1"):
            data.to_pm1([-1, 1])  # already converted: converting twice would be a bug

    def test_train_test_split_partitions_the_rows(self):
        X, y = data.moons(n=100, seed=0)
        X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_fraction=0.2, seed=3)
        assert len(X_test) == 20 and len(X_train) == 80
        joined = np.vstack([X_train, X_test])
        order = np.lexsort(joined.T)
        np.testing.assert_array_equal(joined[order], X[np.lexsort(X.T)])
        # rows keep their labels
        lookup = {tuple(row): label for row, label in zip(X, y)}
        assert all(lookup[tuple(row)] == label for row, label in zip(X_test, y_test))
        again = data.train_test_split(X, y, test_fraction=0.2, seed=3)
        np.testing.assert_array_equal(again[1], X_test)

    def test_train_test_split_errors(self):
        X, y = data.xor(n=8, seed=0)
        with pytest.raises(ValueError, match=r"X.shape=\(8, 2\) and y.shape=\(7,\)"):
            data.train_test_split(X, y[:7])
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            data.train_test_split(X, y, test_fraction=1.0)
        with pytest.raises(ValueError, match="at least 2 rows"):
            data.train_test_split(X[:1], y[:1])
