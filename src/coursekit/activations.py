"""Activation functions and their derivatives.

Every function works elementwise on arrays of any shape (softmax and friends act along
``axis``, the class axis, last by default). Derivatives are taken with respect to the
*pre-activation* ``z``, which is what a backward pass multiplies by:
``dL/dz = dL/da * activation_grad(z)``.

Numerical stability matters here because students will feed in large logits:

* ``sigmoid`` never evaluates ``exp`` of a positive number, so ``sigmoid(-1e4)`` is exactly
  0.0 and ``sigmoid(1e4)`` exactly 1.0, with no overflow warning.
* ``softmax`` and ``log_softmax`` subtract the row maximum first; the result is unchanged
  because softmax is shift-invariant, and the largest exponent becomes ``exp(0) = 1``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from coursekit.validation import as_float_array


def step(z: ArrayLike) -> np.ndarray:
    r"""Heaviside step, the perceptron's activation.

    .. math:: \operatorname{step}(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}

    The value at exactly 0 is 0, matching the perceptron rule "fire when
    :math:`\theta^\top x > 0`".
    """
    z = as_float_array(z, "z")
    return (z > 0).astype(z.dtype)


def sigmoid(z: ArrayLike) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow.

    For :math:`z \ge 0` it uses :math:`1/(1+e^{-z})`; for :math:`z < 0` the equal form
    :math:`e^{z}/(1+e^{z})`. Either way the exponent is :math:`-|z| \le 0`.
    """
    z = as_float_array(z, "z")
    e = np.exp(-np.abs(z))  # in (0, 1]: cannot overflow
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def relu(z: ArrayLike) -> np.ndarray:
    r"""Rectified linear unit :math:`\max(0, z)`."""
    z = as_float_array(z, "z")
    return np.maximum(z, 0.0)


def tanh(z: ArrayLike) -> np.ndarray:
    r"""Hyperbolic tangent :math:`(e^{z} - e^{-z}) / (e^{z} + e^{-z}) = 2\sigma(2z) - 1`."""
    z = as_float_array(z, "z")
    return np.tanh(z)


def softmax(z: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Softmax along ``axis``: :math:`s_k = e^{z_k} / \sum_j e^{z_j}`.

    Computed as :math:`e^{z_k - m} / \sum_j e^{z_j - m}` with :math:`m = \max_j z_j`, which is
    the same number (the factor :math:`e^{-m}` cancels) but cannot overflow.
    """
    z = as_float_array(z, "z")
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Log of the softmax along ``axis``: :math:`z_k - \log \sum_j e^{z_j}`.

    Uses the log-sum-exp trick :math:`\log\sum_j e^{z_j} = m + \log\sum_j e^{z_j - m}`, so very
    negative log-probabilities stay finite instead of becoming ``log(0) = -inf``.
    """
    z = as_float_array(z, "z")
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def sigmoid_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of the sigmoid: :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`."""
    s = sigmoid(z)
    return s * (1.0 - s)


def relu_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of ReLU: 1 where :math:`z > 0`, else 0.

    ReLU has a kink at 0 where no derivative exists; like most libraries we use 0 there.
    """
    z = as_float_array(z, "z")
    return (z > 0).astype(z.dtype)


def tanh_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of tanh: :math:`1 - \tanh^2(z)`."""
    t = tanh(z)
    return 1.0 - t * t


def softmax_jacobian(z: ArrayLike) -> np.ndarray:
    r"""Jacobian of the softmax of the last axis.

    .. math:: J_{ij} = \frac{\partial s_i}{\partial z_j} = s_i(\mathbb{1}[i = j] - s_j),
       \qquad J = \operatorname{diag}(s) - s s^\top

    Note the index on the second factor: it is :math:`s_j`, not :math:`s_i`. The diagonal is
    :math:`s_i(1 - s_i)` and the off-diagonal entries :math:`-s_i s_j` are negative: raising one
    logit takes probability away from every other class. Every row and column sums to zero.

    Args:
        z: logits of shape ``(K,)`` or a batch of shape ``(n, K)``.

    Returns:
        ``(K, K)`` for a single vector, ``(n, K, K)`` for a batch.
    """
    z = as_float_array(z, "z")
    if z.ndim not in (1, 2):
        raise ValueError(f"softmax_jacobian expects z of shape (K,) or (n, K), got shape {z.shape}")
    s = softmax(z)
    diag = s[..., :, None] * np.eye(s.shape[-1], dtype=s.dtype)  # default float64 would upcast
    return diag - s[..., :, None] * s[..., None, :]
