r"""Multinomial logistic (softmax) regression: one linear score per class, then a softmax.

For an input :math:`x \in \mathbb{R}^d` the model computes the logits (scores)

.. math:: z = W x + b, \qquad W \in \mathbb{R}^{K \times d},\; b \in \mathbb{R}^{K}

and reads them as class probabilities :math:`p(y = k \mid x) = \operatorname{softmax}(z)_k`.
The prediction is the class with the largest probability, which is the class with the largest
logit: softmax is increasing in each logit, so it never changes the order.

Training minimises the categorical cross-entropy (the negative log-likelihood of a categorical
distribution, averaged over the :math:`n` samples) by full-batch gradient descent. With samples
as rows (:math:`X` is :math:`n \times d`, :math:`Z = X W^\top + b` is :math:`n \times K`, and
:math:`T` holds the one-hot targets) the gradients are

.. math::

    \frac{\partial L}{\partial Z} = \frac{1}{n}\,(\operatorname{softmax}(Z) - T), \qquad
    \frac{\partial L}{\partial W} = \Big(\frac{\partial L}{\partial Z}\Big)^{\!\top} X, \qquad
    \frac{\partial L}{\partial b} = \sum_{i=1}^{n} \frac{\partial L}{\partial Z_{i,:}}

The loss is convex in :math:`(W, b)`, so starting from zeros is fine: there is no symmetry to
break, because every class has different targets.

Each region :math:`\{x : z_k(x) > z_j(x) \text{ for all } j \ne k\}` is an intersection of
half-planes, so the decision regions of this model are convex and the boundaries are straight
lines: it can only separate classes that are (nearly) linearly separable.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from coursekit.activations import softmax
from coursekit.chapters.descent import gradient_descent
from coursekit.chapters.training import check_labels
from coursekit.losses import cce_with_logits, cce_with_logits_grad
from coursekit.validation import as_float_array, is_integer, require_count


def _gradients(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`(\partial L/\partial W, \partial L/\partial b)` at checked ``W``, ``b``."""
    dZ = cce_with_logits_grad(X @ W.T + b, y)  # (S - T) / n
    return dZ.T @ X, dZ.sum(axis=0)


class SoftmaxRegression:
    r"""A linear softmax classifier :math:`p(y \mid x) = \operatorname{softmax}(W x + b)`.

    Args:
        num_features: input dimension :math:`d` (2 for the toy datasets).
        num_classes: number of classes :math:`K \ge 2`.

    Attributes:
        W: weights, shape ``(num_classes, num_features)``; row :math:`k` scores class :math:`k`.
        b: biases, shape ``(num_classes,)``.
        history: the training loss before each epoch of the last :meth:`fit`, then the final loss.

    Example::

        model = SoftmaxRegression(num_features=2, num_classes=3)
        model.fit(X, y, lr=0.5, epochs=300)
        model.accuracy(X, y)
    """

    def __init__(self, num_features: int, num_classes: int) -> None:
        for name, value, minimum in (
            ("num_features", num_features, 1),
            ("num_classes", num_classes, 2),
        ):
            if not is_integer(value):
                raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
            if value < minimum:
                raise ValueError(f"{name} must be at least {minimum}, got {value}")
        self.num_features = int(num_features)
        self.num_classes = int(num_classes)
        self.W = np.zeros((self.num_classes, self.num_features))
        self.b = np.zeros(self.num_classes)
        self.history: list[float] = []

    def _inputs(self, X: ArrayLike) -> np.ndarray:
        X = as_float_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.num_features:
            raise ValueError(
                f"X must have shape (n, {self.num_features}) (one sample per row), "
                f"got shape {X.shape}"
            )
        return X

    def logits(self, X: ArrayLike) -> np.ndarray:
        r"""Scores :math:`Z = X W^\top + b`, shape ``(n, K)``."""
        return self._inputs(X) @ self.W.T + self.b

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities ``softmax(logits)``, shape ``(n, K)``; each row sums to 1."""
        return softmax(self.logits(X), axis=1)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class of each row (the largest logit), shape ``(n,)``."""
        return np.argmax(self.logits(X), axis=1)

    def loss(self, X: ArrayLike, y: ArrayLike) -> float:
        """Mean categorical cross-entropy of the labels ``y`` under the model."""
        Z = self.logits(X)
        return cce_with_logits(Z, check_labels(y, Z.shape[0], self.num_classes))

    def gradients(self, X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        r"""Gradients :math:`(\partial L/\partial W, \partial L/\partial b)` of :meth:`loss`."""
        X = self._inputs(X)
        return _gradients(self.W, self.b, X, check_labels(y, X.shape[0], self.num_classes))

    def fit(self, X: ArrayLike, y: ArrayLike, lr: float = 0.5, epochs: int = 300) -> list[float]:
        r"""Full-batch gradient descent :math:`\theta \leftarrow \theta - \eta\,\nabla_\theta L`.

        Continues from the current weights (call on a fresh model to start from zeros).

        Args:
            X: inputs, shape ``(n, num_features)``.
            y: integer labels, shape ``(n,)``.
            lr: learning rate :math:`\eta > 0`.
            epochs: number of gradient steps (>= 0).

        Returns:
            The loss before each step and after the last one (``epochs + 1`` numbers), also
            kept in :attr:`history`.

        Raises:
            ValueError: for bad inputs, a learning rate that is not a positive finite number or a
                negative number of epochs.
            FloatingPointError: if the parameters blow up (far too large a learning rate); the
                model keeps its weights from before the call.
        """
        X = self._inputs(X)
        y = check_labels(y, X.shape[0], self.num_classes)
        if not (isinstance(lr, (int, float, np.floating)) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        require_count(epochs, "epochs")

        # The descent loop of coursekit.chapters.descent (as for logistic regression), on all
        # parameters at once: row k of theta is (b_k, w_k), bias first.
        def loss_at(theta: np.ndarray) -> float:
            return cce_with_logits(X @ theta[:, 1:].T + theta[:, 0], y)

        def gradient_at(theta: np.ndarray) -> np.ndarray:
            dW, db = _gradients(theta[:, 1:], theta[:, 0], X, y)
            return np.column_stack([db, dW])

        result = gradient_descent(
            gradient_at, np.column_stack([self.b, self.W]), lr, epochs, f=loss_at
        )
        if result.diverged:
            raise FloatingPointError(
                "gradient descent diverged: the parameters left the ball of norm 1e6 after "
                f"{result.steps} steps with lr={lr}; use a smaller learning rate"
            )
        self.b, self.W = result.final[:, 0].copy(), result.final[:, 1:].copy()
        self.history = [float(v) for v in result.values]
        return self.history

    def accuracy(self, X: ArrayLike, y: ArrayLike) -> float:
        """Fraction of rows whose predicted class equals the label."""
        X = self._inputs(X)
        y = check_labels(y, X.shape[0], self.num_classes)
        return float(np.mean(self.predict(X) == y))

    def __repr__(self) -> str:
        return (
            f"SoftmaxRegression(num_features={self.num_features}, num_classes={self.num_classes})"
        )
