"""Activations: values, stability at extreme inputs, derivatives against finite differences."""

import warnings

import numpy as np
import pytest
from hypothesis import given

from coursekit import activations as act
from coursekit.gradcheck import check_gradient
from strategies import batch_shapes, logits, reals


class TestValues:
    def test_notes_example_under_each_activation(self):
        # weights (0.1, 0.2, 0.3) with input (1, 1): z = 0.1 + 0.2 + 0.3
        z = np.dot([0.1, 0.2, 0.3], [1.0, 1.0, 1.0])
        assert act.step(z) == 1.0
        assert act.relu(z) == pytest.approx(0.6)
        assert act.sigmoid(z) == pytest.approx(1 / (1 + np.exp(-0.6)))
        assert act.tanh(z) == pytest.approx(np.tanh(0.6))

    def test_step_is_zero_at_zero(self):
        np.testing.assert_array_equal(act.step([-1.0, 0.0, 1e-12]), [0.0, 0.0, 1.0])

    def test_relu(self):
        np.testing.assert_array_equal(act.relu([-2.0, 0.0, 3.0]), [0.0, 0.0, 3.0])

    def test_integer_and_list_inputs_become_float(self):
        assert act.sigmoid([0, 0]).dtype == np.float64
        np.testing.assert_allclose(act.softmax([0, 0]), [0.5, 0.5])

    def test_non_numeric_input_is_a_type_error(self):
        with pytest.raises(TypeError, match="numbers"):
            act.sigmoid(["a", "b"])

    def test_softmax_axis(self):
        z = np.array([[1.0, 2.0], [3.0, 5.0]])
        np.testing.assert_allclose(act.softmax(z, axis=0).sum(axis=0), [1.0, 1.0])
        np.testing.assert_allclose(act.softmax(z).sum(axis=1), [1.0, 1.0])


class TestStability:
    def test_sigmoid_extremes_are_exact_and_silent(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = act.sigmoid(np.array([-1e4, -800.0, 0.0, 800.0, 1e4]))
        assert out[0] == 0.0 and out[-1] == 1.0 and out[2] == 0.5

    def test_softmax_of_huge_logits(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            p = act.softmax(np.array([1000.0, 1000.0, -1000.0]))
            lp = act.log_softmax(np.array([1000.0, 0.0, -1000.0]))
        np.testing.assert_array_equal(p, [0.5, 0.5, 0.0])
        assert lp[0] == 0.0 and lp[2] == -2000.0 and np.isfinite(lp).all()

    @given(logits(bound=1000.0))
    def test_log_softmax_is_log_of_softmax_where_representable(self, z):
        p = act.softmax(z)
        lp = act.log_softmax(z)
        assert np.isfinite(lp).all()
        mask = p > 1e-300
        np.testing.assert_allclose(np.exp(lp[mask]), p[mask], rtol=1e-9, atol=1e-300)


class TestProperties:
    @given(logits())
    def test_softmax_rows_sum_to_one(self, z):
        p = act.softmax(z)
        assert (p >= 0).all()
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)

    @given(logits(), reals(100))
    def test_softmax_is_shift_invariant(self, z, c):
        np.testing.assert_allclose(act.softmax(z + c), act.softmax(z), atol=1e-12)

    @given(reals(700))
    def test_sigmoid_symmetry(self, z):
        assert act.sigmoid(-z) == pytest.approx(1 - act.sigmoid(z), abs=1e-15)

    @given(reals(30))
    def test_tanh_is_a_rescaled_sigmoid(self, z):
        assert act.tanh(z) == pytest.approx(2 * act.sigmoid(2 * z) - 1, abs=1e-12)


def _away_from_kink(z: np.ndarray) -> np.ndarray:
    return np.where(np.abs(z) < 1e-2, z + np.sign(z + 1e-300) * 0.1, z)


class TestDerivatives:
    @pytest.mark.parametrize(
        "f, df",
        [(act.sigmoid, act.sigmoid_grad), (act.tanh, act.tanh_grad), (act.relu, act.relu_grad)],
        ids=["sigmoid", "tanh", "relu"],
    )
    def test_elementwise_derivative_matches_finite_differences(self, f, df):
        z = _away_from_kink(np.random.default_rng(0).normal(scale=2.0, size=(4, 3)))
        # The sum of f over the entries has gradient f'(z) entrywise.
        result = check_gradient(lambda t: f(t).sum(), z, df(z))
        assert result.ok, str(result)

    def test_relu_grad_at_zero_is_zero(self):
        assert act.relu_grad(0.0) == 0.0

    def test_sigmoid_grad_peaks_at_a_quarter(self):
        z = np.linspace(-10, 10, 2001)
        assert act.sigmoid_grad(z).max() == pytest.approx(0.25)

    def test_softmax_jacobian_matches_finite_differences(self):
        z = np.random.default_rng(1).normal(size=4)
        J = act.softmax_jacobian(z)
        for i in range(4):
            result = check_gradient(lambda t: act.softmax(t)[i], z, J[i])
            assert result.ok, f"row {i}: {result}"

    @given(logits(batch_shapes((1, 4), (2, 5)), bound=20.0))
    def test_softmax_jacobian_structure(self, z):
        J = act.softmax_jacobian(z)
        s = act.softmax(z)
        assert J.shape == (z.shape[0], z.shape[1], z.shape[1])
        np.testing.assert_allclose(J.sum(axis=-1), 0.0, atol=1e-12)  # rows sum to zero
        np.testing.assert_allclose(J, np.swapaxes(J, -1, -2), atol=1e-15)  # symmetric
        np.testing.assert_allclose(np.diagonal(J, axis1=-2, axis2=-1), s * (1 - s), atol=1e-15)

    def test_softmax_jacobian_rejects_3d(self):
        with pytest.raises(ValueError, match=r"\(K,\) or \(n, K\)"):
            act.softmax_jacobian(np.zeros((2, 2, 2)))


class TestDtype:
    @pytest.mark.parametrize(
        "name",
        [
            "step",
            "sigmoid",
            "relu",
            "tanh",
            "softmax",
            "log_softmax",
            "sigmoid_grad",
            "relu_grad",
            "tanh_grad",
            "softmax_jacobian",
        ],  # fmt: skip
    )
    def test_float32_in_float32_out(self, name):
        z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(4, 3)
        assert getattr(act, name)(z).dtype == np.float32
