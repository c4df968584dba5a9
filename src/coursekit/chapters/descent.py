r"""Plain gradient descent on a differentiable function, with its whole path recorded.

Starting from :math:`x_0`, gradient descent repeats

.. math:: x_{t+1} = x_t - \eta\, \nabla F(x_t)

with learning rate (step size) :math:`\eta > 0`. The negative gradient is the direction of
steepest local decrease, so a small enough step lowers :math:`F`.

How the learning rate matters is clearest on a quadratic :math:`F(x) = \tfrac12 a x^2` (curvature
:math:`a > 0`): the update is :math:`x_{t+1} = (1 - \eta a)\,x_t`, so
:math:`x_t = (1 - \eta a)^t x_0`. The iterates

* creep towards 0 when :math:`\eta a` is small (too small a learning rate: slow),
* jump straight to 0 when :math:`\eta = 1/a`,
* overshoot and oscillate but still converge when :math:`1 < \eta a < 2`,
* oscillate with constant size when :math:`\eta a = 2`, and grow without bound (diverge) when
  :math:`\eta a > 2`.

For a function with several curvatures (a Hessian with eigenvalues :math:`\lambda_i`), the
largest one sets the limit :math:`\eta < 2/\lambda_{\max}` near a minimum.

Divergence is detected rather than left to overflow: iteration stops as soon as an iterate is
not finite or leaves the ball :math:`\lVert x\rVert \le` ``max_norm``, and the result says
``diverged=True``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from coursekit.validation import as_float_array, require_count, require_positive_number

MAX_NORM = 1e6
"""Default radius beyond which an iterate counts as diverged (see :func:`gradient_descent`)."""


@dataclass(frozen=True)
class DescentResult:
    """The path of :func:`gradient_descent`.

    Attributes:
        path: iterates :math:`x_0, x_1, \\dots, x_k`, shape ``(k + 1, *x0.shape)``. If the run
            diverged, the last row is the first iterate that left the ``max_norm`` ball (a
            non-finite iterate is not recorded).
        values: :math:`F(x_t)` for every row of ``path`` (``None`` when no ``f`` was given).
        diverged: True if the run stopped early because the iterates blew up.
    """

    path: np.ndarray
    values: np.ndarray | None
    diverged: bool

    @property
    def steps(self) -> int:
        """Number of steps taken (``len(path) - 1``)."""
        return len(self.path) - 1

    @property
    def final(self) -> np.ndarray:
        """The last recorded iterate."""
        return self.path[-1]


def gradient_descent(
    grad: Callable[[np.ndarray], Any],
    x0: Any,
    lr: float,
    steps: int,
    f: Callable[[np.ndarray], Any] | None = None,
    max_norm: float = MAX_NORM,
) -> DescentResult:
    r"""Run ``steps`` updates :math:`x \leftarrow x - \eta \nabla F(x)` from ``x0``.

    Args:
        grad: returns :math:`\nabla F(x)`, an array of the same shape as ``x``.
        x0: starting point (a number or an array of any shape); it is copied, not modified.
        lr: learning rate :math:`\eta > 0`.
        steps: number of updates (>= 0).
        f: optional function :math:`F` whose value at every iterate is recorded in ``values``.
        max_norm: stop (``diverged=True``) once :math:`\lVert x\rVert` exceeds this.

    Returns:
        A :class:`DescentResult`.

    Raises:
        ValueError: for a non-positive learning rate, a negative step count, or a gradient
            whose shape differs from ``x0``'s.
    """
    require_positive_number(lr, "lr")
    require_count(steps, "steps")
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    x = np.array(as_float_array(x0, "x0"), dtype=np.float64)  # a float64 copy

    def value(point: np.ndarray) -> float:
        return float(np.asarray(f(point)).reshape(()))

    path = [x.copy()]
    diverged = False
    limit = float(max_norm) ** 2
    # Overflow is expected when a run blows up; it is detected below, so numpy need not warn.
    with np.errstate(over="ignore", invalid="ignore"):
        values = [value(x)] if f is not None else None
        for _ in range(int(steps)):
            gradient = np.asarray(grad(x), dtype=np.float64)
            if gradient.shape != x.shape:
                raise ValueError(
                    f"grad returned shape {gradient.shape} for a point of shape {x.shape}"
                )
            x = x - lr * gradient
            squared_norm = float(np.vdot(x, x))  # inf or nan as soon as any entry is
            if not math.isfinite(squared_norm) and not np.all(np.isfinite(x)):
                diverged = True  # a non-finite iterate is not recorded
                break
            path.append(x)
            if values is not None:
                values.append(value(x))
            if not squared_norm <= limit:
                diverged = True
                break
    return DescentResult(
        path=np.array(path),
        values=np.array(values) if values is not None else None,
        diverged=diverged,
    )
