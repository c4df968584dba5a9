"""Two independent backward passes must agree: the scalar engine and the vectorised layers.

coursekit.engine differentiates one multiply and one add at a time; coursekit.nn uses the matrix
formulas dX = dY W, dW = dY^T X, db = sum of dY rows. Building the same network both ways and
comparing every gradient tests the matrix formulas (transposes, batch sums, the 1/n of the loss)
against nothing but the chain rule.
"""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coursekit import losses
from coursekit.engine import Value
from coursekit.nn import ACTIVATIONS, Linear, Sequential
from strategies import float_arrays

BOUND = 2.0  # weights, biases, inputs and targets lie in [-2, 2]: no overflow, no saturation to 0/1
KINK_MARGIN = (
    1e-6  # ReLU pre-activations closer to 0 than this could fall on either side by rounding
)


def assert_close(engine, layers, what):
    """Agree to 1e-10 relative; entries that cancel to ~0 are held to 1e-13 of the array's scale."""
    engine, layers = np.asarray(engine, dtype=np.float64), np.asarray(layers, dtype=np.float64)
    assert engine.shape == layers.shape, what
    scale = max(1.0, float(np.abs(engine).max(initial=0.0)), float(np.abs(layers).max(initial=0.0)))
    np.testing.assert_allclose(layers, engine, rtol=1e-10, atol=1e-13 * scale, err_msg=what)


@st.composite
def networks(draw, activations=("tanh", "sigmoid", "relu"), min_hidden=0):
    """Random widths 1..4 (input, up to two hidden layers, output), batch 1..3, bounded numbers."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2 + min_hidden, max_size=4))
    n = draw(st.integers(1, 3))
    activation = draw(st.sampled_from(activations))
    params = [
        (draw(float_arrays((fan_out, fan_in), BOUND)), draw(float_arrays((fan_out,), BOUND)))
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
    ]
    X = draw(float_arrays((n, sizes[0]), BOUND))
    T = draw(float_arrays((n, sizes[-1]), BOUND))
    return params, activation, X, T


def build_layers(params, activation):
    layers = []
    for i, (W, b) in enumerate(params):
        layers.append(Linear.from_weights(W, b))
        if i < len(params) - 1:  # no activation after the output layer
            layers.append(ACTIVATIONS[activation]())
    return Sequential(*layers)


def engine_forward(params, activation, X):
    """The same network from scalars: z_j = b_j + sum_k W_jk h_k, one Value operation at a time.

    Returns the Value leaves (weights, biases, inputs), the output Values and every
    pre-activation of a hidden layer.
    """
    Wv = [[[Value(w) for w in row] for row in W] for W, _ in params]
    bv = [[Value(c) for c in b] for _, b in params]
    Xv = [[Value(x) for x in row] for row in X]
    pre_activations = []
    outputs = []
    for sample in Xv:
        h = sample
        for layer, (W_rows, biases) in enumerate(zip(Wv, bv)):
            z = []
            for row, bias in zip(W_rows, biases):
                total = bias
                for w, x in zip(row, h):
                    total = total + w * x
                z.append(total)
            if layer < len(params) - 1:
                pre_activations.extend(v.data for v in z)
                h = [getattr(v, activation)() for v in z]
            else:
                h = z
        outputs.append(h)
    return Wv, bv, Xv, outputs, pre_activations


def grads(values):
    return np.array([[v.grad for v in row] for row in values])


def near_a_kink(params, activation, X):
    """True if a ReLU pre-activation is so close to 0 that rounding could flip its side."""
    pre = engine_forward(params, activation, X)[4]
    return activation == "relu" and any(abs(z) <= KINK_MARGIN for z in pre)


def compare(params, activation, X, T, engine_loss, layer_loss, layer_loss_grad):
    """Assert that outputs, loss and every gradient agree between the engine and the layers."""
    Wv, bv, Xv, outputs, _ = engine_forward(params, activation, X)
    loss = engine_loss(outputs, T)
    loss.backward()

    model = build_layers(params, activation)
    Y = model(X)
    dX = model.backward(layer_loss_grad(Y, T))

    assert_close([[v.data for v in row] for row in outputs], Y, "network output")
    assert_close(loss.data, layer_loss(Y, T), "loss")
    assert_close(grads(Xv), dX, "dL/dX")
    linears = [layer for layer in model if isinstance(layer, Linear)]
    for i, layer in enumerate(linears):
        assert_close(grads(Wv[i]), layer.dW, f"dL/dW of Linear layer {i}")
        assert_close(np.array([v.grad for v in bv[i]]), layer.db, f"dL/db of Linear layer {i}")


def engine_mse(outputs, T):
    """(1/n) sum_i 1/2 ||y_i - t_i||^2, the convention of coursekit.losses.mse."""
    total = Value(0.0)
    for row, targets in zip(outputs, T):
        for y, t in zip(row, targets):
            total = total + 0.5 * (y - float(t)) ** 2
    return total / len(outputs)


def engine_bce_with_logits(outputs, T):
    """-(1/n) sum_i [y_i log sigma(z_i) + (1 - y_i) log(1 - sigma(z_i))] for one output unit."""
    total = Value(0.0)
    for (z,), (y,) in zip(outputs, T):
        p = z.sigmoid()
        total = total - (float(y) * p.log() + (1.0 - float(y)) * (1.0 - p).log())
    return total / len(outputs)


@settings(max_examples=60, deadline=None)
@given(networks())
def test_mse_network_gradients_agree(net):
    params, activation, X, T = net
    assume(not near_a_kink(params, activation, X))
    compare(params, activation, X, T, engine_mse, losses.mse, losses.mse_grad)


@settings(max_examples=40, deadline=None)
@given(networks(activations=("tanh", "sigmoid"), min_hidden=1), st.data())
def test_binary_cross_entropy_network_gradients_agree(net, data):
    params, activation, X, _ = net
    # One output unit and 0/1 labels. Behind a tanh or sigmoid hidden layer the logit is at most
    # 4 * 2 * 1 + 2 = 10 in size, so the engine's 1 - sigma(z) keeps about 12 correct digits and
    # its log(1 - sigma(z)) never meets log(0).
    W_last, b_last = params[-1]
    params = params[:-1] + [(W_last[:1], b_last[:1])]
    y = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(X), max_size=len(X)))
    )[:, None]
    compare(
        params,
        activation,
        X,
        y,
        engine_bce_with_logits,
        losses.bce_with_logits,
        losses.bce_with_logits_grad,
    )


def test_a_fixed_two_three_one_relu_network():
    # A readable instance of the property: x = (1, 2), target 1.5, mixed-sign weights so one
    # hidden unit is off (its pre-activation is -1.5) and passes no gradient back.
    W1 = np.array([[0.5, -0.25], [-1.0, -0.25], [0.75, 0.5]])
    b1 = np.array([0.1, 0.0, -0.2])
    W2 = np.array([[1.0, 2.0, -0.5]])
    b2 = np.array([0.3])
    params = [(W1, b1), (W2, b2)]
    X, T = np.array([[1.0, 2.0]]), np.array([[1.5]])
    _, _, _, _, pre = engine_forward(params, "relu", X)
    np.testing.assert_allclose(pre, [0.1, -1.5, 1.55])
    assert not near_a_kink(params, "relu", X)
    compare(params, "relu", X, T, engine_mse, losses.mse, losses.mse_grad)
    model = build_layers(params, "relu")
    model.backward(losses.mse_grad(model(X), T))
    np.testing.assert_array_equal(model[0].dW[1], [0.0, 0.0])  # the off unit learns nothing
