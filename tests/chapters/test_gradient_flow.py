"""Gradient norms layer by layer: the sigmoid bound, ReLU with He initialisation, scaling."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import data, losses
from coursekit.chapters.gradient_flow import (
    centred_orthogonal_network,
    deep_network,
    delta_growth,
    layer_delta_norms,
    layer_gradient_norms,
    linear_layers,
)
from coursekit.nn import Linear, mlp


def batch():
    return data.moons(n=100, noise=0.1, seed=0)


def test_deep_network_structure_and_scaled_weights():
    model = deep_network(5, "tanh", width=7, init_scale=0.5, rng=3)
    layers = linear_layers(model)
    assert [(l.in_features, l.out_features) for l in layers] == [(2, 7)] + [(7, 7)] * 4 + [(7, 1)]
    reference = linear_layers(mlp([2] + [7] * 5 + [1], "tanh", rng=3))
    for scaled, plain in zip(layers, reference):
        np.testing.assert_allclose(scaled.W, 0.5 * plain.W, rtol=1e-15)
        np.testing.assert_array_equal(scaled.b, 0.0)


def test_gradient_norms_are_the_norms_of_a_direct_backward_pass():
    X, y = batch()
    model = deep_network(4, "sigmoid", rng=0)
    before = [l.W.copy() for l in linear_layers(model)]
    norms = layer_gradient_norms(model, X, y)
    model.backward(losses.bce_with_logits_grad(model(X), y[:, None].astype(float)))
    expected = [np.sqrt(np.sum(l.dW**2)) for l in linear_layers(model)]
    np.testing.assert_allclose(norms, expected, rtol=1e-14)
    for W, layer in zip(before, linear_layers(model)):
        np.testing.assert_array_equal(W, layer.W)  # measuring does not train


def test_sigmoid_gradients_vanish_towards_the_input_and_relu_ones_do_not():
    X, y = batch()
    sig = layer_gradient_norms(deep_network(8, "sigmoid", rng=0), X, y)
    relu = layer_gradient_norms(deep_network(8, "relu", rng=0), X, y)
    assert sig[0] < 1e-3 * sig[-1]
    assert np.all(np.diff(sig) > 0)  # shrinks at every layer on the way back
    assert relu.max() / relu.min() < 10


def test_relu_gradients_grow_geometrically_with_the_init_scale():
    X, y = batch()
    small = layer_gradient_norms(deep_network(8, "relu", init_scale=0.5, rng=0), X, y)
    large = layer_gradient_norms(deep_network(8, "relu", init_scale=2.0, rng=0), X, y)
    he = layer_gradient_norms(deep_network(8, "relu", rng=0), X, y)
    # Eight weight matrices lie between the first layer and the output: about 0.5**8 and 2**8.
    assert small[0] < 0.5**8 * 3 * he[0]
    assert large[0] > 2.0**8 / 3 * he[0]


@settings(max_examples=25, deadline=None)
@given(depth=st.integers(2, 6), scale=st.floats(0.1, 8.0), seed=st.integers(0, 1000))
def test_each_sigmoid_layer_shrinks_delta_by_at_most_a_quarter_of_the_weight_norm(
    depth, scale, seed
):
    # delta_l = (delta_{l+1} W_{l+1}) * sigma'(Z_l) with 0 < sigma' <= 1/4, hence
    # ||delta_l||_F <= 1/4 ||W_{l+1}||_2 ||delta_{l+1}||_F.
    X, y = batch()
    model = deep_network(depth, "sigmoid", width=8, init_scale=scale, rng=seed)
    deltas = layer_delta_norms(model, X, y)
    layers = linear_layers(model)
    for l in range(len(layers) - 1):
        bound = 0.25 * np.linalg.norm(layers[l + 1].W, 2) * deltas[l + 1]
        assert deltas[l] <= bound * (1 + 1e-12)


def test_delta_norms_end_with_the_output_gradient():
    X, y = batch()
    model = deep_network(3, "relu", rng=1)
    deltas = layer_delta_norms(model, X, y)
    grad = losses.bce_with_logits_grad(model(X), y[:, None].astype(float))
    assert deltas[-1] == pytest.approx(np.linalg.norm(grad), rel=1e-14)
    assert len(deltas) == 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        deep_network(0)
    with pytest.raises(ValueError, match="init_scale"):
        deep_network(3, init_scale=0.0)
    with pytest.raises(ValueError, match="unknown activation"):
        deep_network(3, "softsign")


def test_fractional_labels_are_refused_not_truncated():
    # 0.5 used to be cast to class 0 silently; a label that is no class must be named
    X, y = batch()
    model = deep_network(2, "relu", rng=0)
    bad = y.astype(float)
    bad[0] = 0.5
    for measure in (layer_gradient_norms, layer_delta_norms):
        with pytest.raises(ValueError, match="integer class labels"):
            measure(model, X, bad)


def test_sigmoid_gradients_grow_with_large_orthogonal_weights_and_centred_pre_activations():
    # sigma' <= 1/4 is a bound, not a law: with ||W||_2 = 8 > 4 and pre-activations centred at 0
    # the delta arriving at the first layer is larger than the one leaving the output.
    X, y = batch()
    grown = layer_delta_norms(centred_orthogonal_network(8, 8.0, X, rng=0), X, y)
    shrunk = layer_delta_norms(centred_orthogonal_network(8, 2.0, X, rng=0), X, y)
    assert grown[0] > 10 * grown[-1]
    assert shrunk[0] < 0.01 * shrunk[-1]  # ||W||_2 < 4 in every layer: vanishing, as the bound says


def test_delta_growth_is_the_first_delta_norm_over_the_output_one_and_obeys_the_bound():
    X, y = batch()
    for gain in (2.0, 8.0):
        model = centred_orthogonal_network(8, gain, X, rng=1)
        norms = layer_delta_norms(model, X, y)
        ratio = delta_growth(model, X, y)
        assert ratio == pytest.approx(norms[0] / norms[-1], rel=1e-14)
        # eight sigmoid layers between delta_9 and delta_1, each at most gain * 1/4
        assert ratio < (gain / 4) ** 8


def test_delta_growth_refuses_a_zero_output_delta():
    X, y = batch()
    model = deep_network(2, "sigmoid", rng=0)
    linear_layers(model)[-1].W[...] = 0.0
    linear_layers(model)[-1].b[...] = 100.0  # sigmoid(100) is exactly 1.0 in float64
    with pytest.raises(ValueError, match="output delta is zero"):
        delta_growth(model, X, np.ones_like(y))


def test_centred_orthogonal_network_has_the_promised_norms_and_centred_pre_activations():
    X, _ = batch()
    model = centred_orthogonal_network(3, 6.0, X, width=5, input_gain=0.5, rng=1)
    layers = linear_layers(model)
    norms = [np.linalg.norm(layer.W, 2) for layer in layers]
    np.testing.assert_allclose(norms, [0.5, 6.0, 6.0, 6.0], rtol=1e-12)
    out = X
    for layer in model:
        out = layer(out)
        if isinstance(layer, Linear):
            np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)


def test_centred_orthogonal_network_rejects_bad_input():
    X, _ = batch()
    with pytest.raises(ValueError, match="gain must be a positive number"):
        centred_orthogonal_network(3, 0.0, X)
    with pytest.raises(ValueError, match="input_gain must be a positive number"):
        centred_orthogonal_network(3, 2.0, X, input_gain=-1.0)
    with pytest.raises(ValueError, match=r"shape \(n, in_features\)"):
        centred_orthogonal_network(3, 2.0, X[0])
