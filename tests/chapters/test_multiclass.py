"""One-vs-all and one-vs-one: classifier counts, voting, ambiguity detection, training."""

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coursekit.chapters import logistic
from coursekit.data import blobs
from coursekit.chapters.multiclass import (
    NO_CLASS,
    SEVERAL_CLASSES,
    OneVsAll,
    OneVsOne,
    class_pairs,
    fit_logistic_regressions,
    num_classifiers,
    region_fractions,
    vote,
)


class TestCounting:
    def test_small_cases(self):
        assert num_classifiers(2, "ovo") == 1
        assert num_classifiers(3, "ovo") == 3
        assert num_classifiers(4, "ovo") == 6
        assert num_classifiers(10, "ovo") == 45
        assert num_classifiers(10, "ova") == 10

    @given(st.integers(2, 60))
    def test_ovo_count_is_the_number_of_unordered_pairs(self, k):
        assert num_classifiers(k, "ovo") == len(list(combinations(range(k), 2))) == k * (k - 1) // 2
        assert (
            num_classifiers(k, "ovo") != k * (k + 1) // 2
        )  # the count that includes "pairs" (i, i)

    def test_pairs_are_ordered_and_distinct(self):
        assert class_pairs(4) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="at least 2"):
            num_classifiers(1, "ova")
        with pytest.raises(ValueError, match="scheme must be one of"):
            num_classifiers(3, "one-vs-each")
        with pytest.raises(TypeError, match="integer"):
            num_classifiers(3.0, "ovo")


class TestVoting:
    def test_majority_and_cycle(self):
        pairs = class_pairs(3)  # (0, 1), (0, 2), (1, 2)
        winners = np.array([[0, 0, 1], [0, 2, 1], [1, 2, 2]])
        np.testing.assert_array_equal(vote(winners, pairs, 3), [[2, 1, 0], [1, 1, 1], [0, 1, 2]])

    @given(st.integers(2, 7), st.integers(0, 1000))
    def test_every_row_has_one_vote_per_classifier(self, k, seed):
        rng = np.random.default_rng(seed)
        pairs = class_pairs(k)
        winners = np.array([[pair[rng.integers(2)] for pair in pairs] for _ in range(5)])
        votes = vote(winners, pairs, k)
        np.testing.assert_array_equal(votes.sum(axis=1), len(pairs))
        assert votes.max() <= k - 1  # a class takes part in K - 1 duels

    def test_a_winner_outside_its_pair_is_an_error(self):
        with pytest.raises(ValueError, match="decides between classes 0 and 1, but a winner is 2"):
            vote([[2, 0, 1]], class_pairs(3), 3)

    def test_shape_mismatch(self):
        with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
            vote([[0, 1]], class_pairs(3), 3)


def hand_made_ova():
    """Three axis-aligned discriminants: g0 = x1, g1 = x2, g2 = -x1 - x2 - 1."""
    model = OneVsAll()
    model.thetas = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0]])
    model.num_classes = 3
    return model


class TestOneVsAllDecisions:
    def test_claims_none_and_several(self):
        model = hand_made_ova()
        X = np.array([[1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, 1.0], [-0.2, -0.2]])
        # g = (1, -1, -1), (-1, 1, -1), (-1, -1, 1), (1, 1, -3), (-0.2, -0.2, -0.6)
        assert model.decide(X).tolist() == [0, 1, 2, SEVERAL_CLASSES, NO_CLASS]
        assert model.predict(X).tolist() == [0, 1, 2, 0, 0]

    def test_threshold_moves_the_claims(self):
        model = hand_made_ova()
        x = np.array([[0.5, -2.0]])  # g = (0.5, -2, 0.5): classes 0 and 2 both claim
        assert model.decide(x, threshold=0.0).tolist() == [SEVERAL_CLASSES]
        assert model.decide(x, threshold=0.6).tolist() == [NO_CLASS]
        assert model.decide(x, threshold=-2.5).tolist() == [SEVERAL_CLASSES]

    def test_untrained_model(self):
        with pytest.raises(RuntimeError, match="not trained yet"):
            OneVsAll().scores(np.zeros((1, 2)))


@pytest.fixture(scope="module")
def data():
    return blobs(n=300, centers=3, std=0.8, seed=0)


class TestTraining:
    def test_ova_trains_one_classifier_per_class(self, data):
        X, y = data
        model = OneVsAll().fit(X, y)
        assert model.thetas.shape == (3, 3)
        # each classifier says "my class" on its own class's points and "not mine" on the rest
        claims = model.claims(X)
        for k in range(3):
            assert np.mean(claims[y == k, k]) > 0.95
            assert np.mean(~claims[y != k, k]) > 0.95
        assert np.mean(model.predict(X) == y) >= 0.98

    def test_ovo_trains_one_classifier_per_pair_on_its_two_classes(self, data):
        X, y = data
        model = OneVsOne().fit(X, y)
        assert model.thetas.shape == (3, 3) and model.pairs == [(0, 1), (0, 2), (1, 2)]
        winners = model.winners(X)
        for p, (i, j) in enumerate(model.pairs):
            assert np.mean(winners[y == i, p] == i) > 0.97
            assert np.mean(winners[y == j, p] == j) > 0.97
        assert np.mean(model.predict(X) == y) >= 0.98

    def test_ovo_tie_is_marked_and_predict_breaks_it_to_the_smaller_class(self):
        model = OneVsOne()
        model.pairs, model.num_classes = class_pairs(3), 3
        # (0 vs 1): x1 > 0 votes 0; (0 vs 2): x2 > 0 votes 0; (1 vs 2): x1 + x2 > 0 votes 1
        model.thetas = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
        # (1, 1): 0 wins both its duels. (1, -2): 0 beats 1, 2 beats 0, 2 beats 1.
        X = np.array([[1.0, 1.0], [1.0, -2.0]])
        np.testing.assert_array_equal(model.votes(X), [[2, 1, 0], [1, 0, 2]])
        assert model.decide(X).tolist() == [0, 2]
        cycle = np.array([[1.0, -0.5]])  # 0 beats 1, 2 beats 0, 1 beats 2
        np.testing.assert_array_equal(model.votes(cycle), [[1, 1, 1]])
        assert model.decide(cycle).tolist() == [SEVERAL_CLASSES]
        assert model.predict(cycle).tolist() == [0]

    def test_class_without_points(self):
        X = np.zeros((4, 2))
        with pytest.raises(ValueError, match="class 1 has none"):
            OneVsOne().fit(X, np.array([0, 0, 2, 2]))

    def test_fractional_labels_rejected(self):
        with pytest.raises(ValueError, match="integer class labels"):
            OneVsAll().fit(np.zeros((2, 2)), np.array([0.0, 0.5]))

    def test_whole_float_labels_read_as_classes_like_the_other_classifiers(self):
        X, y = blobs(n=60, centers=3, seed=0)
        as_float = OneVsOne().fit(X, y.astype(float))
        np.testing.assert_array_equal(as_float.thetas, OneVsOne().fit(X, y).thetas)

    def test_labels_out_of_range_or_negative(self):
        with pytest.raises(ValueError, match=r"labels must lie in 0..1 for 2 classes"):
            OneVsAll().fit(np.zeros((2, 2)), np.array([0, 2]), num_classes=2)
        with pytest.raises(ValueError, match="class indices"):
            OneVsAll().fit(np.zeros((2, 2)), np.array([-1, 1]))


class TestSideBySideTraining:
    """The classifiers are trained together, and each is the logistic regression of its problem."""

    @pytest.mark.parametrize("k", [2, 3, 5])
    def test_one_vs_all_equals_one_logistic_fit_per_class(self, k):
        X, y = blobs(n=40 * k, centers=k, std=0.9, seed=k)
        model = OneVsAll(lr=0.5, steps=300).fit(X, y)
        separate = [logistic.fit(X, (y == c).astype(float), 0.5, 300).theta for c in range(k)]
        np.testing.assert_allclose(model.thetas, separate, rtol=1e-12, atol=1e-13)

    @pytest.mark.parametrize("k", [2, 3, 5])
    def test_one_vs_one_equals_one_logistic_fit_per_pair_on_its_points(self, k):
        X, y = blobs(n=40 * k, centers=k, std=0.9, seed=k)
        model = OneVsOne(lr=0.3, steps=200).fit(X, y)
        separate = []
        for i, j in class_pairs(k):
            mine = (y == i) | (y == j)
            separate.append(logistic.fit(X[mine], (y[mine] == i).astype(float), 0.3, 200).theta)
        np.testing.assert_allclose(model.thetas, separate, rtol=1e-12, atol=1e-13)

    def test_a_diverging_classifier_stops_where_gradient_descent_stops(self):
        X, y = blobs(n=60, centers=2, std=0.8, seed=3)
        thetas = fit_logistic_regressions(
            X, (y == 0)[:, None], np.ones((60, 1), dtype=bool), lr=1e9, steps=50
        )
        reference = logistic.fit(X, (y == 0).astype(float), 1e9, 50)
        assert reference.diverged and len(reference.thetas) < 51
        np.testing.assert_allclose(thetas[0], reference.theta, rtol=1e-12)

    def test_bad_inputs(self):
        X = np.zeros((3, 2))
        everyone = np.ones((3, 1), dtype=bool)
        with pytest.raises(ValueError, match="targets must be 0 or 1"):
            fit_logistic_regressions(X, [[0.0], [0.5], [1.0]], everyone)
        with pytest.raises(ValueError, match="regression 1 has no training points"):
            fit_logistic_regressions(X, np.zeros((3, 2)), [[True, False]] * 3)
        with pytest.raises(ValueError, match=r"shape \(3, C\)"):
            fit_logistic_regressions(X, np.zeros((3, 1)), np.ones((3, 2), dtype=bool))
        with pytest.raises(ValueError, match="lr must be a positive finite number"):
            fit_logistic_regressions(X, np.zeros((3, 1)), everyone, lr=0.0)
        with pytest.raises(ValueError, match="steps must be a non-negative integer"):
            fit_logistic_regressions(X, np.zeros((3, 1)), everyone, steps=2.5)


class TestFractions:
    def test_fractions_count_the_markers(self):
        labels = np.array([[0, 1, NO_CLASS, SEVERAL_CLASSES], [SEVERAL_CLASSES, 2, 2, 2]])
        assert region_fractions(labels) == {"none": 1 / 8, "several": 2 / 8, "ambiguous": 3 / 8}

    def test_empty(self):
        with pytest.raises(ValueError, match="empty"):
            region_fractions([])
