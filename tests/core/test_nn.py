"""Layers: forward values, backward passes vs finite differences, containers, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import losses
from coursekit.gradcheck import check_gradient
from coursekit.nn import Identity, Linear, Module, Parameter, ReLU, Sequential, Sigmoid, Tanh, mlp
from strategies import batch_shapes, float_arrays

# Finite-difference step. With 1e-6 the rounding error of the loss, about 1e-16 * |L| / eps, is
# already 1e-10 and fails the 1e-7 relative bar on gradient entries of order 1e-4; 1e-5 keeps both
# the rounding error and the O(eps^2) truncation error near 1e-11.
EPS = 1e-5


def away_from_zero(shape, rng, margin):
    """Random values with |z| >= margin, so finite differences never straddle ReLU's kink."""
    z = rng.normal(size=shape)
    return z + np.where(z >= 0, margin, -margin)


# --- Linear: forward -----------------------------------------------------------------------------


class TestLinearForward:
    def test_hand_computed_example(self):
        # z_j = w_j . x + b_j with W rows (1, -1), (0.5, 2), (0, 3) and b = (0.1, -0.2, 0.3)
        layer = Linear.from_weights([[1.0, -1.0], [0.5, 2.0], [0.0, 3.0]], [0.1, -0.2, 0.3])
        Y = layer([[1.0, 2.0], [-1.0, 0.0]])
        # row 1: 1 - 2 + 0.1 = -0.9; 0.5 + 4 - 0.2 = 4.3; 6 + 0.3 = 6.3
        # row 2: -1 + 0.1 = -0.9; -0.5 - 0.2 = -0.7; 0 + 0.3 = 0.3
        np.testing.assert_allclose(Y, [[-0.9, 4.3, 6.3], [-0.9, -0.7, 0.3]])

    def test_shapes_and_call_is_forward(self):
        layer = Linear(4, 3, rng=0)
        rng = np.random.default_rng(31)
        X = rng.normal(size=(7, 4))
        assert layer.W.shape == (3, 4) and layer.b.shape == (3,)
        assert layer(X).shape == (7, 3)
        np.testing.assert_array_equal(layer(X), layer.forward(X))
        np.testing.assert_allclose(layer(X), X @ layer.W.T + layer.b)

    def test_integer_and_list_inputs_are_accepted(self):
        layer = Linear.from_weights([[2.0, 3.0]])
        np.testing.assert_allclose(layer([[1, 1]]), [[5.0]])

    def test_float32_layers_stay_float32(self):
        layer = Linear(2, 3, rng=0, dtype=np.float32)
        assert layer.W.dtype == np.float32
        assert layer(np.ones((2, 2), dtype=np.float32)).dtype == np.float32


class TestInitialisation:
    def test_same_seed_same_weights_and_different_seeds_differ(self):
        np.testing.assert_array_equal(Linear(5, 4, rng=3).W, Linear(5, 4, rng=3).W)
        assert not np.allclose(Linear(5, 4, rng=3).W, Linear(5, 4, rng=4).W)

    def test_he_uniform_bound_and_variance(self):
        layer = Linear(50, 400, rng=0)
        bound = np.sqrt(6 / 50)
        assert np.abs(layer.W).max() <= bound
        assert np.abs(layer.W).max() > 0.95 * bound  # the whole range is used
        assert layer.W.var() == pytest.approx(2 / 50, rel=0.05)
        np.testing.assert_array_equal(layer.b, 0.0)

    def test_hidden_units_do_not_start_identical(self):
        W = Linear(3, 8, rng=1).W
        assert len({tuple(row) for row in W}) == 8

    def test_generator_is_accepted_and_advanced(self):
        gen = np.random.default_rng(0)
        assert not np.allclose(Linear(3, 3, rng=gen).W, Linear(3, 3, rng=gen).W)

    @pytest.mark.parametrize("bad", ["0", 1.5, True])
    def test_bad_rng_is_a_type_error(self, bad):
        with pytest.raises(TypeError, match="rng"):
            Linear(2, 2, rng=bad)

    @pytest.mark.parametrize("sizes", [(0, 3), (3, 0), (-1, 2), (2.0, 3), (True, 3)])
    def test_bad_sizes(self, sizes):
        with pytest.raises(ValueError, match="positive integer"):
            Linear(*sizes)

    def test_non_float_dtype_is_refused(self):
        with pytest.raises(TypeError, match="floating-point"):
            Linear(2, 2, dtype=np.int64)


class TestFromWeights:
    def test_weights_are_copied(self):
        W = np.array([[1.0, 2.0]])
        layer = Linear.from_weights(W, [0.5])
        layer.W[0, 0] = 100.0
        assert W[0, 0] == 1.0
        assert (layer.in_features, layer.out_features) == (2, 1)

    def test_bias_defaults_to_zero(self):
        np.testing.assert_array_equal(Linear.from_weights(np.eye(3)).b, np.zeros(3))

    def test_wrong_bias_shape_names_both_shapes(self):
        with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
            Linear.from_weights(np.ones((3, 2)), [1.0, 2.0])

    def test_weights_must_be_a_matrix(self):
        with pytest.raises(ValueError, match=r"\(out_features, in_features\).*\(3,\)"):
            Linear.from_weights([1.0, 2.0, 3.0])

    def test_non_numeric_weights(self):
        with pytest.raises(TypeError, match="numbers"):
            Linear.from_weights([["a", "b"]])


# --- gradients against finite differences ---------------------------------------------------------


def scalar_loss_of(module, X, target):
    """L = mse(module(X), target): a smooth scalar whose gradient wrt the output is mse_grad."""
    return lambda _: losses.mse(module.forward(X), target)


def run_backward(module, X, target):
    Y = module.forward(X)
    return module.backward(losses.mse_grad(Y, target))


class TestLinearBackward:
    def setup_method(self):
        self.layer = Linear(4, 3, rng=0)
        rng = np.random.default_rng(122)
        self.layer.b[:] = rng.normal(size=3)  # non-zero bias so db is tested at a generic point
        self.X = rng.normal(size=(5, 4))
        self.target = rng.normal(size=(5, 3))
        self.f = scalar_loss_of(self.layer, self.X, self.target)
        self.dX = run_backward(self.layer, self.X, self.target)

    def test_dX(self):
        result = check_gradient(self.f, self.X, self.dX, eps=EPS)
        assert result.ok, str(result)

    def test_dW(self):
        result = check_gradient(self.f, self.layer.W, self.layer.dW, eps=EPS)
        assert result.ok, str(result)

    def test_db(self):
        result = check_gradient(self.f, self.layer.b, self.layer.db, eps=EPS)
        assert result.ok, str(result)

    def test_gradient_shapes(self):
        assert self.dX.shape == (5, 4)
        assert self.layer.dW.shape == (3, 4) and self.layer.db.shape == (3,)

    def test_closed_forms(self):
        dY = losses.mse_grad(self.layer(self.X), self.target)
        np.testing.assert_allclose(self.dX, dY @ self.layer.W)
        np.testing.assert_allclose(self.layer.dW, dY.T @ self.X)
        np.testing.assert_allclose(self.layer.db, dY.sum(axis=0))


@settings(max_examples=30, deadline=None)
@given(
    X=float_arrays(batch_shapes(columns=(3, 3)), 5.0),
    seed=st.integers(0, 2**16),
)
def test_batch_gradient_is_the_sum_of_per_sample_outer_products(X, seed):
    layer = Linear(3, 2, rng=seed)
    dY = np.random.default_rng(seed).normal(size=(X.shape[0], 2))
    layer(X)
    layer.backward(dY)
    expected_dW = sum(np.outer(dY[i], X[i]) for i in range(X.shape[0]))
    np.testing.assert_allclose(layer.dW, expected_dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.db, dY.sum(axis=0), rtol=1e-12, atol=1e-12)


class TestActivationLayers:
    @pytest.mark.parametrize("layer_cls", [ReLU, Sigmoid, Tanh, Identity])
    def test_backward_matches_finite_differences(self, layer_cls):
        layer = layer_cls()
        Z = away_from_zero((6, 4), np.random.default_rng(7), margin=1e-3)
        rng = np.random.default_rng(171)
        target = rng.normal(size=(6, 4))
        dZ = run_backward(layer, Z, target)
        result = check_gradient(scalar_loss_of(layer, Z, target), Z, dZ, eps=EPS)
        assert result.ok, str(result)

    def test_forward_values(self):
        z = np.array([[-2.0, 0.0, 3.0]])
        np.testing.assert_array_equal(ReLU()(z), [[0.0, 0.0, 3.0]])
        np.testing.assert_allclose(Sigmoid()(z), 1 / (1 + np.exp(-z)))
        np.testing.assert_allclose(Tanh()(z), np.tanh(z))
        np.testing.assert_array_equal(Identity()(z), z)

    def test_relu_blocks_gradient_where_input_was_negative(self):
        layer = ReLU()
        layer([[-1.0, 2.0, -3.0, 4.0]])
        np.testing.assert_array_equal(
            layer.backward([[5.0, 6.0, 7.0, 8.0]]), [[0.0, 6.0, 0.0, 8.0]]
        )

    def test_sigmoid_gradient_is_at_most_a_quarter(self):
        layer = Sigmoid()
        layer(np.linspace(-10, 10, 101)[None, :])
        local = layer.backward(np.ones((1, 101)))
        assert local.max() == pytest.approx(0.25) and local.min() > 0

    def test_backward_uses_the_input_of_the_last_forward_even_if_caller_edits_it(self):
        Z = np.array([[1.0, -1.0]])
        layer = ReLU()
        layer(Z)
        Z[:] = [[-1.0, 1.0]]
        np.testing.assert_array_equal(layer.backward([[1.0, 1.0]]), [[1.0, 0.0]])

    def test_no_parameters(self):
        assert list(ReLU().parameters()) == []


class TestSequentialGradients:
    def test_every_parameter_and_input_gradient_of_a_deep_network(self):
        model = Sequential(
            Linear(3, 5, rng=0), Tanh(), Linear(5, 4, rng=1), Sigmoid(), Linear(4, 2, rng=2)
        )
        rng = np.random.default_rng(210)
        for p in model.parameters():
            if p.name.endswith("b"):
                p.value[:] = rng.normal(size=p.value.shape)
        X = rng.normal(size=(6, 3))
        target = rng.normal(size=(6, 2))
        dX = run_backward(model, X, target)
        f = scalar_loss_of(model, X, target)
        params = list(model.named_parameters())
        assert [name for name, _ in params] == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
        for name, p in params:
            result = check_gradient(f, p.value, p.grad, eps=EPS)
            assert result.ok, f"{name}: {result}"
        result = check_gradient(f, X, dX, eps=EPS)
        assert result.ok, f"dX: {result}"

    def test_relu_network_with_bce_with_logits(self):
        rng = np.random.default_rng(4)
        model = mlp([2, 6, 6, 1], "relu", rng=3)
        X = rng.normal(size=(8, 2))
        y = (rng.random((8, 1)) > 0.5).astype(float)
        # Precondition: no pre-activation within 1e-4 of ReLU's kink, so steps of 1e-6 in a weight
        # cannot move one across it and the finite differences see a smooth function.
        h1 = model[0](X)
        h2 = model[2](np.maximum(h1, 0))
        assert min(np.abs(h1).min(), np.abs(h2).min()) > 1e-4
        z = model(X)
        model.backward(losses.bce_with_logits_grad(z, y))
        f = lambda _: losses.bce_with_logits(model.forward(X), y)  # noqa: E731
        for name, p in model.named_parameters():
            result = check_gradient(f, p.value, p.grad, eps=EPS)
            assert result.ok, f"{name}: {result}"

    def test_gradients_are_overwritten_not_accumulated(self):
        model = mlp([2, 3, 1], "tanh", rng=0)
        rng = np.random.default_rng(242)
        X = rng.normal(size=(4, 2))
        model(X)
        model.backward(np.ones((4, 1)))
        first = [p.grad.copy() for p in model.parameters()]
        model(X)
        model.backward(np.ones((4, 1)))
        for before, p in zip(first, model.parameters()):
            np.testing.assert_array_equal(p.grad, before)

    def test_parameters_are_the_layers_own_and_see_later_gradients(self):
        layer = Linear(2, 1, rng=0)
        (weight, bias) = layer.parameters()  # taken before any backward
        assert weight is layer.weight and bias is layer.bias and weight.grad is None
        layer([[1.0, 2.0]])
        layer.backward([[1.0]])
        layer([[3.0, 4.0]])
        layer.backward([[1.0]])
        np.testing.assert_array_equal(weight.grad, [[3.0, 4.0]])
        assert layer.dW is weight.grad and layer.db is bias.grad


# --- Sequential as a container -------------------------------------------------------------------


class TestSequential:
    def setup_method(self):
        self.model = Sequential(Linear(2, 3, rng=0), ReLU(), Linear(3, 1, rng=1))

    def test_forward_is_the_composition(self):
        rng = np.random.default_rng(268)
        X = rng.normal(size=(4, 2))
        l1, _, l2 = self.model
        np.testing.assert_allclose(self.model(X), l2(np.maximum(l1(X), 0)))

    def test_len_index_iter(self):
        assert len(self.model) == 3
        assert isinstance(self.model[1], ReLU)
        assert [type(layer).__name__ for layer in self.model] == ["Linear", "ReLU", "Linear"]
        head = self.model[:2]
        assert isinstance(head, Sequential) and len(head) == 2 and head[0] is self.model[0]

    def test_repr_lists_the_layers(self):
        assert (
            repr(self.model)
            == "Sequential(\n  (0): Linear(2 -> 3)\n  (1): ReLU()\n  (2): Linear(3 -> 1)\n)"
        )

    def test_parameters_are_live_arrays(self):
        X = np.ones((1, 2))
        before = self.model(X)
        params = dict(self.model.named_parameters())
        assert set(params) == {"0.W", "0.b", "2.W", "2.b"}
        assert all(p.grad is None for p in params.values())
        assert isinstance(params["2.b"], Parameter)
        bias = params["2.b"].value
        bias += 1.0  # in place, as an optimiser does
        np.testing.assert_allclose(self.model(X), before + 1.0)

    def test_nested_sequential_parameter_names(self):
        model = Sequential(Sequential(Linear(2, 2, rng=0), Tanh()), Linear(2, 1, rng=0))
        assert [name for name, _ in model.named_parameters()] == ["0.0.W", "0.0.b", "1.W", "1.b"]
        assert [p.name for p in model.parameters()] == ["W", "b", "W", "b"]  # names in the layer
        assert "    (0): Linear(2 -> 2)" in repr(model)

    def test_backward_returns_input_gradient(self):
        rng = np.random.default_rng(298)
        X = rng.normal(size=(5, 2))
        assert self.model.backward(np.ones_like(self.model(X))).shape == (5, 2)

    def test_mismatched_linear_sizes_are_caught_when_building(self):
        with pytest.raises(
            ValueError, match=r"Linear\(2 -> 16\) outputs 16 .* Linear\(8 -> 1\) expects 8"
        ):
            Sequential(Linear(2, 16), ReLU(), Linear(8, 1))

    def test_non_module_layers(self):
        with pytest.raises(TypeError, match="instantiated"):
            Sequential(Linear(2, 2), ReLU)
        with pytest.raises(TypeError, match="Module"):
            Sequential(np.tanh)

    def test_empty(self):
        with pytest.raises(ValueError, match="at least one layer"):
            Sequential()

    def test_base_module_must_be_subclassed(self):
        with pytest.raises(NotImplementedError):
            Module()(np.ones((1, 1)))


class TestMlp:
    def test_structure(self):
        model = mlp([2, 16, 16, 1], activation="relu", rng=0)
        assert [repr(layer) for layer in model] == [
            "Linear(2 -> 16)",
            "ReLU()",
            "Linear(16 -> 16)",
            "ReLU()",
            "Linear(16 -> 1)",
        ]

    def test_output_activation_and_tanh(self):
        model = mlp([3, 4, 2], activation="tanh", output_activation="sigmoid", rng=0)
        assert [type(layer).__name__ for layer in model] == ["Linear", "Tanh", "Linear", "Sigmoid"]
        rng = np.random.default_rng(330)
        out = model(rng.normal(size=(5, 3)))
        assert np.all((out > 0) & (out < 1))

    def test_seeded_and_layers_differ(self):
        a, b = mlp([4, 4, 4], rng=5), mlp([4, 4, 4], rng=5)
        for p, q in zip(a.parameters(), b.parameters()):
            np.testing.assert_array_equal(p.value, q.value)
        assert not np.allclose(a[0].W, a[2].W)

    def test_errors(self):
        with pytest.raises(ValueError, match="at least an input and an output"):
            mlp([3])
        with pytest.raises(ValueError, match="unknown activation 'relu6'"):
            mlp([2, 2], activation="relu6")
        with pytest.raises(ValueError, match="positive integer"):
            mlp([2, 0, 1])


# --- errors with shapes in the message -----------------------------------------------------------


class TestErrors:
    def test_wrong_feature_count_names_both_shapes(self):
        with pytest.raises(ValueError) as info:
            Linear(2, 3)(np.ones((5, 3)))
        assert str(info.value) == "Linear(2 -> 3).forward expected X of shape (n, 2), got (5, 3)"

    def test_single_sample_vector_gets_a_hint(self):
        with pytest.raises(ValueError, match=r"\(n, 2\), got \(2,\).*x\[None, :\]"):
            Linear(2, 3)(np.ones(2))

    def test_three_dimensional_input(self):
        with pytest.raises(ValueError, match=r"\(n, 2\), got \(4, 1, 2\)"):
            Linear(2, 3)(np.ones((4, 1, 2)))

    def test_backward_before_forward(self):
        for layer in (Linear(2, 3), ReLU(), Sigmoid(), Tanh(), Identity()):
            with pytest.raises(ValueError, match="backward called before forward"):
                layer.backward(np.ones((1, 3)))
        with pytest.raises(ValueError, match="backward called before forward"):
            mlp([2, 3, 1], rng=0).backward(np.ones((1, 1)))

    def test_linear_dY_shape_names_expected_and_actual(self):
        layer = Linear(2, 3)
        layer(np.ones((5, 2)))
        with pytest.raises(ValueError, match=r"\(n, out\) = \(5, 3\).*got \(5, 2\)"):
            layer.backward(np.ones((5, 2)))
        with pytest.raises(ValueError, match=r"\(5, 3\).*got \(4, 3\)"):
            layer.backward(np.ones((4, 3)))

    def test_activation_dY_shape(self):
        layer = Tanh()
        layer(np.ones((2, 3)))
        with pytest.raises(
            ValueError, match=r"Tanh\(\)\.backward expected dY of shape \(2, 3\).*got \(3, 2\)"
        ):
            layer.backward(np.ones((3, 2)))

    def test_sequential_reports_the_layer_that_failed(self):
        model = mlp([2, 4, 1], rng=0)
        model(np.ones((3, 2)))
        with pytest.raises(
            ValueError,
            match=r"Linear\(4 -> 1\)\.backward expected dY of shape \(n, out\) = \(3, 1\)",
        ):
            model.backward(np.ones((3, 4)))

    @pytest.mark.parametrize("bad", [[["a", "b"]], [[None, 1.0]], np.array([[1 + 2j, 0]])])
    def test_non_numeric_input_is_a_type_error(self, bad):
        with pytest.raises(TypeError, match="Linear"):
            Linear(2, 1)(bad)
        with pytest.raises(TypeError):
            ReLU()(bad)

    def test_non_numeric_dY_is_a_type_error(self):
        layer = Linear(2, 1)
        layer(np.ones((1, 2)))
        with pytest.raises(TypeError, match="dY"):
            layer.backward([["x"]])

    def test_messages_name_the_layer_and_the_method(self):
        layer = Linear(2, 1)
        with pytest.raises(TypeError, match=r"^Linear\(2 -> 1\)\.forward: X must"):
            layer([["a", "b"]])
        layer(np.ones((1, 2)))
        with pytest.raises(TypeError, match=r"^Linear\(2 -> 1\)\.backward: dY must"):
            layer.backward([["x"]])
        with pytest.raises(TypeError, match=r"^ReLU\(\)\.forward: X must be real numbers"):
            ReLU()(np.array([1j]))
        with pytest.raises(TypeError, match=r"^Linear\.from_weights: W must"):
            Linear.from_weights([["a"]])


# --- dtype ----------------------------------------------------------------------------------------

LAYER_FACTORIES = {
    "Linear": lambda: Linear(3, 3, rng=0, dtype=np.float32),
    "ReLU": ReLU,
    "Sigmoid": Sigmoid,
    "Tanh": Tanh,
    "Identity": Identity,
}


class TestDtype:
    """A float32 model computes in float32 throughout; a float64 one stays exact float64."""

    def test_float32_model_keeps_float32_activations_and_gradients(self):
        model = mlp([2, 5, 5, 3], "relu", rng=0, dtype=np.float32)
        X = np.random.default_rng(1).normal(size=(8, 2)).astype(np.float32)
        y = np.arange(8) % 3
        out = X
        for layer in model:
            out = layer(out)
            assert out.dtype == np.float32, f"output of {layer!r}"
        grad = losses.cce_with_logits_grad(out, y)  # integer labels
        assert grad.dtype == np.float32
        for layer in reversed(model.layers):
            grad = layer.backward(grad)
            assert grad.dtype == np.float32, f"dX of {layer!r}"
        for p in model.parameters():
            assert (p.value.dtype, p.grad.dtype) == (np.float32, np.float32), p.name

    @pytest.mark.parametrize("make", LAYER_FACTORIES.values(), ids=LAYER_FACTORIES.keys())
    def test_a_float64_gradient_is_converted_to_the_layers_dtype(self, make):
        layer = make()
        layer(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
        dX = layer.backward(np.full((2, 3), 0.25))  # float64, as a loss of float64 targets gives
        assert dX.dtype == np.float32
        for p in layer.parameters():
            assert p.grad.dtype == np.float32, p.name

    def test_float64_model_computes_float32_data_in_float64(self):
        model = mlp([2, 4, 1], "tanh", rng=0)
        X32 = np.array([[0.1, -0.7], [1.3, 0.2]], dtype=np.float32)
        out = model(X32)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, model(X32.astype(np.float64)))
        assert model.backward(np.ones((2, 1), dtype=np.float32)).dtype == np.float64

    def test_float32_gradients_agree_with_float64_ones(self):
        rng = np.random.default_rng(5)
        X = rng.normal(size=(16, 2))
        y = rng.integers(0, 3, size=16)
        grads = {}
        for dtype in (np.float64, np.float32):
            model = mlp([2, 8, 8, 3], "relu", rng=3, dtype=dtype)
            z = model(X.astype(dtype))
            model.backward(losses.cce_with_logits_grad(z, y))
            grads[dtype] = {name: p.grad for name, p in model.named_parameters()}
        for name, g64 in grads[np.float64].items():
            g32 = grads[np.float32][name]
            np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6, err_msg=name)
