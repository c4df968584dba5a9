r"""How the size of the gradient changes from layer to layer in a deep network.

Backpropagation through a stack of layers :math:`z_l = W_l h_{l-1} + b_l`, :math:`h_l = f(z_l)`
multiplies the upstream gradient by :math:`W_{l+1}^\top` and by :math:`f'(z_l)` at every layer:

.. math:: \delta_l = \big(W_{l+1}^\top \delta_{l+1}\big) \odot f'(z_l), \qquad
          \frac{\partial L}{\partial W_l} = \delta_l\, h_{l-1}^\top .

So :math:`\lVert \partial L/\partial W_l\rVert` contains a product of one factor per layer above
:math:`l`. For the sigmoid, :math:`f' = \sigma(1 - \sigma) \le 1/4`, and with weights of
moderate size each factor is well below 1: the gradient *vanishes* geometrically towards the
input. For ReLU, :math:`f' \in \{0, 1\}` and He initialisation (weight variance :math:`2/\text{fan-in}`,
the default of :class:`coursekit.nn.Linear`) keeps the factors near 1 on average. Scaling every
weight by ``init_scale`` multiplies each ReLU factor by ``init_scale``, so the deltas explode
(``> 1``) or vanish (``< 1``) geometrically with depth. ReLU is positively homogeneous, so the
forward activations scale as well and (with zero biases and a fixed output delta) every weight
gradient is multiplied by ``init_scale ** depth``. Sigmoid gradients keep shrinking towards the
input at any scale: larger weights saturate the units, which makes :math:`f'` smaller still.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from coursekit.nn import Linear, Sequential, mlp
from coursekit.chapters.training import LossName, check_labels, loss_and_grad


def deep_network(
    depth: int,
    activation: str = "sigmoid",
    width: int = 32,
    init_scale: float = 1.0,
    in_features: int = 2,
    out_features: int = 1,
    rng: int | np.random.Generator | None = 0,
) -> Sequential:
    """An MLP with ``depth`` hidden layers of ``width`` units and weights scaled by ``init_scale``.

    The weights start as in :class:`coursekit.nn.Linear` (He-uniform, variance
    :math:`2/\\text{fan-in}`) and are then multiplied by ``init_scale``, so their variance is
    :math:`2\\,\\text{init\\_scale}^2/\\text{fan-in}`. Biases start at 0.

    Args:
        depth: number of hidden layers (at least 1); the network has ``depth + 1`` Linear layers.
        activation: hidden activation, ``"sigmoid"``, ``"relu"``, ``"tanh"`` or ``"identity"``.
        width: units per hidden layer.
        init_scale: factor applied to every initial weight (> 0).
        in_features, out_features: input and output sizes.
        rng: seed or Generator for the initial weights.

    Raises:
        ValueError: for ``depth < 1``, a non-positive ``init_scale`` or an unknown activation.
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be a positive integer (number of hidden layers), got {depth!r}")
    if not (np.isfinite(init_scale) and init_scale > 0):
        raise ValueError(f"init_scale must be a positive number, got {init_scale}")
    model = mlp([in_features] + [width] * int(depth) + [out_features], activation, rng=rng)
    for layer in model:
        if isinstance(layer, Linear):
            layer.W *= init_scale
    return model


def linear_layers(model: Sequential) -> list[Linear]:
    """The Linear layers of ``model``, from input to output."""
    return [layer for layer in model if isinstance(layer, Linear)]


def _output_delta(model: Sequential, X: ArrayLike, y: ArrayLike, loss: LossName) -> np.ndarray:
    """Forward pass on ``X`` and the gradient of the mean loss with respect to the logits."""
    X = np.asarray(X, dtype=np.float64)
    _, grad = loss_and_grad(model(X), check_labels(y, X.shape[0]), loss)
    return grad


def layer_gradient_norms(model: Sequential, X: ArrayLike, y: ArrayLike, loss: LossName = "bce") -> np.ndarray:
    """Frobenius norm :math:`\\lVert \\partial L/\\partial W_l\\rVert` for each Linear layer, input first.

    Runs one forward and one backward pass of the mean loss on ``(X, y)`` (``y`` integer labels;
    see :func:`coursekit.chapters.training.loss_and_grad`); the model's parameters are not changed.

    Returns:
        Array of shape ``(number of Linear layers,)``.
    """
    model.backward(_output_delta(model, X, y, loss))
    return np.array([np.linalg.norm(layer.dW) for layer in linear_layers(model)])


def layer_delta_norms(model: Sequential, X: ArrayLike, y: ArrayLike, loss: LossName = "bce") -> np.ndarray:
    """Norm of :math:`\\delta_l = \\partial L/\\partial z_l` (the gradient arriving at each Linear output).

    Returns:
        Array of shape ``(number of Linear layers,)``, input side first.
    """
    grad = _output_delta(model, X, y, loss)
    norms = []
    for layer in reversed(list(model)):
        if isinstance(layer, Linear):
            norms.append(float(np.linalg.norm(grad)))
        grad = layer.backward(grad)
    return np.array(norms[::-1])
