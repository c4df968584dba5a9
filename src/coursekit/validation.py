"""Input checks shared by coursekit: bad input gets an error that names the problem.

* :func:`is_real_number`, :func:`is_integer`: the one definition of "a number" and "a whole
  number" (a bool is neither: ``True`` passed as a count or a rate is a slip, not 1);
* :func:`as_real_number`: one real number as a float (the scalar engine's ``Value``);
* :func:`as_float_array`: array-like numbers as a float array, so that a list, a scalar or an
  integer array all work;
* :func:`require_same_shape`, :func:`require_positive_number`, :func:`require_count`: raise a
  ValueError that names the argument and shows what it got (both shapes, for a mismatch,
  instead of a silent broadcast into a wrong answer).
"""

from __future__ import annotations

import numbers
from typing import Any, TypeGuard

import numpy as np


def is_real_number(x: object) -> TypeGuard[float | np.integer | np.floating]:
    """Whether ``x`` is one real number: an int, a float or a NumPy scalar of either, not a bool.

    A bool is an int to Python, but ``True`` passed as a number is almost certainly a slip.
    """
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def is_integer(x: object) -> TypeGuard[int | np.integer]:
    """Whether ``x`` is a whole number of an integer type (int or a NumPy integer), not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def as_real_number(x: object, owner: str) -> float:
    """``x`` as a Python float, for an ``owner`` (a class name) that holds a single real number.

    Accepts what :func:`is_real_number` accepts and single-entry integer or float arrays.

    Raises:
        TypeError: naming what was passed instead: a bool, a str, None, a longer array.
    """
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{owner} needs a real number, got {type(x).__name__} {x!r}")
    if is_real_number(x):
        return float(x)
    if isinstance(x, np.ndarray):
        if x.size == 1 and x.dtype.kind in "iuf":
            return float(x.reshape(()))
        raise TypeError(
            f"{owner} holds a single number, got a numpy.ndarray of shape {x.shape} and dtype "
            f"{x.dtype}; make one {owner} per entry"
        )
    raise TypeError(f"{owner} needs a real number (int or float), got {type(x).__name__}")


def as_float_array(x: Any, name: str) -> np.ndarray:
    """Return ``x`` as a floating-point array (float64 unless it already is a float type).

    Raises:
        TypeError: if ``x`` cannot be read as numbers (strings, objects, None).
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(
            f"{name} must be array-like numbers, got {type(x).__name__}: {exc}"
        ) from exc
    if arr.dtype.kind in "fc":
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise TypeError(f"{name} must contain numbers, got dtype {arr.dtype}")


def require_same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    """Raise a ValueError naming both shapes unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{a_name} and {b_name} must have the same shape, got {a_name}.shape={a.shape} "
            f"and {b_name}.shape={b.shape}"
        )


def require_positive_number(value: Any, name: str) -> None:
    """Raise a ValueError unless ``value`` is a finite real number above 0 (a bool is not)."""
    if not (is_real_number(value) and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def require_count(value: Any, name: str) -> None:
    """Raise a ValueError unless ``value`` is a whole number >= 0 (a bool or a float is not)."""
    if not is_integer(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
