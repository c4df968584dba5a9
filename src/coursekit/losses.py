"""Loss functions and their gradients.

Conventions (the lecture notes mix them; here they are fixed and stated once):

* Samples are rows: ``n`` is the length of the first axis.
* ``reduction="mean"`` (the default) divides the summed loss by ``n``; ``reduction="sum"`` does
  not. The gradient functions follow the same reduction, so ``*_grad`` is always the exact
  derivative of its loss.
* ``mse`` carries a factor 1/2 so that its gradient is simply ``yhat - y`` per sample.
* Each ``*_grad`` returns the derivative with respect to the loss's *first* argument
  (probabilities for ``bce``/``cce``, logits for the ``*_with_logits`` versions), in that
  argument's floating-point type: float32 predictions give a float32 gradient, whatever the
  type of the targets (integer labels, float64 one-hot rows). A float64 gradient would turn the
  whole backward pass of a float32 network into float64, with mixed-type matrix products that
  NumPy computes several times more slowly than float32 ones.
* Categorical targets may be integer labels of shape ``(n,)`` or one-hot rows of shape
  ``(n, K)`` (any rows that are probability distributions are accepted).

Prefer the ``*_with_logits`` versions in code: they never take the log of a number that has
rounded to 0, and their gradient is the famous ``prediction - target``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from coursekit.validation import as_float_array, require_same_shape
from coursekit.activations import log_softmax, sigmoid, softmax

Reduction = Literal["mean", "sum"]

# Probabilities are clipped this far from 0 and 1 inside the logs of ``bce`` and ``cce`` so that a
# saturated prediction gives a large finite loss instead of inf. The logits versions need no clip.
PROB_EPS = 1e-12


def _scale(n: int, reduction: Reduction) -> float:
    if reduction == "mean":
        return 1.0 / n
    if reduction == "sum":
        return 1.0
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


def _num_samples(a: np.ndarray) -> int:
    return 1 if a.ndim == 0 else a.shape[0]


def one_hot(labels: ArrayLike, num_classes: int, dtype: DTypeLike = np.float64) -> np.ndarray:
    """One-hot encode integer labels: row ``i`` has a 1 in column ``labels[i]``.

    ``dtype`` is the type of the ``(n, num_classes)`` result (float64 by default).

    Raises:
        ValueError: if a label is not an integer in ``0 .. num_classes - 1``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (n,), got shape {labels.shape}")
    if labels.size and (labels.dtype.kind not in "iu" and not np.all(labels == np.round(labels))):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1} for {num_classes} classes, "
            f"got values from {labels.min()} to {labels.max()}"
        )
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out


def _targets_as_distribution(y: ArrayLike, scores: np.ndarray) -> np.ndarray:
    """Return the target as an ``(n, K)`` array of the shape and dtype of ``scores``.

    Labels are one-hot encoded; given rows are checked, then converted to the dtype of ``scores``.
    """
    n, k = scores.shape
    y_arr = np.asarray(y)
    if y_arr.ndim == 0:  # one label for a single sample
        y_arr = y_arr[None]
    if (
        n == 1 and y_arr.ndim == 1 and y_arr.shape[0] == k > 1
    ):  # one one-hot row for a single sample
        y_arr = y_arr[None, :]
    if y_arr.ndim == 1:
        if y_arr.shape[0] != n:
            raise ValueError(
                f"labels must have shape ({n},) to match scores {scores.shape}, got {y_arr.shape}"
            )
        return one_hot(y_arr, k, dtype=scores.dtype)
    target = as_float_array(y_arr, "y")
    require_same_shape(target, scores, "y", "scores")
    if np.any(target < 0) or not np.allclose(target.sum(axis=1), 1.0):
        raise ValueError("one-hot targets must be non-negative rows that sum to 1")
    return target.astype(scores.dtype, copy=False)


def _as_batch(scores: ArrayLike, name: str) -> tuple[np.ndarray, bool]:
    """Accept ``(K,)`` as a single sample; return ``(n, K)`` and whether it was a single row."""
    arr = as_float_array(scores, name)
    if arr.ndim == 1:
        return arr[None, :], True
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, K) or (K,), got shape {arr.shape}")
    return arr, False


def _binary_targets(y: ArrayLike, like: np.ndarray) -> np.ndarray:
    """Check that ``y`` holds targets in [0, 1] shaped like ``like``; return them in its dtype."""
    target = as_float_array(y, "y")
    require_same_shape(target, like, "y", "the predictions")
    if np.any((target < 0) | (target > 1)):
        raise ValueError("binary targets y must lie in [0, 1]")
    return target.astype(like.dtype, copy=False)


# --- mean squared error -------------------------------------------------------------------------


def mse(yhat: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> float:
    r"""Squared error with a factor 1/2:
    :math:`L = \frac{1}{n}\sum_i \tfrac12\lVert\hat y_i - y_i\rVert^2`.

    With ``reduction="sum"`` the :math:`1/n` is dropped. For one sample this is
    :math:`\tfrac12(\hat y - y)^2`, the loss of the worked examples.
    """
    yhat = as_float_array(yhat, "yhat")
    y = as_float_array(y, "y")
    require_same_shape(yhat, y, "yhat", "y")
    return float(0.5 * np.sum((yhat - y) ** 2) * _scale(_num_samples(yhat), reduction))


def mse_grad(yhat: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> np.ndarray:
    r""":math:`\partial L/\partial \hat y = (\hat y - y)/n` (no 2 appears thanks to the 1/2)."""
    yhat = as_float_array(yhat, "yhat")
    y = as_float_array(y, "y")
    require_same_shape(yhat, y, "yhat", "y")
    return (yhat - y.astype(yhat.dtype, copy=False)) * _scale(_num_samples(yhat), reduction)


# --- binary cross-entropy -----------------------------------------------------------------------


def bce(p: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> float:
    r"""Binary cross-entropy of probabilities ``p`` against targets ``y`` in [0, 1].

    .. math:: L = -\frac{1}{n}\sum_i \big[y_i \log p_i + (1 - y_i)\log(1 - p_i)\big]

    This is the negative log-likelihood of Bernoulli labels divided by ``n``. ``p`` is clipped
    to ``[PROB_EPS, 1 - PROB_EPS]`` inside the logs; use :func:`bce_with_logits` to avoid that.
    """
    p = as_float_array(p, "p")
    y = _binary_targets(y, p)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("probabilities p must lie in [0, 1]; for raw scores use bce_with_logits")
    pc = np.clip(p, PROB_EPS, 1 - PROB_EPS)
    total = -np.sum(y * np.log(pc) + (1 - y) * np.log1p(-pc))
    return float(total * _scale(_num_samples(p), reduction))


def bce_grad(p: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> np.ndarray:
    r""":math:`\partial L/\partial p_i = \frac{1}{n}\,\frac{p_i - y_i}{p_i(1 - p_i)}`.

    Note the sign: it is :math:`-(y/p - (1-y)/(1-p))/n`, which simplifies to the form above.
    """
    p = as_float_array(p, "p")
    y = _binary_targets(y, p)
    pc = np.clip(p, PROB_EPS, 1 - PROB_EPS)
    return (pc - y) / (pc * (1 - pc)) * _scale(_num_samples(p), reduction)


def bce_with_logits(z: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> float:
    r"""Binary cross-entropy of :math:`p = \sigma(z)`, computed from the logits ``z``.

    Since :math:`-\log\sigma(z) = \operatorname{softplus}(-z)` and
    :math:`-\log(1-\sigma(z)) = \operatorname{softplus}(z)`, each term equals
    :math:`\operatorname{softplus}(z) - y z` with
    :math:`\operatorname{softplus}(z) = \max(z, 0) + \log(1 + e^{-|z|})`, finite for every z.
    """
    z = as_float_array(z, "z")
    y = _binary_targets(y, z)
    softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    return float(np.sum(softplus - y * z) * _scale(_num_samples(z), reduction))


def bce_with_logits_grad(z: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> np.ndarray:
    r""":math:`\partial L/\partial z_i = (\sigma(z_i) - y_i)/n`: prediction minus target."""
    z = as_float_array(z, "z")
    y = _binary_targets(y, z)
    return (sigmoid(z) - y) * _scale(_num_samples(z), reduction)


# --- categorical cross-entropy ------------------------------------------------------------------


def cce(probs: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> float:
    r"""Categorical cross-entropy of predicted class probabilities.

    .. math:: L = -\frac{1}{n}\sum_i \sum_k t_{ik}\log p_{ik}

    where :math:`t_i` is the one-hot row of label :math:`y_i`, so only the log-probability of the
    true class counts. ``probs`` has shape ``(n, K)`` (or ``(K,)`` for one sample).
    """
    p, _ = _as_batch(probs, "probs")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("probs must lie in [0, 1]; for raw scores use cce_with_logits")
    t = _targets_as_distribution(y, p)
    return float(-np.sum(t * np.log(np.clip(p, PROB_EPS, 1.0))) * _scale(p.shape[0], reduction))


def cce_grad(probs: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> np.ndarray:
    r""":math:`\partial L/\partial p_{ik} = -t_{ik} / (n\,p_{ik})` (zero off the true class)."""
    p, single = _as_batch(probs, "probs")
    t = _targets_as_distribution(y, p)
    grad = -t / np.clip(p, PROB_EPS, 1.0) * _scale(p.shape[0], reduction)
    return grad[0] if single else grad


def cce_with_logits(z: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> float:
    r"""Categorical cross-entropy of :math:`\operatorname{softmax}(z)`, computed from logits.

    .. math::

        L = -\frac{1}{n}\sum_i \sum_k t_{ik}\,\big(z_{ik} - \log\textstyle\sum_j e^{z_{ij}}\big)
    """
    z2, _ = _as_batch(z, "z")
    t = _targets_as_distribution(y, z2)
    return float(-np.sum(t * log_softmax(z2)) * _scale(z2.shape[0], reduction)) + 0.0  # no "-0.0"


def cce_with_logits_grad(z: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> np.ndarray:
    r""":math:`\partial L/\partial z_{ik} = (\operatorname{softmax}(z_i)_k - t_{ik})/n`.

    The softmax Jacobian and the :math:`-t/p` of the log combine into prediction minus target.
    """
    z2, single = _as_batch(z, "z")
    t = _targets_as_distribution(y, z2)
    grad = (softmax(z2) - t) * _scale(z2.shape[0], reduction)
    return grad[0] if single else grad
