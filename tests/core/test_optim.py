"""SGD: the update rule, momentum, where it reads gradients from, and refusals."""

import math

import numpy as np
import pytest

from coursekit import losses
from coursekit.nn import Linear, Parameter, ReLU, mlp
from coursekit.optim import SGD


def model_after_backward(seed=0):
    rng = np.random.default_rng(seed)
    model = mlp([3, 4, 2], "tanh", rng=seed)
    X = rng.normal(size=(5, 3))
    target = rng.normal(size=(5, 2))
    model.backward(losses.mse_grad(model(X), target))
    return model, X, target


class TestUpdateRule:
    def test_one_step_is_value_minus_lr_times_grad(self):
        model, _, _ = model_after_backward()
        before = {name: (p.value.copy(), p.grad.copy()) for name, p in model.named_parameters()}
        SGD(model.parameters(), lr=0.3).step()
        for name, p in model.named_parameters():
            value, grad = before[name]
            np.testing.assert_allclose(p.value, value - 0.3 * grad, rtol=0, atol=1e-15)

    def test_hand_computed_step(self):
        # y = w . x + b with w = (1, 2), b = 0.5 at x = (1, -1): y = -0.5; target 1.5.
        # L = 1/2 (y - t)^2, so dL/dy = -2, dL/dw = -2 x = (-2, 2), dL/db = -2.
        layer = Linear.from_weights([[1.0, 2.0]], [0.5])
        y = layer([[1.0, -1.0]])
        layer.backward(losses.mse_grad(y, [[1.5]]))
        SGD(layer.parameters(), lr=0.1).step()
        np.testing.assert_allclose(layer.W, [[1.2, 1.8]])
        np.testing.assert_allclose(layer.b, [0.7])

    def test_a_small_step_lowers_the_loss(self):
        model, X, target = model_after_backward(1)
        before = losses.mse(model(X), target)
        SGD(model.parameters(), lr=0.01).step()
        assert losses.mse(model(X), target) < before

    def test_model_is_updated_in_place(self):
        layer = Linear(2, 2, rng=0)
        W = layer.W
        layer(np.ones((1, 2)))
        layer.backward(np.ones((1, 2)))
        SGD(layer.parameters(), lr=0.1).step()
        assert layer.W is W

    def test_lr_can_be_changed_between_steps(self):
        layer = Linear.from_weights([[0.0]])
        opt = SGD(layer.parameters(), lr=1.0)
        layer([[1.0]])
        layer.backward([[1.0]])
        opt.step()
        opt.lr = 0.5
        opt.step()  # same gradient again
        np.testing.assert_allclose(layer.W, [[-1.5]])

    @pytest.mark.parametrize("momentum", [0.0, 0.9])
    def test_float32_parameters_stay_float32_arrays(self, momentum):
        model = mlp([2, 4, 3], "relu", rng=0, dtype=np.float32)
        X = np.random.default_rng(3).normal(size=(6, 2)).astype(np.float32)
        before = [p.value for p in model.parameters()]
        opt = SGD(model.parameters(), lr=0.1, momentum=momentum)
        for _ in range(2):
            model.backward(losses.cce_with_logits_grad(model(X), [0, 1, 2, 0, 1, 2]))
            opt.step()
        for p, array in zip(model.parameters(), before):
            assert p.value is array and p.value.dtype == np.float32, p.name


class TestMomentum:
    def test_two_steps_by_hand(self):
        # constant gradient g = 1: v1 = -lr, w1 = -lr; v2 = -mu lr - lr, w2 = -lr (2 + mu)
        layer = Linear.from_weights([[0.0]])
        layer([[1.0]])
        layer.backward([[1.0]])
        opt = SGD(layer.parameters(), lr=0.1, momentum=0.9)
        opt.step()
        np.testing.assert_allclose(layer.W, [[-0.1]])
        opt.step()
        np.testing.assert_allclose(layer.W, [[-0.1 * 2.9]])

    def test_zero_momentum_is_plain_sgd(self):
        a, _, _ = model_after_backward(2)
        b, _, _ = model_after_backward(2)
        SGD(a.parameters(), lr=0.2).step()
        SGD(b.parameters(), lr=0.2, momentum=0.0).step()
        for p, q in zip(a.parameters(), b.parameters()):
            np.testing.assert_array_equal(p.value, q.value)

    @pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, math.nan])
    def test_out_of_range(self, bad):
        with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\)"):
            SGD(Linear(1, 1).parameters(), lr=0.1, momentum=bad)


class TestWhereGradientsComeFrom:
    def test_each_step_reads_the_latest_gradients(self):
        layer = Linear.from_weights([[0.0, 0.0]])
        opt = SGD(layer.parameters(), lr=1.0)  # created before any backward
        layer([[1.0, 2.0]])
        layer.backward([[1.0]])
        opt.step()
        layer([[3.0, 5.0]])
        layer.backward([[1.0]])
        opt.step()
        np.testing.assert_allclose(layer.W, [[-4.0, -7.0]])

    def test_a_subset_of_the_parameters(self):
        layer = Linear.from_weights([[1.0, 1.0]], [0.0])
        layer([[1.0, 2.0]])
        layer.backward([[1.0]])
        SGD([layer.bias], lr=1.0).step()  # the weights stay as they are
        np.testing.assert_array_equal(layer.W, [[1.0, 1.0]])
        np.testing.assert_array_equal(layer.b, [-1.0])


class TestRefusals:
    @pytest.mark.parametrize("lr", [0, -0.1, math.inf, math.nan])
    def test_learning_rate_must_be_positive_and_finite(self, lr):
        with pytest.raises(ValueError, match="lr must be a finite number > 0"):
            SGD(Linear(1, 1).parameters(), lr=lr)

    @pytest.mark.parametrize("lr", ["0.1", None, True])
    def test_learning_rate_must_be_a_number(self, lr):
        with pytest.raises(TypeError, match="lr must be a number"):
            SGD(Linear(1, 1).parameters(), lr=lr)

    def test_a_bad_lr_set_later_is_refused_at_the_step(self):
        layer = Linear.from_weights([[2.0]])
        layer([[1.0]])
        layer.backward([[1.0]])
        opt = SGD(layer.parameters(), lr=0.1)
        opt.lr = -1.0
        with pytest.raises(ValueError, match="lr must be a finite number > 0, got -1.0"):
            opt.step()
        np.testing.assert_array_equal(layer.W, [[2.0]])

    def test_step_before_backward(self):
        model = mlp([2, 3, 1], rng=0)
        with pytest.raises(
            ValueError, match=r"parameter W has no gradient: call backward before step"
        ):
            SGD(model.parameters(), lr=0.1).step()

    def test_gradient_shape_mismatch_names_both_shapes(self):
        record = Parameter("w", np.zeros((2, 3)), np.ones((3, 2)))
        with pytest.raises(
            ValueError,
            match=r"gradient of w has shape \(3, 2\) but the parameter has shape \(2, 3\)",
        ):
            SGD([record], lr=0.1).step()

    def test_non_finite_gradient_is_refused_and_nothing_changes(self):
        good = Parameter("a", np.zeros(2), np.ones(2))
        bad = Parameter("b", np.zeros(2), np.array([1.0, np.nan]))
        with pytest.raises(ValueError, match="gradient of b contains NaN or inf"):
            SGD([good, bad], lr=0.1).step()
        np.testing.assert_array_equal(
            good.value, 0.0
        )  # checked everything before updating anything

    def test_module_without_parameters(self):
        with pytest.raises(ValueError, match="no parameters"):
            SGD(ReLU().parameters(), lr=0.1)
        with pytest.raises(ValueError, match="no parameters"):
            SGD([], lr=0.1)

    def test_wrong_kinds_of_argument(self):
        with pytest.raises(TypeError, match="an iterable of Parameters, got float"):
            SGD(3.0, lr=0.1)
        with pytest.raises(
            TypeError, match=r"Parameters \(from model.parameters\(\)\), got ndarray"
        ):
            SGD([np.zeros(2)], lr=0.1)
        with pytest.raises(
            TypeError, match=r"expects model.parameters\(\), got the model Linear\(1 -> 1\)"
        ):
            SGD(Linear(1, 1), lr=0.1)

    def test_repr(self):
        assert repr(SGD(Linear(1, 1).parameters(), lr=0.5)) == "SGD(lr=0.5)"
        assert (
            repr(SGD(Linear(1, 1).parameters(), lr=0.5, momentum=0.9))
            == "SGD(lr=0.5, momentum=0.9)"
        )
