"""Gradient checking: compare an analytic gradient with centred finite differences.

The centred difference

.. math::

    \\frac{\\partial f}{\\partial x_i}
    \\approx \\frac{f(x + \\varepsilon e_i) - f(x - \\varepsilon e_i)}{2\\varepsilon}

has error :math:`O(\\varepsilon^2)` (the one-sided version only :math:`O(\\varepsilon)`), so with
``eps = 1e-6`` in float64 a correct gradient of a smooth function agrees to a relative error of
about 1e-9 or better, and 1e-7 is a safe pass mark. In float32 rounding error alone is about
1e-3 at that step size, which is why everything here insists on float64.

Kinks (ReLU at 0, max/min at a tie) have no derivative; keep test inputs away from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

# Below this size, differences are compared absolutely rather than relatively: two gradients that
# are both ~1e-12 (numerical noise around a true 0) should not count as a 100% relative error.
RELATIVE_ERROR_FLOOR = 1e-8


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """Centred-difference gradient of a scalar function ``f`` at ``x`` (any shape).

    ``x`` is perturbed *in place* one entry at a time (and restored), then passed to ``f``, so
    ``f`` may either use its argument or read the same array through a closure (for example a
    layer's weight matrix).

    Args:
        f: function returning a scalar (a float, or an array with one element).
        x: a float64 array (perturbed in place) or anything ``np.asarray`` turns into numbers
            (then a float64 copy is perturbed).
        eps: the step; 1e-6 balances truncation error against rounding error in float64.

    Returns:
        Array of the same shape as ``x`` with :math:`\\partial f/\\partial x`.

    Raises:
        TypeError: if ``x`` is an array of another dtype than float64, or ``f`` does not return
            a single number.
    """
    if isinstance(x, np.ndarray):
        if x.dtype != np.float64:
            raise TypeError(
                f"numerical_gradient needs a float64 array, got {x.dtype}: finite differences in "
                "lower precision are dominated by rounding error (use x.astype(np.float64))"
            )
    else:
        x = np.array(x, dtype=np.float64)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")

    def value_at() -> float:
        out = np.asarray(f(x))
        if out.size != 1:
            raise TypeError(f"f must return a single number, got an array of shape {out.shape}")
        return float(out.reshape(()))

    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views: writes go to x and grad
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = value_at()
        flat_x[i] = original - eps
        f_minus = value_at()
        flat_x[i] = original  # restore before anything can fail
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_errors(a: Any, b: Any, floor: float = RELATIVE_ERROR_FLOOR) -> np.ndarray:
    """Entrywise :math:`|a - b| / \\max(|a|, |b|, \\text{floor})`.

    Raises:
        ValueError: if the shapes differ (a broadcast would hide a wrong gradient shape).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of different shapes: {a.shape} and {b.shape}")
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)


def relative_error(a: Any, b: Any, floor: float = RELATIVE_ERROR_FLOOR) -> float:
    """The worst entrywise relative error :math:`\\max_i |a_i - b_i| / \\max(|a_i|, |b_i|)`.

    Entries where both sides are below ``floor`` are measured against ``floor`` instead, so
    round-off around a true zero does not read as a 100% error. Returns 0.0 for empty arrays.
    """
    errors = relative_errors(a, b, floor)
    return float(errors.max()) if errors.size else 0.0


@dataclass(frozen=True)
class GradientCheck:
    """Outcome of :func:`check_gradient`; ``str()`` gives a one-line report."""

    ok: bool
    max_error: float
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    tol: float

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        return (
            f"gradient check {verdict}: max relative error {self.max_error:.2e} "
            f"(tolerance {self.tol:.0e}) at index {self.worst_index}: "
            f"analytic {self.analytic:.10g}, numeric {self.numeric:.10g}"
        )

    def __bool__(self) -> bool:
        return self.ok


def check_gradient(
    f: Callable[[np.ndarray], Any],
    x: Any,
    analytic: Any,
    eps: float = 1e-6,
    tol: float = 1e-7,
) -> GradientCheck:
    """Compare an analytic gradient of ``f`` at ``x`` with :func:`numerical_gradient`.

    Args:
        f: scalar function of ``x``.
        x: the point (see :func:`numerical_gradient`).
        analytic: the gradient to check, same shape as ``x``.
        eps: finite-difference step.
        tol: largest acceptable relative error (1e-7 suits smooth functions in float64).

    Returns:
        A :class:`GradientCheck` naming the worst entry, its index and both values.

    Raises:
        ValueError: if ``analytic`` and ``x`` differ in shape.
    """
    numeric = numerical_gradient(f, x, eps)
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(
            f"analytic gradient has shape {analytic.shape} but x has shape {numeric.shape}"
        )
    errors = relative_errors(analytic, numeric)
    if errors.size == 0:
        return GradientCheck(True, 0.0, (), 0.0, 0.0, tol)
    worst = np.unravel_index(int(np.argmax(errors)), errors.shape)
    worst_index = tuple(int(i) for i in worst)
    max_error = float(errors[worst])
    return GradientCheck(
        ok=max_error < tol,
        max_error=max_error,
        worst_index=worst_index,
        analytic=float(analytic[worst]),
        numeric=float(numeric[worst]),
        tol=tol,
    )
