r"""Slider app: how the number of hidden units, and one weight, shape the XOR decision boundary.

For each width :math:`d_1` the app trains (once, then caches) the network
``Sequential(Linear(2, d1), ReLU(), Linear(d1, 1))`` on the XOR data with binary cross-entropy,
from the seeded initialisation ``mlp([2, d1, 1], rng=seed)``. It shades the two predicted regions
(:math:`z_2 > 0` is class 1), draws each hidden unit's switching line
:math:`w_{1,j}^\top x + b_{1,j} = 0` (where that unit's ReLU turns on; the boundary can bend only
on these lines) and reports the training accuracy.

The second slider adds :math:`\Delta` to the output weight :math:`(W_2)_{1}` of hidden unit 1,
leaving the trained network otherwise unchanged: the region where unit 1 is active is where the
boundary moves.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from coursekit.chapters.training import train
from coursekit.data import xor
from coursekit.display.plotting import (
    CLASS_COLORS,
    decision_regions,
    line_points,
    scatter_classes,
    update_decision_regions,
)
from coursekit.nn import Sequential, mlp
from coursekit.widgets.app import SliderApp, number_text
from coursekit.widgets.frames import ALL

EXTENT = (-2.2, 2.2, -2.2, 2.2)
MAX_HIDDEN = 6


class HiddenLayerApp(SliderApp):
    """Sliders: the number of hidden units (1 to 6) and a change of one output weight.

    Args:
        X, y: training data (the XOR set of :func:`coursekit.data.xor` by default).
        seed: seed of the initial weights of every width.
        epochs, lr: full-batch gradient descent settings of the training.
        hidden: initial number of hidden units.

    Attributes (updated on every redraw):
        model: the network shown (the trained one with the weight change applied; a copy).
        trained_weight: the trained output weight of hidden unit 1 for the current width.
        accuracy: training accuracy of :attr:`model`.
        unit_lines: one ``Line2D`` per possible hidden unit (empty when the unit is not there).
        accuracy_text: ``Text`` with the width, the weight and the accuracy.
    """

    figsize = (5.6, 5.4)
    description = (
        "The XOR points, the two regions the trained network predicts, the switching line of "
        "each hidden unit and the training accuracy"
    )

    def __init__(
        self,
        X: np.ndarray | None = None,
        y: np.ndarray | None = None,
        seed: int = 0,
        epochs: int = 300,
        lr: float = 0.5,
        hidden: int = 3,
    ) -> None:
        if X is None or y is None:
            X, y = xor(200, noise=0.25, seed=0)
        self.X, self.y = np.asarray(X, dtype=np.float64), np.asarray(y)
        if self.X.ndim != 2 or self.X.shape[1] != 2:
            raise ValueError(
                f"HiddenLayerApp needs 2-D inputs X of shape (n, 2), got {self.X.shape}"
            )
        if not 1 <= hidden <= MAX_HIDDEN:
            raise ValueError(f"hidden must be between 1 and {MAX_HIDDEN}, got {hidden}")
        self.seed, self.epochs, self.lr = seed, epochs, lr
        self._initial_hidden = int(hidden)
        self._trained: dict[int, Sequential] = {}
        super().__init__()

    def trained(self, hidden: int) -> Sequential:
        """The network of width ``hidden`` after training (computed once, then cached)."""
        if hidden not in self._trained:
            model = mlp([2, hidden, 1], "relu", rng=self.seed)
            train(model, self.X, self.y, loss="bce", lr=self.lr, epochs=self.epochs)
            self._trained[hidden] = model
        return self._trained[hidden]

    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        return {
            "hidden": widgets.IntSlider(
                value=self._initial_hidden,
                min=1,
                max=MAX_HIDDEN,
                step=1,
                description="hidden units",
                continuous_update=False,
                style={"description_width": "initial"},
            ),
            "delta": widgets.FloatSlider(
                value=0.0,
                min=-3.0,
                max=3.0,
                step=0.25,
                description="change of (W₂)₁₁",
                continuous_update=False,
                readout_format="+.2f",
                style={"description_width": "initial"},
            ),
        }

    def setup(self, fig: Figure) -> None:
        ax = fig.add_subplot()
        self.ax = ax
        self.regions = decision_regions(
            ax, lambda P: np.zeros(len(P), dtype=int), EXTENT, 2, steps=120, alpha=0.25
        )
        scatter_classes(ax, self.X, self.y, s=14, zorder=3)
        self.unit_lines = []
        for j in range(MAX_HIDDEN):
            style = (
                {"color": "#CC79A7", "lw": 2.2}
                if j == 0
                else {"color": "0.35", "lw": 1.0, "ls": "--"}
            )
            (line,) = ax.plot([], [], zorder=2, **style)
            self.unit_lines.append(line)
        self.accuracy_text = ax.text(
            0.02,
            0.98,
            "",
            transform=ax.transAxes,
            va="top",
            fontsize=9,
            bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": "none"},
        )
        handles = [
            Patch(facecolor=CLASS_COLORS[0], alpha=0.5, label="predicted class 0"),
            Patch(facecolor=CLASS_COLORS[1], alpha=0.5, label="predicted class 1"),
            Line2D([], [], color="#CC79A7", lw=2.2, label="unit 1 switches on"),
            Line2D([], [], color="0.35", lw=1.0, ls="--", label="other units switch on"),
        ]
        ax.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=2,
            fontsize=8,
            frameon=False,
        )
        ax.set_xlim(EXTENT[0], EXTENT[1])
        ax.set_ylim(EXTENT[2], EXTENT[3])
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")

    def static_grid(self) -> dict[str, Any]:
        # Every width (each trained once, then reused) and the weight change in steps of 0.5:
        # 6 x 13 = 78 frames.
        return {"hidden": ALL, "delta": 13}

    def redraw(self, hidden: int, delta: float) -> None:
        base = self.trained(int(hidden))
        first, relu, second = base[0], base[1], base[2]
        # A shallow copy with its own output layer, so the cached trained network is never changed.
        output = type(second).from_weights(second.W, second.b)
        output.W[0, 0] += delta
        self.model = Sequential(first, relu, output)
        self.trained_weight = float(second.W[0, 0])
        update_decision_regions(self.regions, lambda P: (self.model(P)[:, 0] > 0).astype(int))
        for j, line in enumerate(self.unit_lines):
            if j < hidden:
                line.set_data(*line_points(first.b[j], first.W[j, 0], first.W[j, 1], EXTENT))
            else:
                line.set_data([], [])
        self.accuracy = float(np.mean((self.model(self.X)[:, 0] > 0).astype(int) == self.y))
        weight = self.trained_weight + delta
        self.accuracy_text.set_text(
            f"{hidden} hidden unit{'s' if hidden > 1 else ''}\n"
            f"(W₂)₁₁: {number_text(self.trained_weight, '.2f')} {'+' if delta >= 0 else '−'} "
            f"{abs(delta):.2f} = {number_text(weight, '.2f')}\n"
            f"training accuracy {100 * self.accuracy:.1f} %"
        )
