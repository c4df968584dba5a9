r"""Slider app for the perceptron chapter: move the weights and the bias, watch the boundary.

The app shows 2-D data of two classes, the regions :math:`g(x) > 0` (class 1) and
:math:`g(x) \le 0` (class 0) of :math:`g(x) = \theta_0 + \theta_1 x_1 + \theta_2 x_2`, the boundary
:math:`g(x) = 0`, the unit normal :math:`w/\lVert w\rVert` drawn from the middle of the visible
boundary, and rings around the misclassified points with their count.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from coursekit.data import blobs
from coursekit.chapters.discriminant import normal_vector, predict
from coursekit.display.plotting import (
    bounds,
    decision_regions,
    line_points,
    scatter_classes,
    update_decision_regions,
)
from coursekit.widgets.app import SliderApp


def _slider(description: str, value: float, low: float, high: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=0.1,
        description=description,
        continuous_update=False,
        readout_format=".1f",
    )


class PerceptronApp(SliderApp):
    """Bias and weights sliders over a labelled 2-D data set.

    Args:
        X: inputs ``(m, 2)``; by default 60 points of :func:`coursekit.data.blobs`.
        y: labels ``(m,)`` in {0, 1}.
        theta: starting ``(theta_0, theta_1, theta_2)``.

    Attributes (updated on every redraw):
        theta: the current parameters as an array, bias first.
        predictions: the class each point gets, ``step(g(x))``.
        misclassified_mask: True for points whose prediction differs from their label.
        misclassified: how many there are.
        boundary_line: the ``Line2D`` of :math:`g = 0` (empty when it misses the plot).
        normal_arrow: the ``Quiver`` holding the unit normal.
        count_text: the ``Text`` reporting the count.
    """

    figsize = (5.6, 5.0)

    def __init__(
        self,
        X: np.ndarray | None = None,
        y: np.ndarray | None = None,
        theta: tuple[float, float, float] = (0.0, 1.0, -0.5),
    ) -> None:
        if X is None or y is None:
            X, y = blobs(60, std=0.8, seed=3)
        self.X = np.asarray(X, dtype=np.float64)
        self.y = np.asarray(y).astype(np.int64)
        if self.X.ndim != 2 or self.X.shape[1] != 2 or self.y.shape != (self.X.shape[0],):
            raise ValueError(
                f"need X of shape (m, 2) and y of shape (m,), got {self.X.shape} and {self.y.shape}"
            )
        self._initial = tuple(float(t) for t in theta)
        self.extent = bounds(self.X, margin=0.8)
        super().__init__()

    def make_controls(self) -> dict[str, widgets.FloatSlider]:
        theta0, theta1, theta2 = self._initial
        return {
            "theta0": _slider("bias θ₀", theta0, -5.0, 5.0),
            "theta1": _slider("weight θ₁", theta1, -3.0, 3.0),
            "theta2": _slider("weight θ₂", theta2, -3.0, 3.0),
        }

    #: The website's alt text for the figure.
    description = (
        "The labelled points of two classes, the decision line theta_0 + theta_1 x_1 + theta_2 "
        "x_2 = 0 and the side each class is assigned to"
    )

    def static_grid(self) -> dict[str, Any]:
        # Five round values per parameter (and the initial ones): 216 frames at most.
        return {
            "theta0": [-4.0, -2.0, 0.0, 2.0, 4.0],
            "theta1": [-3.0, -1.5, 0.0, 1.5, 3.0],
            "theta2": [-3.0, -1.5, 0.0, 1.5, 3.0],
        }

    def setup(self, fig: Figure) -> None:
        ax = fig.add_subplot()
        self.ax = ax
        self.regions = decision_regions(
            ax, lambda P: np.zeros(len(P), dtype=int), self.extent, 2, steps=80, alpha=0.2
        )
        scatter_classes(ax, self.X, self.y, num_classes=2, s=28, zorder=2)
        self.ring_artist = ax.scatter(
            [],
            [],
            s=110,
            facecolors="none",
            edgecolors="#D55E00",
            linewidths=1.6,
            zorder=3,
            label="misclassified",
        )
        (self.boundary_line,) = ax.plot([], [], color="black", lw=2, label="boundary $g(x)=0$")
        self.normal_arrow = ax.quiver(
            [0.0],
            [0.0],
            [1.0],
            [0.0],
            angles="xy",
            scale_units="xy",
            scale=1.0,
            color="black",
            width=0.008,
            zorder=4,
        )
        self.count_text = ax.text(
            0.02,
            0.97,
            "",
            transform=ax.transAxes,
            va="top",
            fontsize=11,
            bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"),
        )
        xmin, xmax, ymin, ymax = self.extent
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.legend(loc="lower right", fontsize=9)
        ax.set_title(
            "Perceptron: $\\hat y = \\mathrm{step}(\\theta_0 + \\theta_1 x_1 + \\theta_2 x_2)$",
            fontsize=11,
        )

    def redraw(self, theta0: float, theta1: float, theta2: float) -> None:
        self.theta = np.array([theta0, theta1, theta2], dtype=np.float64)
        self.predictions = predict(self.theta, self.X)
        self.misclassified_mask = self.predictions != self.y
        self.misclassified = int(self.misclassified_mask.sum())
        update_decision_regions(self.regions, lambda P: predict(self.theta, P))
        self.ring_artist.set_offsets(self.X[self.misclassified_mask].reshape(-1, 2))

        xs, ys = line_points(theta0, theta1, theta2, self.extent)
        self.boundary_line.set_data(xs, ys)
        if xs.size and (theta1 or theta2):
            unit = normal_vector(self.theta, unit=True)
            self.normal_arrow.set_offsets([[xs.mean(), ys.mean()]])
            self.normal_arrow.set_UVC(unit[0], unit[1])
            self.normal_arrow.set_visible(True)
        else:
            self.normal_arrow.set_visible(False)

        m = len(self.y)
        note = "" if (theta1 or theta2) else "\n($\\theta_1 = \\theta_2 = 0$: no boundary)"
        self.count_text.set_text(f"misclassified: {self.misclassified} of {m}{note}")
