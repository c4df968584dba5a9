r"""Two-dimensional test functions for gradient descent, with exact gradients and Hessians.

Every function takes points as an array whose last axis has length 2, ``p[..., 0] = x`` and
``p[..., 1] = y``, so it works on one point ``(2,)`` or a whole grid ``(H, W, 2)``. Values have
shape ``p.shape[:-1]``; gradients the shape of ``p``; Hessians ``p.shape + (2,)``.

**The cubic valley**, reconstructed from the partial derivatives an exercise gives,
:math:`F_x = -3x^2 - 200(y^2 - x)` and :math:`F_y = 400\,y\,(y^2 - x)`:

.. math:: F(x, y) = -x^3 + 100\,(y^2 - x)^2 .

Check: :math:`\partial_y\, 100(y^2 - x)^2 = 200(y^2 - x)\cdot 2y = 400y(y^2 - x)` and
:math:`\partial_x [-x^3 + 100(y^2 - x)^2] = -3x^2 - 200(y^2 - x)`; a function with these
partials is unique up to a constant. Its landscape:

* the term :math:`100(y^2 - x)^2 \ge 0` is a steep-walled curved valley along the parabola
  :math:`x = y^2`, on whose floor :math:`F = -x^3 = -y^6`;
* so :math:`F \to -\infty` along the valley: there is **no minimum** at all;
* the stationary points solve :math:`F_y = 0` (:math:`y = 0` or :math:`x = y^2`) and
  :math:`F_x = 0`: on :math:`x = y^2`, :math:`F_x = -3x^2 = 0` gives the origin; on :math:`y = 0`,
  :math:`F_x = x(200 - 3x) = 0` gives the origin and :math:`(200/3, 0)`;
* the origin is a degenerate saddle (Hessian :math:`\operatorname{diag}(200, 0)`;
  :math:`F = -y^6 < 0` along the valley, :math:`F = 100x^2 - x^3 > 0` along :math:`y = 0`);
* :math:`(200/3, 0)` is a local *maximum* (Hessian :math:`\operatorname{diag}(-200, -80000/3)`).

**The Rosenbrock function** :math:`F(x, y) = (a - x)^2 + b\,(y - x^2)^2` (``a = 1, b = 100``) has
the same kind of narrow curved valley, along :math:`y = x^2`, but a true global minimum
:math:`F = 0` at :math:`(a, a^2) = (1, 1)`, where the Hessian is
:math:`\begin{pmatrix} 802 & -400 \\ -400 & 200 \end{pmatrix}`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from coursekit.validation import as_float_array


def _xy(p: ArrayLike) -> tuple[np.ndarray | float, np.ndarray | float]:
    p = as_float_array(p, "p")
    if p.ndim == 0 or p.shape[-1] != 2:
        raise ValueError(f"points must have a last axis of length 2 (x, y), got shape {p.shape}")
    if p.ndim == 1:
        # One point, as gradient descent asks for thousands of times: plain floats, because
        # NumPy's overhead per operation on 0-d arrays is most of the cost of so small a
        # computation. Powers of x and y go through _square and _cube, so the results are bit
        # for bit those of the 0-d arrays.
        return float(p[0]), float(p[1])
    return p[..., 0], p[..., 1]


def _square(v: np.ndarray | float) -> np.ndarray | float:
    """``v * v``: what NumPy's ``v**2`` computes for an array (Python's ``v**2`` calls ``pow``,
    which can differ in the last bit)."""
    return v * v


def _cube(v: np.ndarray | float) -> np.ndarray | float:
    """NumPy's ``power(v, 3)``, for arrays and floats alike."""
    return np.power(v, 3)


def _pair(first: np.ndarray | float, second: np.ndarray | float) -> np.ndarray:
    """Stack two same-shape arrays on a new last axis (``np.stack(..., -1)``, but faster)."""
    if isinstance(first, float):  # one point (see _xy)
        return np.array((first, second))
    out = np.empty(np.shape(first) + (2,))
    out[..., 0] = first
    out[..., 1] = second
    return out


def _hessian(fxx: np.ndarray, fxy: np.ndarray, fyy: np.ndarray) -> np.ndarray:
    row0 = np.stack([fxx, fxy], axis=-1)
    row1 = np.stack([fxy, fyy], axis=-1)
    return np.stack([row0, row1], axis=-2)


# --- the cubic valley ---------------------------------------------------------------------------


def cubic_valley(p: ArrayLike) -> np.ndarray:
    r""":math:`F(x, y) = -x^3 + 100\,(y^2 - x)^2` (unbounded below along :math:`x = y^2`)."""
    x, y = _xy(p)
    return -_cube(x) + 100.0 * (_square(y) - x) ** 2


def cubic_valley_grad(p: ArrayLike) -> np.ndarray:
    r""":math:`\nabla F = \big(-3x^2 - 200(y^2 - x),\; 400\,y\,(y^2 - x)\big)`."""
    x, y = _xy(p)
    r = _square(y) - x
    return _pair(-3.0 * _square(x) - 200.0 * r, 400.0 * y * r)


def cubic_valley_hessian(p: ArrayLike) -> np.ndarray:
    r""":math:`F_{xx} = 200 - 6x`, :math:`F_{xy} = -400y`, :math:`F_{yy} = 1200y^2 - 400x`."""
    x, y = _xy(p)
    return _hessian(200.0 - 6.0 * x, -400.0 * y, 1200.0 * _square(y) - 400.0 * x)


# --- Rosenbrock ---------------------------------------------------------------------------------


def rosenbrock(p: ArrayLike, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    r""":math:`F(x, y) = (a - x)^2 + b\,(y - x^2)^2`, minimum 0 at :math:`(a, a^2)`."""
    x, y = _xy(p)
    return (a - x) ** 2 + b * (y - _square(x)) ** 2


def rosenbrock_grad(p: ArrayLike, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    r""":math:`\nabla F = \big(-2(a - x) - 4bx(y - x^2),\; 2b(y - x^2)\big)`."""
    x, y = _xy(p)
    r = y - _square(x)
    return _pair(-2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r)


def rosenbrock_hessian(p: ArrayLike, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    r""":math:`F_{xx} = 2 - 4b(y - 3x^2)`, :math:`F_{xy} = -4bx`, :math:`F_{yy} = 2b`."""
    x, y = _xy(p)
    return _hessian(2.0 - 4.0 * b * (y - 3.0 * _square(x)), -4.0 * b * x, np.full_like(x, 2.0 * b))
