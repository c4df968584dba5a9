r"""Linear discriminants: the bias trick, classification by sign, and the geometry of the boundary.

A linear discriminant in :math:`d` dimensions is

.. math:: g(x) = \theta_0 + \theta_1 x_1 + \dots + \theta_d x_d = \theta_0 + w^\top x,
   \qquad w = \theta_{1:d}.

Every function here takes the full parameter vector ``theta = [theta_0, theta_1, ..., theta_d]``
(bias first), the layout the *bias trick* produces: with :math:`\tilde x = [1, x_1, \dots, x_d]`,
:math:`g(x) = \theta^\top \tilde x`.

Geometry (derived in the chapter on linear discriminants):

* the decision boundary is the hyperplane :math:`g(x) = 0`;
* :math:`w` is normal to it (for two boundary points :math:`a, b`:
  :math:`w^\top (a - b) = g(a) - g(b) = 0`) and points into the region :math:`g > 0`;
* the signed distance of a point from the boundary is :math:`g(x) / \lVert w \rVert`;
* the point of the boundary closest to the origin (the foot of the perpendicular) is
  :math:`x^\star = -\theta_0\, w / \lVert w \rVert^2`, at distance
  :math:`\lvert\theta_0\rvert / \lVert w \rVert` from the origin. That distance equals
  :math:`\lvert\theta_0\rvert` only when :math:`\lVert w \rVert = 1`.

Points with :math:`g(x) > 0` are classified as class 1 and all others (including points exactly
on the boundary) as class 0, matching :func:`coursekit.activations.step`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from coursekit.validation import as_float_array
from coursekit.activations import step


def add_bias(X: ArrayLike) -> np.ndarray:
    r"""The bias trick: prepend a 1 to every input, :math:`\tilde x = [1, x_1, \dots, x_d]`.

    Then :math:`\theta^\top \tilde x = \theta_0 + \theta_1 x_1 + \dots + \theta_d x_d`, so the
    bias is just one more weight.

    Args:
        X: one input of shape ``(d,)`` or a batch of shape ``(n, d)`` (one input per row).

    Returns:
        Shape ``(d + 1,)`` or ``(n, d + 1)`` with ones in the first column.
    """
    X = as_float_array(X, "X")
    if X.ndim == 1:
        return np.concatenate([[1.0], X])
    if X.ndim != 2:
        raise ValueError(f"X must have shape (d,) or (n, d), got shape {X.shape}")
    return np.column_stack([np.ones(X.shape[0]), X])


def _theta_and_inputs(theta: ArrayLike, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    theta = as_float_array(theta, "theta")
    if theta.ndim != 1 or theta.size < 2:
        raise ValueError(
            "theta must be a vector [theta_0, theta_1, ..., theta_d] with d >= 1, "
            f"got shape {theta.shape}"
        )
    X = as_float_array(X, "X")
    if X.ndim not in (1, 2) or X.shape[-1] != theta.size - 1:
        raise ValueError(
            f"X must have shape ({theta.size - 1},) or (n, {theta.size - 1}) to match theta of "
            f"length {theta.size} (bias first), got shape {X.shape}"
        )
    return theta, X


def discriminant(theta: ArrayLike, X: ArrayLike) -> np.ndarray:
    r""":math:`g(x) = \theta_0 + w^\top x` for one input ``(d,)`` or every row of ``(n, d)``."""
    theta, X = _theta_and_inputs(theta, X)
    return theta[0] + X @ theta[1:]


def predict(theta: ArrayLike, X: ArrayLike) -> np.ndarray:
    r"""Class labels: 1 where :math:`g(x) > 0`, else 0 (the step activation of :math:`g`)."""
    return step(discriminant(theta, X)).astype(np.int64)


def count_errors(theta: ArrayLike, X: ArrayLike, y: ArrayLike) -> int:
    r"""The empirical 0-1 loss :math:`E(\theta) = \#\{i : \hat y_i \ne y_i\}`, a count of mistakes.

    Args:
        theta: parameters, bias first.
        X: inputs ``(n, d)``.
        y: labels ``(n,)`` in {0, 1}.
    """
    y = _binary_labels(y)
    predictions = predict(theta, X)
    if predictions.shape != y.shape:
        raise ValueError(f"y must have shape {predictions.shape} to match X, got {y.shape}")
    return int(np.sum(predictions != y))


def _binary_labels(y: ArrayLike) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"labels must be numbers, got dtype {y.dtype}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"labels must be 0 or 1, got values {np.unique(y)[:10].tolist()}")
    return y.astype(np.int64)


def _weights(theta: ArrayLike) -> tuple[float, np.ndarray, float]:
    theta = as_float_array(theta, "theta")
    if theta.ndim != 1 or theta.size < 2:
        raise ValueError(
            "theta must be a vector [theta_0, theta_1, ..., theta_d] with d >= 1, "
            f"got shape {theta.shape}"
        )
    w = theta[1:]
    norm = float(np.linalg.norm(w))
    if norm == 0.0:
        raise ValueError(
            "theta_1 = ... = theta_d = 0: g(x) is the constant theta_0, so there is no decision "
            "boundary (and no normal vector or distance)"
        )
    return float(theta[0]), w, norm


def normal_vector(theta: ArrayLike, unit: bool = False) -> np.ndarray:
    r"""The boundary's normal :math:`w = \theta_{1:d}` (``unit=True``: :math:`w/\lVert w\rVert`).

    It points from the region :math:`g < 0` into the region :math:`g > 0`.

    Raises:
        ValueError: if :math:`w = 0` (then there is no boundary).
    """
    _, w, norm = _weights(theta)
    return w / norm if unit else w.copy()


def signed_distance(theta: ArrayLike, X: ArrayLike) -> np.ndarray:
    r"""Signed distance :math:`g(x)/\lVert w\rVert` of each point from the boundary.

    Positive on the side :math:`w` points to, negative on the other, 0 on the boundary.
    """
    _, _, norm = _weights(theta)
    return discriminant(theta, X) / norm


def boundary_distance(theta: ArrayLike) -> float:
    r"""Distance of :math:`g(x) = 0` from the origin: :math:`\lvert\theta_0\rvert/\lVert w\rVert`.

    It is the absolute signed distance of the origin, :math:`\lvert g(0)\rvert/\lVert w\rVert`.
    """
    theta0, _, norm = _weights(theta)
    return abs(theta0) / norm


def foot_of_perpendicular(theta: ArrayLike) -> np.ndarray:
    r"""The boundary point closest to the origin, :math:`x^\star = -\theta_0\, w/\lVert w\rVert^2`.

    Derivation: the closest point lies on the line through the origin along the normal,
    :math:`x = t w`; :math:`g(t w) = \theta_0 + t \lVert w\rVert^2 = 0` gives
    :math:`t = -\theta_0/\lVert w\rVert^2`.
    """
    theta0, w, norm = _weights(theta)
    return -theta0 * w / norm**2
