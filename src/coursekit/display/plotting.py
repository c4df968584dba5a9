"""Small plotting helpers shared by the chapters and the slider apps.

They draw on a given ``Axes`` and return the artists they made, so a slider app can create them
once and update them later instead of clearing the axes.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import ListedColormap
from matplotlib.image import AxesImage
from matplotlib.legend import Legend
from matplotlib.lines import Line2D

# Colour-blind-safe class colours (Okabe-Ito), used for points and, lightened, for regions.
CLASS_COLORS = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
]


def class_cmap(num_classes: int, alpha: float = 1.0) -> ListedColormap:
    """A discrete colormap with one colour per class (``alpha`` < 1 lightens region plots)."""
    if not 1 <= num_classes <= len(CLASS_COLORS):
        raise ValueError(
            f"num_classes must be between 1 and {len(CLASS_COLORS)}, got {num_classes}"
        )
    return ListedColormap(CLASS_COLORS[:num_classes], name=f"classes{num_classes}")


def bounds(X: np.ndarray, margin: float = 0.5) -> tuple[float, float, float, float]:
    """``(xmin, xmax, ymin, ymax)`` of 2-D points, widened by ``margin`` on every side."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got shape {X.shape}")
    return (
        X[:, 0].min() - margin,
        X[:, 0].max() + margin,
        X[:, 1].min() - margin,
        X[:, 1].max() + margin,
    )


def grid(
    extent: tuple[float, float, float, float], steps: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``steps x steps`` grid over ``extent``: ``(xx, yy, points)``, points (steps^2, 2)."""
    xmin, xmax, ymin, ymax = extent
    xx, yy = np.meshgrid(np.linspace(xmin, xmax, steps), np.linspace(ymin, ymax, steps))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def scatter_classes(
    ax: Axes, X: np.ndarray, y: np.ndarray, num_classes: int | None = None, **kwargs
) -> PathCollection:
    """Scatter 2-D points coloured by integer class label; returns the collection."""
    y = np.asarray(y).astype(int)
    k = num_classes if num_classes is not None else int(y.max()) + 1
    kwargs.setdefault("s", 18)
    kwargs.setdefault("edgecolors", "white")
    kwargs.setdefault("linewidths", 0.5)
    return ax.scatter(X[:, 0], X[:, 1], c=y, cmap=class_cmap(k), vmin=-0.5, vmax=k - 0.5, **kwargs)


def class_legend(
    ax: Axes, num_classes: int, labels: Sequence[str] | None = None, **kwargs
) -> Legend:
    """A legend with one coloured marker per class, in the colours of :func:`scatter_classes`.

    Region plots shade the plane in the class colours; this legend says which colour is which
    class. ``labels`` defaults to "class 0", "class 1", ...; ``kwargs`` go to ``ax.legend``.

    Raises:
        ValueError: if ``labels`` does not name exactly ``num_classes`` classes.
    """
    cmap = class_cmap(num_classes)
    names = [f"class {k}" for k in range(num_classes)] if labels is None else list(labels)
    if len(names) != num_classes:
        raise ValueError(f"labels must name {num_classes} classes, got {len(names)}: {names}")
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=6,
            markerfacecolor=cmap(k),
            markeredgecolor="white",
            label=name,
        )
        for k, name in enumerate(names)
    ]
    kwargs.setdefault("fontsize", 8)
    kwargs.setdefault("loc", "lower right")
    kwargs.setdefault("framealpha", 0.8)
    return ax.legend(handles=handles, **kwargs)


def decision_regions(
    ax: Axes,
    predict: Callable[[np.ndarray], np.ndarray],
    extent: tuple[float, float, float, float],
    num_classes: int,
    steps: int = 200,
    alpha: float = 0.25,
) -> AxesImage:
    """Shade the plane by the class ``predict`` gives each grid point.

    ``predict`` maps points of shape (n, 2) to integer labels of shape (n,). Returns the image,
    whose data can later be replaced with :func:`update_decision_regions`.
    """
    image = ax.imshow(
        _label_grid(predict, extent, steps),
        origin="lower",
        extent=extent,
        cmap=class_cmap(num_classes),
        vmin=-0.5,
        vmax=num_classes - 0.5,
        alpha=alpha,
        aspect="auto",
        interpolation="nearest",
        zorder=0,
    )
    return image


def update_decision_regions(
    image: AxesImage, predict: Callable[[np.ndarray], np.ndarray], steps: int | None = None
) -> None:
    """Recompute the labels of an image made by :func:`decision_regions` in place."""
    extent = tuple(image.get_extent())
    size = steps if steps is not None else image.get_array().shape[0]
    image.set_data(_label_grid(predict, extent, size))


def _label_grid(predict: Callable[[np.ndarray], np.ndarray], extent, steps: int) -> np.ndarray:
    _, _, points = grid(extent, steps)
    labels = np.asarray(predict(points))
    if labels.shape != (points.shape[0],):
        raise ValueError(
            f"predict must return labels of shape ({points.shape[0]},), got {labels.shape}"
        )
    return labels.reshape(steps, steps)


def line_points(
    theta0: float, theta1: float, theta2: float, extent
) -> tuple[np.ndarray, np.ndarray]:
    """Two end points of the line ``theta0 + theta1*x1 + theta2*x2 = 0`` clipped to ``extent``.

    Returns ``(xs, ys)``, each of length 2, or empty arrays when the line misses the box or
    ``theta1 = theta2 = 0`` (then there is no boundary: g is constant).
    """
    xmin, xmax, ymin, ymax = extent
    candidates = []
    if theta2 != 0:
        for x in (xmin, xmax):
            candidates.append((x, -(theta0 + theta1 * x) / theta2))
    if theta1 != 0:
        for y in (ymin, ymax):
            candidates.append((-(theta0 + theta2 * y) / theta1, y))
    eps = 1e-9
    inside = sorted(
        {
            (round(x, 12), round(y, 12))
            for x, y in candidates
            if xmin - eps <= x <= xmax + eps and ymin - eps <= y <= ymax + eps
        }
    )
    if len(inside) < 2:
        return np.array([]), np.array([])
    (x0, y0), (x1, y1) = inside[0], inside[-1]
    return np.array([x0, x1]), np.array([y0, y1])
