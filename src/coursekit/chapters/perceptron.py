r"""The perceptron learning rule.

The perceptron predicts :math:`\hat y = \operatorname{step}(\theta^\top \tilde x)` with the bias
trick :math:`\tilde x = [1, x_1, \dots, x_d]` and labels :math:`y \in \{0, 1\}`. It visits the
training points in order and, for each one, applies

.. math:: \theta \leftarrow \theta + \eta\,(y_i - \hat y_i)\,\tilde x_i .

The factor :math:`y_i - \hat y_i` is 0 for a correct prediction (no update), :math:`+1` for a missed
positive (:math:`\theta` moves towards :math:`\tilde x_i`, raising :math:`\theta^\top \tilde x_i` by
:math:`\eta\lVert\tilde x_i\rVert^2`) and :math:`-1` for a false positive (it moves away).

If some :math:`\theta` classifies every training point correctly with a margin (the data are
*linearly separable*), the rule stops making mistakes after finitely many updates (Novikoff's
theorem: at most :math:`(R/\gamma)^2` updates, with :math:`R` the largest
:math:`\lVert\tilde x_i\rVert` and :math:`\gamma` the margin of the best unit-norm separator).
Training here stops after the first epoch (full pass) without a mistake.

On data that are not linearly separable the rule never settles. :func:`train_perceptron` then
stops after ``max_epochs`` and returns a result with ``converged=False`` (it does not raise:
running out of epochs is an outcome to inspect, not an error). Check ``result.converged``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from coursekit.chapters.discriminant import add_bias
from coursekit.validation import as_float_array, is_integer, is_real_number


@dataclass(frozen=True)
class PerceptronResult:
    """Outcome of :func:`train_perceptron`.

    Attributes:
        theta: final parameters ``[theta_0, theta_1, ..., theta_d]`` (bias first).
        converged: True if the last epoch made no mistake (every training point is correct).
        epochs: number of epochs run, including the final mistake-free one when converged.
        updates: total number of updates (= mistakes met during training).
        mistakes_per_epoch: ``(epochs,)`` mistakes met during each epoch.
        history: ``(updates + 1, d + 1)`` parameters: the start, then after every update.
    """

    theta: np.ndarray
    converged: bool
    epochs: int
    updates: int
    mistakes_per_epoch: np.ndarray
    history: np.ndarray

    def __str__(self) -> str:
        status = (
            "converged" if self.converged else "did NOT converge (data not linearly separable?)"
        )
        return (
            f"perceptron {status} after {self.epochs} epochs and {self.updates} updates; "
            f"theta = {np.round(self.theta, 4)}"
        )


def perceptron_update(theta: ArrayLike, x: ArrayLike, y: int, lr: float = 1.0) -> np.ndarray:
    r"""The rule applied to one point: returns :math:`\theta + \eta (y - \hat y)\tilde x`.

    Args:
        theta: parameters, bias first, shape ``(d + 1,)``.
        x: one input *without* the leading 1, shape ``(d,)``.
        y: its label, 0 or 1.
        lr: the learning rate :math:`\eta > 0`.
    """
    theta = as_float_array(theta, "theta")
    x_tilde = add_bias(x)
    if theta.shape != x_tilde.shape:
        raise ValueError(
            f"theta must have shape {x_tilde.shape} for an input of shape {np.shape(x)}, "
            f"got {theta.shape}"
        )
    if y not in (0, 1):
        raise ValueError(f"y must be 0 or 1, got {y!r}")
    y_hat = 1 if theta @ x_tilde > 0 else 0
    return theta + lr * (y - y_hat) * x_tilde


def train_perceptron(
    X: ArrayLike,
    y: ArrayLike,
    lr: float = 1.0,
    max_epochs: int = 1000,
    theta_init: ArrayLike | None = None,
) -> PerceptronResult:
    """Run the perceptron rule over the data in order, epoch by epoch, until one is mistake-free.

    Args:
        X: inputs ``(n, d)``, one per row.
        y: labels ``(n,)`` in {0, 1}.
        lr: learning rate (> 0). Starting from ``theta = 0`` it only rescales theta and changes
            no prediction.
        max_epochs: give up after this many epochs (``converged=False``).
        theta_init: starting parameters ``(d + 1,)``; zeros by default.

    Returns:
        A :class:`PerceptronResult`.
    """
    X = as_float_array(X, "X")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must have shape (n, d) with n >= 1, got shape {X.shape}")
    y_arr = np.asarray(y)
    if y_arr.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape ({X.shape[0]},) to match X {X.shape}, got {y_arr.shape}"
        )
    if y_arr.dtype.kind not in "biuf" or not np.all((y_arr == 0) | (y_arr == 1)):
        raise ValueError(f"labels must be 0 or 1, got values {np.unique(y_arr)[:10].tolist()}")
    labels = y_arr.astype(np.int64)
    if not (is_real_number(lr) and lr > 0 and np.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not is_integer(max_epochs) or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive integer, got {max_epochs!r}")

    Xb = add_bias(X)
    theta = (
        np.zeros(Xb.shape[1])
        if theta_init is None
        else as_float_array(theta_init, "theta_init").copy()
    )
    if theta.shape != (Xb.shape[1],):
        raise ValueError(
            f"theta_init must have shape ({Xb.shape[1]},) (bias first), got {theta.shape}"
        )

    history = [theta.copy()]
    mistakes_per_epoch: list[int] = []
    converged = False
    for _ in range(int(max_epochs)):
        mistakes = 0
        for x_tilde, target in zip(Xb, labels):
            y_hat = 1 if theta @ x_tilde > 0 else 0
            if y_hat != target:
                theta = theta + lr * (target - y_hat) * x_tilde
                history.append(theta.copy())
                mistakes += 1
        mistakes_per_epoch.append(mistakes)
        if mistakes == 0:
            converged = True
            break
    return PerceptronResult(
        theta=theta,
        converged=converged,
        epochs=len(mistakes_per_epoch),
        updates=len(history) - 1,
        mistakes_per_epoch=np.array(mistakes_per_epoch, dtype=np.int64),
        history=np.array(history),
    )
