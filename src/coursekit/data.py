"""Seeded two-dimensional toy datasets, generated in code (nothing is downloaded).

Every generator returns ``(X, y)`` with ``X`` a float64 array of shape ``(n, 2)`` (one point per
row) and ``y`` an int64 array of shape ``(n,)`` with class labels ``0 .. K-1``. The classes are as
balanced as ``n`` allows (sizes differ by at most one) and the rows are shuffled, so any slice is
a fair mini-batch. The same ``seed`` always gives the same data.

=============  =====================================================  ===================
dataset        looks like                                             linearly separable?
=============  =====================================================  ===================
``blobs``      round Gaussian clouds around points on a circle        yes (default settings)
``xor``        four clouds at (+-1, +-1); opposite corners share a    no
               class
``moons``      two interleaving half circles                          no
``spirals``    ``k`` arms winding out from the origin                 no
=============  =====================================================  ===================
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from coursekit.validation import is_integer, is_real_number

Seed = int | np.random.Generator | None


def _rng(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or is_integer(seed):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")


def _check_int(value: int | np.integer, name: str, minimum: int) -> int:
    if not is_integer(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_scale(value: float, name: str, allow_zero: bool = True) -> float:
    if not is_real_number(value):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return float(value)


def _split(n: int, parts: int) -> list[int]:
    """Sizes of ``parts`` groups totalling ``n`` that differ by at most one."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def _shuffled(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order].astype(np.float64), y[order].astype(np.int64)


def blobs(
    n: int = 200,
    centers: int | ArrayLike = 2,
    std: float = 0.5,
    radius: float = 2.5,
    seed: Seed = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clouds, one per class.

    Class ``j`` is drawn from a round normal distribution with standard deviation ``std`` around
    its centre. With an integer ``centers = K`` the centres sit evenly on a circle of ``radius``
    around the origin, the first at angle 45 degrees; for two classes that is (1.77, 1.77) and
    (-1.77, -1.77). With the defaults the clouds are 10 standard deviations apart, so the classes
    are linearly separable (the perpendicular bisector of the centres separates them).

    Args:
        n: total number of points (at least the number of classes).
        centers: number of classes ``K >= 2``, or explicit centres as a ``(K, 2)`` array.
        std: standard deviation of each cloud (> 0).
        radius: distance of the automatic centres from the origin (> 0).
        seed: int seed or Generator.

    Returns:
        ``(X, y)``: ``X`` float64 ``(n, 2)``, ``y`` int64 ``(n,)`` in ``0 .. K-1``.
    """
    std = _check_scale(std, "std", allow_zero=False)
    radius = _check_scale(radius, "radius", allow_zero=False)
    if is_integer(centers):
        k = _check_int(centers, "centers", 2)
        angles = np.pi / 4 + 2 * np.pi * np.arange(k) / k
        means = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        try:
            means = np.asarray(centers, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"centers must be an int or a (K, 2) array of numbers, got {centers!r}"
            ) from None
        if means.ndim != 2 or means.shape[1] != 2 or means.shape[0] < 2:
            raise ValueError(f"centers must have shape (K, 2) with K >= 2, got shape {means.shape}")
        k = means.shape[0]
    n = _check_int(n, "n", k)
    rng = _rng(seed)
    sizes = _split(n, k)
    y = np.repeat(np.arange(k), sizes)
    X = means[y] + std * rng.standard_normal((n, 2))
    return _shuffled(X, y, rng)


def xor(n: int = 200, noise: float = 0.25, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: four clouds at the corners (+-1, +-1) of a square.

    Points near (1, 1) and (-1, -1) are class 0, points near (1, -1) and (-1, 1) class 1: the
    label is 1 exactly when the two coordinates of the *corner* have opposite signs (an exclusive
    or of "x1 > 0" and "x2 > 0"). No straight line separates the classes; one hidden layer can.

    Args:
        n: total number of points (at least 4, one per corner).
        noise: standard deviation of the Gaussian spread around each corner (>= 0). Labels come
            from the corner, so with a large spread clouds overlap and some points sit on the
            "wrong" side.
        seed: int seed or Generator.
    """
    n = _check_int(n, "n", 4)
    noise = _check_scale(noise, "noise")
    rng = _rng(seed)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    corner_labels = np.array([0, 0, 1, 1])
    # Split n between the classes first, then each class between its two corners, so the classes
    # stay balanced for every n.
    class_sizes = _split(n, 2)
    sizes = _split(class_sizes[0], 2) + _split(class_sizes[1], 2)
    which = np.repeat(np.arange(4), sizes)
    X = corners[which] + noise * rng.standard_normal((n, 2))
    return _shuffled(X, corner_labels[which], rng)


def moons(n: int = 200, noise: float = 0.1, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles of radius 1.

    Class 0 is the upper arc :math:`(\\cos t, \\sin t)` and class 1 the lower arc
    :math:`(1 - \\cos t, 0.5 - \\sin t)`, for :math:`t` evenly spaced in :math:`[0, \\pi]`; each arc
    reaches into the hollow of the other. Gaussian noise with standard deviation ``noise`` is
    added to both coordinates. The boundary must bend, so a linear classifier makes mistakes
    near the tips.

    Args:
        n: total number of points (at least 2).
        noise: standard deviation of the noise (>= 0).
        seed: int seed or Generator.
    """
    n = _check_int(n, "n", 2)
    noise = _check_scale(noise, "noise")
    rng = _rng(seed)
    n0, n1 = _split(n, 2)
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(X, y, rng)


def spirals(
    n: int = 300, k: int = 3, noise: float = 0.2, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` spiral arms winding out from the origin, one class per arm.

    A point of arm ``j`` at radius :math:`r \\in (0, 1]` has angle
    :math:`2\\pi j/k + \\tfrac{3\\pi}{2} r + \\varepsilon` (so each arm turns through three quarters
    of a circle), with :math:`\\varepsilon \\sim N(0, \\text{noise}^2)` in radians. The radii are
    evenly spaced. Separating the arms needs a boundary that winds with them.

    Args:
        n: total number of points (at least ``k``), split evenly between the arms.
        k: number of arms = classes (at least 2).
        noise: standard deviation of the angular jitter in radians (>= 0).
        seed: int seed or Generator.
    """
    k = _check_int(k, "k", 2)
    n = _check_int(n, "n", k)
    noise = _check_scale(noise, "noise")
    rng = _rng(seed)
    sizes = _split(n, k)
    y = np.repeat(np.arange(k), sizes)
    r = np.concatenate([np.linspace(1.0 / m, 1.0, m) for m in sizes])  # skip r = 0, where arms meet
    angle = 2 * np.pi * y / k + 1.5 * np.pi * r + noise * rng.standard_normal(n)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return _shuffled(X, y, rng)


def to_pm1(y: ArrayLike) -> np.ndarray:
    """Map labels {0, 1} to {-1, +1} (0 -> -1), the convention of the perceptron rule.

    Raises:
        ValueError: if ``y`` holds anything other than 0 and 1.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"labels must be numbers, got dtype {y.dtype}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"to_pm1 expects labels 0 and 1, got values {np.unique(y)[:10].tolist()}")
    return np.where(y == 1, 1, -1).astype(np.int64)


def train_test_split(
    X: ArrayLike, y: ArrayLike, test_fraction: float = 0.25, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the rows and hold out a fraction of them for testing.

    The test set gets ``round(test_fraction * n)`` rows (at least one), the training set the
    rest (at least one).

    Returns:
        ``(X_train, X_test, y_train, y_test)``.

    Raises:
        ValueError: if ``X`` and ``y`` have different numbers of rows, ``test_fraction`` is not
            strictly between 0 and 1, or there are too few rows to give both sets one.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(
            "X and y must have the same number of rows, "
            f"got X.shape={X.shape} and y.shape={y.shape}"
        )
    if not is_real_number(test_fraction):
        raise TypeError(f"test_fraction must be a number, got {type(test_fraction).__name__}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    n = X.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 rows to split into a training and a test set, got {n}")
    n_test = min(max(1, round(test_fraction * n)), n - 1)
    order = _rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
