r"""Slider app for gradient descent on a 2-D function: learning rate, steps and start point.

Left: contour lines of the function with the path :math:`x_0, x_1, \dots` of gradient descent.
Right: the function value :math:`F(x_t)` along the path. Two functions can be chosen:

* the cubic valley :math:`-x^3 + 100(y^2 - x)^2` (no minimum: the path slides down the valley
  :math:`x = y^2` and, as the valley narrows, becomes unstable and blows up);
* the Rosenbrock function :math:`(1 - x)^2 + 100(y - x^2)^2` (minimum 0 at (1, 1), reached
  slowly along its flat curved valley floor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from coursekit.chapters.descent import DescentResult, gradient_descent
from coursekit.display.plotting import CLASS_COLORS, grid
from coursekit.chapters.surfaces import cubic_valley, cubic_valley_grad, rosenbrock, rosenbrock_grad
from coursekit.widgets.app import SliderApp, number_text
from coursekit.widgets.frames import ALL


@dataclass(frozen=True)
class Surface:
    """A function to descend, its gradient, and how to draw it."""

    label: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    extent: tuple[float, float, float, float]
    yscale: str
    minimum: tuple[float, float] | None


SURFACES = {
    "cubic_valley": Surface(
        "cubic valley −x³ + 100(y² − x)²",
        cubic_valley,
        cubic_valley_grad,
        (-2.0, 10.0, -4.0, 4.0),
        "symlog",
        None,
    ),
    "rosenbrock": Surface(
        "Rosenbrock (1 − x)² + 100(y − x²)²",
        rosenbrock,
        rosenbrock_grad,
        (-2.0, 2.0, -1.5, 3.0),
        "log",
        (1.0, 1.0),
    ),
}

STARTS = {"(0.5, −1)": (0.5, -1.0), "(−1, 1)": (-1.0, 1.0), "(−1.5, 2)": (-1.5, 2.0)}


def _contour_values(values: np.ndarray) -> np.ndarray:
    """A monotone squashing of f, so evenly spaced levels show both the walls and the floor.

    Level sets of a strictly increasing function of f are level sets of f itself.
    """
    return np.sign(values) * np.log10(1.0 + np.abs(values))


def _widen(value: float, up: bool) -> float:
    """Move an axis limit outwards by a factor 3 (multiplicative: it suits log and symlog axes)."""
    if value == 0:
        return 0.1 if up else -0.1
    grow = (value > 0) == up
    return value * 3 if grow else value / 3


class DescentApp(SliderApp):
    """Gradient descent on :data:`SURFACES` with a log-scale learning-rate slider.

    Attributes (updated on every redraw):
        surface: the current :class:`Surface`.
        result: the :class:`coursekit.chapters.descent.DescentResult` of the run shown.
        path_line: ``Line2D`` through the iterates; loss_line: ``Line2D`` of (t, F(x_t)).
        start_marker, end_marker: ``Line2D`` with one point each; status_text: ``Text``.
        contours: name -> ``QuadContourSet`` (only the current function's is visible).
    """

    figsize = (9.0, 4.0)

    def __init__(
        self,
        function: str = "cubic_valley",
        lr: float = 3e-4,
        steps: int = 1000,
        start: str = "(0.5, −1)",
    ) -> None:
        if function not in SURFACES:
            raise ValueError(f"function must be one of {list(SURFACES)}, got {function!r}")
        if start not in STARTS:
            raise ValueError(f"start must be one of {list(STARTS)}, got {start!r}")
        self._initial = (function, float(lr), int(steps), STARTS[start])
        super().__init__()

    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        function, lr, steps, start = self._initial
        return {
            "function": widgets.Dropdown(
                options=[(s.label, name) for name, s in SURFACES.items()],
                value=function,
                description="function",
            ),
            "lr": widgets.FloatLogSlider(
                value=lr,
                base=10,
                min=-5,
                max=-2,
                step=0.1,
                description="learning rate",
                continuous_update=False,
                readout_format=".1e",
            ),
            "steps": widgets.IntSlider(
                value=steps, min=0, max=3000, step=50, description="steps", continuous_update=False
            ),
            "start": widgets.Dropdown(
                options=list(STARTS.items()), value=start, description="start"
            ),
        }

    #: The website's alt text for the figure.
    description = (
        "Contour lines of the chosen function with the path of gradient descent, "
        "and the function value along the path"
    )

    def static_grid(self) -> dict[str, Any]:
        # 16 learning rates, a fifth of a decade apart (enough to find where a run starts to
        # diverge), 7 step counts and both functions: 238 frames with the initial rate. The
        # start point stays fixed on the website.
        return {"function": ALL, "lr": 16, "steps": 7}

    def layout_states(self) -> list[dict[str, Any]]:
        # Rosenbrock's window has the wider y tick labels (-1.0), and before the first step its
        # log loss axis spans less than a decade, so minor ticks get labels too (6x10^1); 3000
        # steps put a four-digit tick label at the right end; a fast run that blows up ends its
        # loss axis at a tick, whose label sticks out above the axes.
        return [
            {"function": "rosenbrock", "steps": 0},
            {"steps": 3000},
            {"function": "rosenbrock", "lr": 10**-2.2, "steps": 50},
        ]

    def setup(self, fig: Figure) -> None:
        ax_c, ax_l = fig.subplots(1, 2, width_ratios=[1.15, 1])
        self.ax_contour, self.ax_loss = ax_c, ax_l
        self.contours = {}
        for name, surface in SURFACES.items():
            xx, yy, points = grid(surface.extent, 120)
            squashed = _contour_values(surface.f(points)).reshape(xx.shape)
            self.contours[name] = ax_c.contour(
                xx, yy, squashed, levels=25, cmap="viridis", linewidths=0.8
            )
        (self.valley_line,) = ax_c.plot([], [], ":", color="0.4", lw=1.2)
        (self.minimum_marker,) = ax_c.plot([], [], "*", color="black", ms=12, zorder=5)
        (self.path_line,) = ax_c.plot(
            [], [], "-", color=CLASS_COLORS[5], lw=1.4, marker=".", ms=3, zorder=4
        )
        (self.start_marker,) = ax_c.plot([], [], "o", color="black", ms=6, zorder=6)
        (self.end_marker,) = ax_c.plot([], [], "X", color=CLASS_COLORS[5], ms=9, zorder=6)
        ax_c.set_xlabel("$x$")
        ax_c.set_ylabel("$y$")
        (self.loss_line,) = ax_l.plot([], [], color=CLASS_COLORS[0], lw=1.8)
        ax_l.set_xlabel("step $t$")
        ax_l.set_ylabel("$F(x_t, y_t)$")
        ax_l.grid(True, alpha=0.3)
        self.status_text = ax_l.text(
            0.03,
            0.97,
            "",
            transform=ax_l.transAxes,
            va="top",
            fontsize=9,
            bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"),
        )

    def redraw(self, function: str, lr: float, steps: int, start: tuple[float, float]) -> None:
        surface = SURFACES[function]
        self.surface = surface
        for name, contour in self.contours.items():
            contour.set_visible(name == function)
        xmin, xmax, ymin, ymax = surface.extent
        self.ax_contour.set_xlim(xmin, xmax)
        self.ax_contour.set_ylim(ymin, ymax)
        self.ax_contour.set_title(surface.label, fontsize=10)
        t = (
            np.linspace(ymin, ymax, 100)
            if function == "cubic_valley"
            else np.linspace(xmin, xmax, 100)
        )
        self.valley_line.set_data(
            (t**2, t) if function == "cubic_valley" else (t, t**2)
        )  # the valley floor
        self.minimum_marker.set_data(
            ([surface.minimum[0]], [surface.minimum[1]]) if surface.minimum else ([], [])
        )

        self.result: DescentResult = gradient_descent(
            surface.grad, np.array(start, dtype=np.float64), lr, int(steps), f=surface.f
        )
        path, values = self.result.path, self.result.values
        self.path_line.set_data(path[:, 0], path[:, 1])
        self.start_marker.set_data([path[0, 0]], [path[0, 1]])
        self.end_marker.set_data([path[-1, 0]], [path[-1, 1]])

        if surface.yscale == "symlog":  # linear near 0, logarithmic for large |f| of either sign
            self.ax_loss.set_yscale("symlog", linthresh=1.0)
        else:
            self.ax_loss.set_yscale(surface.yscale)
        self.loss_line.set_data(np.arange(len(values)), values)
        # a run that blew up early is shown up to its last step, not squeezed against the left edge
        shown = self.result.steps if self.result.diverged else int(steps)
        self.ax_loss.set_xlim(0, max(shown, 1))
        finite = values[np.isfinite(values)]
        low, high = float(finite.min()), float(finite.max())
        if surface.yscale == "log":
            low = max(low, 1e-12)
        if self.result.diverged:
            # The last values are astronomically large; letting them set the scale would squash
            # the whole run before the blow-up into a flat line. Show that part: the curve exits
            # the top.
            high = min(high, 1e3 * max(abs(low), 1.0))
        self.ax_loss.set_ylim(_widen(low, up=False), _widen(high, up=True))

        x_end, y_end = path[-1]
        verdict = (
            f"DIVERGED after {self.result.steps} steps"
            if self.result.diverged
            else f"after {self.result.steps} steps"
        )
        # Numbers outside $...$: matplotlib parses every new math string afresh, some ms a line.
        self.status_text.set_text(
            f"learning rate {lr:.1e}\n{verdict}\n"
            f"$(x, y)$ = ({number_text(x_end, '.3g')}, {number_text(y_end, '.3g')})\n"
            f"$F$ = {number_text(values[-1], '.4g')}"
        )
