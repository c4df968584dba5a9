r"""Slider app for the geometry of a linear discriminant
:math:`g(x) = \theta_0 + \theta_1 x_1 + \theta_2 x_2`.

It shades the regions :math:`g > 0` and :math:`g < 0`, draws the boundary :math:`g = 0`, the unit
normal :math:`w/\lVert w\rVert` (:math:`w = (\theta_1, \theta_2)`) at the foot of the perpendicular
from the origin, that perpendicular, and reports the distance
:math:`\lvert\theta_0\rvert/\lVert w\rVert`.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from coursekit.chapters.discriminant import (
    boundary_distance,
    foot_of_perpendicular,
    normal_vector,
    predict,
)
from coursekit.display.plotting import decision_regions, line_points, update_decision_regions
from coursekit.widgets.app import SliderApp, number_text

EXTENT = (-4.0, 4.0, -4.0, 4.0)


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


class DiscriminantApp(SliderApp):
    """Sliders for theta_0, theta_1, theta_2 on the square [-4, 4]^2.

    Attributes (updated on every redraw):
        theta: current parameters, bias first.
        distance: :math:`\\lvert\\theta_0\\rvert/\\lVert w\\rVert`, or ``None`` when w = 0.
        foot: the boundary point closest to the origin, or ``None`` when w = 0.
        boundary_line, perpendicular_line: ``Line2D`` artists.
        foot_marker: ``Line2D`` with one point.
        normal_arrow: ``Quiver`` with the unit normal at the foot; distance_text: ``Text``.
    """

    figsize = (5.4, 5.2)

    def __init__(self, theta: tuple[float, float, float] = (1.0, 2.0, 3.0)) -> None:
        self._initial = tuple(float(t) for t in theta)
        super().__init__()

    def make_controls(self) -> dict[str, widgets.FloatSlider]:
        theta0, theta1, theta2 = self._initial
        return {
            "theta0": _slider("θ₀", theta0, -4.0, 4.0),
            "theta1": _slider("θ₁", theta1, -3.0, 3.0),
            "theta2": _slider("θ₂", theta2, -3.0, 3.0),
        }

    #: The website's alt text for the figure.
    description = (
        "The line g(x) = 0 of the linear discriminant on the square [-4, 4]^2, "
        "its normal vector and the two half-planes"
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
            ax, lambda P: np.zeros(len(P), dtype=int), EXTENT, 2, steps=80, alpha=0.22
        )
        ax.axhline(0, color="0.6", lw=0.8, zorder=1)
        ax.axvline(0, color="0.6", lw=0.8, zorder=1)
        ax.plot([0], [0], "o", color="black", ms=5, zorder=5)
        (self.boundary_line,) = ax.plot([], [], color="black", lw=2, label="$g(x) = 0$")
        (self.perpendicular_line,) = ax.plot(
            [], [], "--", color="#D55E00", lw=1.8, label="distance to origin"
        )
        (self.foot_marker,) = ax.plot(
            [], [], "s", color="#D55E00", ms=7, zorder=5, label="closest point $x^\\star$"
        )
        self.normal_arrow = ax.quiver(
            [0.0],
            [0.0],
            [1.0],
            [0.0],
            angles="xy",
            scale_units="xy",
            scale=1.0,
            color="#009E73",
            width=0.01,
            zorder=6,
            label="unit normal $w/\\|w\\|$",
        )
        self.distance_text = ax.text(
            0.02,
            0.98,
            "",
            transform=ax.transAxes,
            va="top",
            fontsize=10,
            bbox=dict(facecolor="white", alpha=0.9, edgecolor="none"),
        )
        self.side_text = ax.text(
            0.98,
            0.02,
            "blue: $g(x) \\leq 0$   orange: $g(x) > 0$",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=9,
            bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"),
        )
        ax.set_xlim(EXTENT[0], EXTENT[1])
        ax.set_ylim(EXTENT[2], EXTENT[3])
        ax.set_aspect("equal")  # without it the normal would not look perpendicular
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.legend(loc="upper right", fontsize=8)

    def redraw(self, theta0: float, theta1: float, theta2: float) -> None:
        self.theta = np.array([theta0, theta1, theta2], dtype=np.float64)
        update_decision_regions(self.regions, lambda P: predict(self.theta, P))
        if theta1 == 0 and theta2 == 0:
            self.distance = None
            self.foot = None
            self.boundary_line.set_data([], [])
            self.perpendicular_line.set_data([], [])
            self.foot_marker.set_data([], [])
            self.normal_arrow.set_visible(False)
            self.distance_text.set_text(f"$w = 0$: $g(x) = {theta0:.1f}$ everywhere, no boundary")
            return
        self.distance = boundary_distance(self.theta)
        self.foot = foot_of_perpendicular(self.theta)
        unit = normal_vector(self.theta, unit=True)
        self.boundary_line.set_data(*line_points(theta0, theta1, theta2, EXTENT))
        self.perpendicular_line.set_data([0.0, self.foot[0]], [0.0, self.foot[1]])
        self.foot_marker.set_data([self.foot[0]], [self.foot[1]])
        self.normal_arrow.set_offsets([self.foot])
        self.normal_arrow.set_UVC(unit[0], unit[1])
        self.normal_arrow.set_visible(True)
        norm = float(np.hypot(theta1, theta2))
        # Numbers outside $...$: matplotlib parses every new math string afresh, some ms a line.
        self.distance_text.set_text(
            f"$\\|w\\|$ = {norm:.3f}\n"
            f"distance $|\\theta_0| / \\|w\\|$ = {self.distance:.3f}\n"
            f"$x^\\star$ = ({number_text(self.foot[0], '.3f')}, {number_text(self.foot[1], '.3f')})"
        )
