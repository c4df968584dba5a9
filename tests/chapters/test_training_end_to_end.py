"""Layers, losses, SGD and data together: small networks actually learn the toy problems."""

import numpy as np

from coursekit import data, losses
from coursekit.nn import Linear, mlp
from coursekit.optim import SGD


def train_binary(model, X, y, lr, epochs, momentum=0.0):
    """Full-batch gradient descent on binary cross-entropy with logits; returns the loss history."""
    target = y[:, None].astype(np.float64)
    opt = SGD(model.parameters(), lr=lr, momentum=momentum)
    history = []
    for _ in range(epochs):
        z = model(X)
        history.append(losses.bce_with_logits(z, target))
        model.backward(losses.bce_with_logits_grad(z, target))
        opt.step()
    return history


def binary_accuracy(model, X, y):
    return float(np.mean((model(X)[:, 0] > 0) == (y == 1)))


def test_mlp_learns_moons_and_generalises():
    X, y = data.moons(n=300, noise=0.1, seed=0)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_fraction=0.3, seed=0)
    model = mlp([2, 16, 16, 1], "relu", rng=0)
    history = train_binary(model, X_train, y_train, lr=0.5, epochs=400)
    assert binary_accuracy(model, X_train, y_train) >= 0.95
    assert binary_accuracy(model, X_test, y_test) >= 0.9
    assert history[-1] < history[0] / 10


def test_minibatch_sgd_on_moons():
    X, y = data.moons(n=200, noise=0.1, seed=1)
    model = mlp([2, 16, 16, 1], "relu", rng=1)
    opt = SGD(model.parameters(), lr=0.2)
    rng = np.random.default_rng(1)
    for _ in range(60):
        order = rng.permutation(len(y))
        for start in range(0, len(y), 20):
            batch = order[start : start + 20]
            z = model(X[batch])
            model.backward(losses.bce_with_logits_grad(z, y[batch, None].astype(np.float64)))
            opt.step()
    assert binary_accuracy(model, X, y) >= 0.95


def test_three_spirals_with_softmax_cross_entropy_and_momentum():
    X, y = data.spirals(n=300, k=3, noise=0.2, seed=0)
    model = mlp([2, 32, 32, 3], "relu", rng=0)
    opt = SGD(model.parameters(), lr=0.5, momentum=0.9)
    for _ in range(500):
        z = model(X)
        model.backward(losses.cce_with_logits_grad(z, y))
        opt.step()
    assert np.mean(model(X).argmax(axis=1) == y) >= 0.95


def test_a_hidden_layer_is_what_solves_xor():
    X, y = data.xor(n=200, noise=0.25, seed=0)
    linear = Linear(2, 1, rng=0)
    train_binary(linear, X, y, lr=0.5, epochs=300)
    assert binary_accuracy(linear, X, y) < 0.8
    network = mlp([2, 8, 1], "tanh", rng=0)
    train_binary(network, X, y, lr=0.5, epochs=300)
    assert binary_accuracy(network, X, y) >= 0.95


def test_logistic_regression_separates_blobs():
    X, y = data.blobs(n=200, seed=0)
    model = Linear(2, 1, rng=0)
    train_binary(model, X, y, lr=0.1, epochs=50)
    assert binary_accuracy(model, X, y) == 1.0


def test_regression_with_mse_fits_a_sine():
    x = np.linspace(-3, 3, 64)[:, None]
    target = np.sin(x)
    model = mlp([1, 16, 1], "tanh", rng=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    start = losses.mse(model(x), target)
    for _ in range(1500):
        out = model(x)
        model.backward(losses.mse_grad(out, target))
        opt.step()
    assert losses.mse(model(x), target) < start / 100
    assert (
        np.abs(model(x) - target).max() < 0.15
    )  # the curve is visibly traced, end points included
