"""Losses: conventions (mean vs sum, the 1/2), gradients against finite differences, stability."""

import warnings

import numpy as np
import pytest
from hypothesis import given

from coursekit import losses
from coursekit.activations import sigmoid, softmax
from coursekit.gradcheck import check_gradient
from strategies import batch_shapes, float_arrays

rng = np.random.default_rng(42)


class TestConventions:
    def test_mse_has_a_half_and_averages_over_samples(self):
        yhat = np.array([[1.0, 2.0], [3.0, 4.0]])
        y = np.array([[0.0, 0.0], [3.0, 2.0]])
        # per sample: 1/2 (1 + 4) = 2.5 and 1/2 (0 + 4) = 2; mean 2.25, sum 4.5
        assert losses.mse(yhat, y) == pytest.approx(2.25)
        assert losses.mse(yhat, y, reduction="sum") == pytest.approx(4.5)
        np.testing.assert_allclose(losses.mse_grad(yhat, y), (yhat - y) / 2)

    def test_single_sample_mse_is_the_worked_example_loss(self):
        assert losses.mse(0.47, 1.5) == pytest.approx(0.5 * 1.03**2)

    def test_bce_mean_and_sum(self):
        p = np.array([0.9, 0.2])
        y = np.array([1.0, 0.0])
        total = -(np.log(0.9) + np.log(0.8))
        assert losses.bce(p, y, reduction="sum") == pytest.approx(total)
        assert losses.bce(p, y) == pytest.approx(total / 2)

    def test_cce_counts_only_the_true_class(self):
        p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        assert losses.cce(p, [0, 2]) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)

    def test_labels_and_one_hot_agree(self):
        z = rng.normal(size=(5, 4))
        y = np.array([0, 3, 1, 1, 2])
        assert losses.cce_with_logits(z, y) == pytest.approx(
            losses.cce_with_logits(z, losses.one_hot(y, 4))
        )
        np.testing.assert_allclose(
            losses.cce_with_logits_grad(z, y), losses.cce_with_logits_grad(z, losses.one_hot(y, 4))
        )

    def test_logit_versions_equal_probability_versions(self):
        z = rng.normal(size=6)
        y = (rng.random(6) > 0.5).astype(float)
        assert losses.bce_with_logits(z, y) == pytest.approx(losses.bce(sigmoid(z), y))
        Z = rng.normal(size=(3, 5))
        labels = np.array([4, 0, 2])
        assert losses.cce_with_logits(Z, labels) == pytest.approx(losses.cce(softmax(Z), labels))

    def test_single_sample_accepts_a_vector_and_a_scalar_label(self):
        z = np.array([1.0, 2.0, 3.0])
        assert losses.cce_with_logits(z, 2) == pytest.approx(losses.cce_with_logits(z[None], [2]))
        assert losses.cce_with_logits_grad(z, 2).shape == (3,)


class TestGradients:
    @pytest.mark.parametrize("reduction", ["mean", "sum"])
    def test_every_gradient_matches_finite_differences(self, reduction):
        n, k = 6, 3
        yhat, y_reg = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
        z_bin, y_bin = rng.normal(size=n), (rng.random(n) > 0.5).astype(float)
        p_bin = sigmoid(z_bin)
        z_cat, y_cat = rng.normal(size=(n, k)), rng.integers(0, k, n)
        p_cat = softmax(z_cat)
        cases = {
            "mse": (losses.mse, losses.mse_grad, yhat, y_reg),
            "bce": (losses.bce, losses.bce_grad, p_bin, y_bin),
            "bce_with_logits": (losses.bce_with_logits, losses.bce_with_logits_grad, z_bin, y_bin),
            "cce": (losses.cce, losses.cce_grad, p_cat, y_cat),
            "cce_with_logits": (losses.cce_with_logits, losses.cce_with_logits_grad, z_cat, y_cat),
        }
        for name, (loss, grad, x, y) in cases.items():
            x = x.copy()
            result = check_gradient(
                lambda t: loss(t, y, reduction=reduction), x, grad(x, y, reduction=reduction)
            )
            assert result.ok, f"{name}: {result}"

    @given(float_arrays(batch_shapes(), 20.0))
    def test_softmax_cce_gradient_is_prediction_minus_target(self, z):
        y = np.arange(z.shape[0]) % z.shape[1]
        expected = (softmax(z) - losses.one_hot(y, z.shape[1])) / z.shape[0]
        np.testing.assert_allclose(losses.cce_with_logits_grad(z, y), expected, atol=1e-15)


class TestStability:
    def test_extreme_logits_give_finite_exact_losses_without_warnings(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert losses.bce_with_logits(np.array([1e4, -1e4]), [1.0, 0.0]) == 0.0
            assert losses.bce_with_logits(np.array([-1e4]), [1.0]) == pytest.approx(1e4)
            assert losses.cce_with_logits(np.array([[1000.0, -1000.0]]), [1]) == pytest.approx(
                2000.0
            )
            g = losses.cce_with_logits_grad(np.array([[1000.0, -1000.0]]), [1])
        np.testing.assert_array_equal(g, [[1.0, -1.0]])

    def test_saturated_probability_gives_a_large_finite_loss(self):
        assert np.isfinite(losses.bce(np.array([0.0]), [1.0]))
        assert losses.bce(np.array([0.0]), [1.0]) > 25


class TestBadInput:
    def test_shape_mismatch_names_both_shapes(self):
        with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
            losses.mse(np.zeros(3), np.zeros(4))

    def test_probabilities_out_of_range(self):
        with pytest.raises(ValueError, match="bce_with_logits"):
            losses.bce(np.array([1.5]), [1.0])

    def test_labels_out_of_range(self):
        with pytest.raises(ValueError, match=r"0\.\.2"):
            losses.cce_with_logits(np.zeros((2, 3)), [0, 3])

    def test_label_count_mismatch(self):
        with pytest.raises(ValueError, match=r"\(2,\)"):
            losses.cce_with_logits(np.zeros((2, 3)), [0, 1, 2])

    def test_unknown_reduction(self):
        with pytest.raises(ValueError, match="reduction"):
            losses.mse([1.0], [1.0], reduction="avg")

    def test_non_binary_targets(self):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            losses.bce_with_logits(np.zeros(2), [2.0, 0.0])


class TestDtype:
    """Each gradient has the dtype of the loss's first argument, whatever the targets are."""

    def cases(self, dtype):
        r = np.random.default_rng(7)
        z_bin = r.normal(size=6)
        z_cat = r.normal(size=(6, 3))
        labels = np.array([0, 2, 1, 1, 0, 2])
        return {  # float64 (or integer) targets next to predictions of the given dtype
            "mse": (losses.mse_grad, r.normal(size=(6, 2)), r.normal(size=(6, 2))),
            "bce": (losses.bce_grad, sigmoid(z_bin), (z_bin > 0).astype(np.float64)),
            "bce_with_logits": (losses.bce_with_logits_grad, z_bin, (z_bin > 0).astype(np.float64)),
            "cce labels": (losses.cce_grad, softmax(z_cat), labels),
            "cce one-hot": (losses.cce_grad, softmax(z_cat), losses.one_hot(labels, 3)),
            "cce_with_logits labels": (losses.cce_with_logits_grad, z_cat, labels),
            "cce_with_logits one-hot": (
                losses.cce_with_logits_grad,
                z_cat,
                losses.one_hot(labels, 3),
            ),
        }

    def test_float32_predictions_give_float32_gradients_close_to_float64_ones(self):
        for name, (grad, x, y) in self.cases(np.float32).items():
            g32 = grad(x.astype(np.float32), y)
            assert g32.dtype == np.float32, name
            np.testing.assert_allclose(g32, grad(x, y), rtol=1e-5, atol=1e-6, err_msg=name)

    def test_float64_predictions_with_float32_targets_stay_float64(self):
        for name, (grad, x, y) in self.cases(np.float64).items():
            y32 = y.astype(np.float32) if y.dtype.kind == "f" else y
            assert grad(x, y32).dtype == np.float64, name

    def test_one_hot_dtype(self):
        assert losses.one_hot([1, 0], 3).dtype == np.float64
        out = losses.one_hot([1, 0], 3, dtype=np.float32)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, [[0, 1, 0], [1, 0, 0]])
