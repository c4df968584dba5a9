r"""Logistic regression: a linear model of the log-odds, fit by gradient descent on cross-entropy.

The model (bias first, :math:`\tilde x = [1, x_1, \dots, x_d]`):

.. math:: \hat y = P(y = 1 \mid x) = \sigma(\theta^\top \tilde x),
   \qquad \log\frac{P(y=1\mid x)}{P(y=0\mid x)} = \theta^\top \tilde x .

The negative log-likelihood of labels :math:`y_i \in \{0, 1\}` is the binary cross-entropy

.. math:: L_{\text{sum}}(\theta)
   = -\sum_{i=1}^n \big[y_i \log \hat y_i + (1 - y_i)\log(1 - \hat y_i)\big],
   \qquad \hat y_i = \sigma(\theta^\top \tilde x_i),

and, because :math:`\partial_\theta \log \hat y_i = (1 - \hat y_i)\tilde x_i` and
:math:`\partial_\theta \log(1 - \hat y_i) = -\hat y_i \tilde x_i`, its gradient is

.. math:: \nabla_\theta L_{\text{sum}}(\theta) = \sum_{i=1}^n (\hat y_i - y_i)\,\tilde x_i .

Convention: like :mod:`coursekit.losses`, ``reduction="mean"`` (the default) divides the loss and
its gradient by :math:`n`, giving the mean loss :math:`L = L_{\text{sum}}/n`; ``reduction="sum"``
gives :math:`L_{\text{sum}}` exactly as written above. The mean makes a good learning rate
independent of the data-set size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from coursekit.validation import as_float_array
from coursekit.activations import sigmoid
from coursekit.chapters.descent import gradient_descent
from coursekit.chapters.discriminant import add_bias, count_errors
from coursekit.losses import Reduction, bce_with_logits, bce_with_logits_grad


def _inputs(theta: ArrayLike, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    theta = as_float_array(theta, "theta")
    X = as_float_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), one input per row, got shape {X.shape}")
    if theta.shape != (X.shape[1] + 1,):
        raise ValueError(
            f"theta must have shape ({X.shape[1] + 1},) (bias first) for X of shape {X.shape}, "
            f"got {theta.shape}"
        )
    return theta, add_bias(X)


def _labels(y: ArrayLike, n: int) -> np.ndarray:
    y = as_float_array(y, "y")
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("labels y must lie in [0, 1]")
    return y


def logits(theta: ArrayLike, X: ArrayLike) -> np.ndarray:
    r"""The log-odds :math:`z_i = \theta^\top \tilde x_i` of every row of ``X``."""
    theta, Xb = _inputs(theta, X)
    return Xb @ theta


def predict_proba(theta: ArrayLike, X: ArrayLike) -> np.ndarray:
    r""":math:`\hat y_i = \sigma(\theta^\top \tilde x_i)`, the model's
    :math:`P(y = 1 \mid x_i)`."""
    return sigmoid(logits(theta, X))


def loss(theta: ArrayLike, X: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> float:
    """Binary cross-entropy of the model on ``(X, y)``, computed stably from the logits."""
    z = logits(theta, X)
    return bce_with_logits(z, _labels(y, z.shape[0]), reduction=reduction)


def gradient(
    theta: ArrayLike, X: ArrayLike, y: ArrayLike, reduction: Reduction = "mean"
) -> np.ndarray:
    r""":math:`\sum_i (\hat y_i - y_i)\,\tilde x_i`, divided by :math:`n` for ``reduction="mean"``.

    The gradient of :func:`loss` with respect to ``theta`` (bias first).
    """
    theta, Xb = _inputs(theta, X)
    y = _labels(y, Xb.shape[0])
    # Chain rule: dl/dtheta = sum_i (dl/dz_i) x~_i, and dl/dz_i = yhat_i - y_i is the loss's own
    # gradient.
    return Xb.T @ bce_with_logits_grad(Xb @ theta, y, reduction=reduction)


@dataclass(frozen=True)
class LogisticFit:
    """Outcome of :func:`fit`.

    Attributes:
        theta: final parameters, bias first.
        thetas: ``(k + 1, n + 1)`` parameters after every step (the start first).
        losses: ``(k + 1,)`` training loss at every row of ``thetas``.
        diverged: True if gradient descent blew up (learning rate far too large).
    """

    theta: np.ndarray
    thetas: np.ndarray
    losses: np.ndarray
    diverged: bool

    def errors(self, X: ArrayLike, y: ArrayLike) -> int:
        """Number of points of ``(X, y)`` the final model misclassifies (threshold 1/2)."""
        return count_errors(self.theta, X, y)


def fit(
    X: ArrayLike,
    y: ArrayLike,
    lr: float = 0.5,
    steps: int = 200,
    theta_init: ArrayLike | None = None,
    reduction: Reduction = "mean",
) -> LogisticFit:
    r"""Full-batch gradient descent :math:`\theta \leftarrow \theta - \eta \nabla_\theta L`.

    Args:
        X: inputs ``(n, d)``.
        y: labels ``(n,)`` in {0, 1}.
        lr: learning rate.
        steps: number of gradient steps.
        theta_init: start (zeros by default, which predicts 1/2 everywhere).
        reduction: ``"mean"`` or ``"sum"``; with ``"sum"`` the same ``lr`` takes steps ``n``
            times larger.
    """
    X = as_float_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), one input per row, got shape {X.shape}")
    y = _labels(y, X.shape[0])
    start = (
        np.zeros(X.shape[1] + 1) if theta_init is None else as_float_array(theta_init, "theta_init")
    )
    result = gradient_descent(
        lambda t: gradient(t, X, y, reduction),
        start,
        lr,
        steps,
        f=lambda t: loss(t, X, y, reduction),
    )
    return LogisticFit(
        theta=result.final.copy(),
        thetas=result.path,
        losses=result.values,
        diverged=result.diverged,
    )
