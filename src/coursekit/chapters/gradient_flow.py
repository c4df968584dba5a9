r"""How the size of the gradient changes from layer to layer in a deep network.

Backpropagation through a stack of layers :math:`z_l = W_l h_{l-1} + b_l`, :math:`h_l = f(z_l)`
multiplies the upstream gradient by :math:`W_{l+1}^\top` and by :math:`f'(z_l)` at every layer:

.. math:: \delta_l = \big(W_{l+1}^\top \delta_{l+1}\big) \odot f'(z_l), \qquad
          \frac{\partial L}{\partial W_l} = \delta_l\, h_{l-1}^\top .

So :math:`\lVert \partial L/\partial W_l\rVert` contains a product of one factor per layer above
:math:`l`, each at most :math:`\max|f'| \cdot \lVert W_{l+1}\rVert_2`. For the sigmoid,
:math:`f' = \sigma(1 - \sigma) \le 1/4`, so :math:`\lVert W\rVert_2 < 4` in every layer is
*sufficient* for the gradient to vanish geometrically towards the input, and at the usual
initialisation scales that is what happens. The bound is not a law: with
:math:`\lVert W\rVert_2 > 4` and pre-activations held near 0 (where :math:`\sigma' = 1/4`) the
gradient grows from layer to layer (:func:`centred_orthogonal_network` builds such a network). Large
weights usually saturate the units instead, which makes :math:`f'` small and so keeps the sigmoid
gradient from exploding. For ReLU, :math:`f' \in \{0, 1\}` and He initialisation (weight variance
:math:`2/\text{fan-in}`, the default of :class:`coursekit.nn.Linear`) keeps the factors near 1 on
average. Scaling every weight by ``init_scale`` multiplies each ReLU factor by ``init_scale``, so
the deltas explode (``> 1``) or vanish (``< 1``) geometrically with depth. ReLU is positively
homogeneous, so the forward activations scale as well and (with zero biases and a fixed output
delta) every weight gradient is multiplied by ``init_scale ** depth``. For the sigmoid, scaling
He-initialised weights up does not make the gradient grow: the pre-activations spread out and more
units saturate.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from coursekit.chapters.training import LossName, check_labels, loss_and_grad
from coursekit.nn import Linear, Sequential, mlp
from coursekit.validation import is_integer


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
    if not is_integer(depth) or depth < 1:
        raise ValueError(
            f"depth must be a positive integer (number of hidden layers), got {depth!r}"
        )
    if not (np.isfinite(init_scale) and init_scale > 0):
        raise ValueError(f"init_scale must be a positive number, got {init_scale}")
    model = mlp([in_features] + [width] * int(depth) + [out_features], activation, rng=rng)
    for layer in model:
        if isinstance(layer, Linear):
            layer.W *= init_scale
    return model


def centred_orthogonal_network(
    depth: int,
    gain: float,
    X: ArrayLike,
    width: int = 32,
    activation: str = "sigmoid",
    input_gain: float = 1.0,
    rng: int | np.random.Generator | None = 0,
) -> Sequential:
    r"""A deep network: hidden layers of :math:`\lVert W\rVert_2 = ` ``gain``, centred inputs.

    The counterexample to "sigmoid gradients always vanish". Every weight matrix is a random
    orthogonal matrix (rows or columns orthonormal), times ``input_gain`` for the first layer and
    times ``gain`` for all later ones, so all singular values of a later layer equal ``gain``.
    Each bias is set to minus the batch mean of its layer's :math:`W h_{l-1}` on ``X``, so every
    pre-activation has mean 0 over the batch, where :math:`\sigma' = 1/4` is largest. A delta
    passing back through such a layer is multiplied by :math:`W^\top` (norm ``gain``) and by
    :math:`\sigma'(z) \le 1/4`: with ``gain > 4`` and the pre-activations near 0 it grows.

    Args:
        depth: number of hidden layers (at least 1).
        gain: spectral norm of every weight matrix after the first (> 0).
        input_gain: spectral norm of the first weight matrix (> 0); it only sets how spread out
            the first pre-activations are.
        X: the batch, shape ``(n, in_features)``, on which the biases centre the pre-activations.
        width: units per hidden layer.
        activation: hidden activation (as in :func:`deep_network`).
        rng: seed or Generator for all weights.

    Raises:
        ValueError: for a non-positive ``gain`` or ``X`` that is not a 2-D batch (and as
            :func:`deep_network`).
    """
    for name, value in (("gain", gain), ("input_gain", input_gain)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a batch of shape (n, in_features), got shape {X.shape}")
    generator = np.random.default_rng(rng)
    model = deep_network(depth, activation, width=width, in_features=X.shape[1], rng=generator)
    out = X
    for index, layer in enumerate(model):
        if isinstance(layer, Linear):
            # QR of a Gaussian matrix gives a random orthogonal Q; a corner block of it has
            # orthonormal rows (or columns), so every singular value of gain * block is gain.
            size = max(layer.W.shape)
            q, _ = np.linalg.qr(generator.normal(size=(size, size)))
            layer.W[...] = (input_gain if index == 0 else gain) * q[
                : layer.out_features, : layer.in_features
            ]
            layer.b[...] = -(out @ layer.W.T).mean(axis=0)
        out = layer(out)
    return model


def linear_layers(model: Sequential) -> list[Linear]:
    """The Linear layers of ``model``, from input to output."""
    return [layer for layer in model if isinstance(layer, Linear)]


def _output_delta(model: Sequential, X: ArrayLike, y: ArrayLike, loss: LossName) -> np.ndarray:
    """Forward pass on ``X`` and the gradient of the mean loss with respect to the logits."""
    X = np.asarray(X, dtype=np.float64)
    _, grad = loss_and_grad(model(X), check_labels(y, X.shape[0]), loss)
    return grad


def layer_gradient_norms(
    model: Sequential, X: ArrayLike, y: ArrayLike, loss: LossName = "bce"
) -> np.ndarray:
    """Frobenius norm :math:`\\lVert \\partial L/\\partial W_l\\rVert` per Linear layer, input 1st.

    Runs one forward and one backward pass of the mean loss on ``(X, y)`` (``y`` integer labels;
    see :func:`coursekit.chapters.training.loss_and_grad`); the model's parameters are not changed.

    Returns:
        Array of shape ``(number of Linear layers,)``.
    """
    model.backward(_output_delta(model, X, y, loss))
    return np.array([np.linalg.norm(layer.dW) for layer in linear_layers(model)])


def layer_delta_norms(
    model: Sequential, X: ArrayLike, y: ArrayLike, loss: LossName = "bce"
) -> np.ndarray:
    """Norm of :math:`\\delta_l = \\partial L/\\partial z_l`, the gradient at each Linear output.

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


def delta_growth(model: Sequential, X: ArrayLike, y: ArrayLike, loss: LossName = "bce") -> float:
    r"""How many times larger the delta reaching the first Linear layer is than the output delta.

    .. math:: \frac{\lVert \delta_1 \rVert_F}{\lVert \delta_{D+1} \rVert_F}, \qquad
              \delta_l = \frac{\partial L}{\partial Z_l},

    with :math:`Z_1` the output of the first Linear layer and :math:`Z_{D+1}` that of the last (the
    logits) in a network of :math:`D` hidden layers, both on the whole batch. Above 1 the gradient
    grows on its way to the input, below 1 it vanishes. Each hidden layer multiplies the delta by at
    most :math:`\max|f'| \cdot \lVert W_{l+1}\rVert_2`, so for sigmoid layers with
    :math:`\lVert W\rVert_2 = ` gain the ratio is at most :math:`(\text{gain}/4)^{D}`.

    Returns:
        The ratio, a positive float.
    """
    norms = layer_delta_norms(model, X, y, loss)
    if norms[-1] == 0:
        raise ValueError("the output delta is zero (the loss is at its minimum): no ratio exists")
    return float(norms[0] / norms[-1])
