r"""Slider app for the backpropagation chapter: how big is the gradient at each layer?

A deep MLP (``depth`` hidden layers of 32 units) is built with
:func:`coursekit.chapters.gradient_flow.deep_network` and one backward pass of the binary
cross-entropy on the two-moons data gives :math:`\lVert \partial L/\partial W_l \rVert` for every
Linear layer :math:`l = 1 .. \text{depth}+1`, plotted on a log scale. With sigmoid hidden units the
norms fall by a roughly constant factor per layer towards the input (each layer multiplies by
:math:`\sigma' \le 1/4`); with ReLU and the default He initialisation they stay level; scaling the
initial weights by :math:`c` moves the whole ReLU line up or down by about :math:`c^{\text{depth}}`.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from coursekit import data
from coursekit.chapters.gradient_flow import deep_network, layer_gradient_norms
from coursekit.widgets.app import SliderApp
from coursekit.widgets.frames import ALL

MAX_DEPTH = 12
WIDTH = 32
ACTIVATION_COLORS = {"sigmoid": "#D55E00", "relu": "#0072B2", "tanh": "#009E73"}


def gradient_norm_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The batch the app differentiates on: two moons (``noise=0.1``), labels 0/1."""
    return data.moons(n=n, noise=0.1, seed=seed)


class GradientNormApp(SliderApp):
    """Per-layer gradient norms of a deep MLP at initialisation.

    Controls: ``depth`` (hidden layers, 1 to 12), ``activation`` (sigmoid, relu, tanh) and
    ``init_scale`` (factor on the He-initialised weights, log scale from 1/8 to 4).

    Attributes (updated on every redraw):
        norms: :math:`\\lVert\\partial L/\\partial W_l\\rVert` for ``l = 1 .. depth + 1``: the
            y-data of ``line``.
        ratio: ``norms[0] / norms[-1]``, first layer over output layer.
        model: the network the norms belong to (weights seeded with ``seed``).
        line: the ``Line2D`` of the norms; ``reference``: the ReLU/He line at the same depth,
            whose y-data are ``reference_norms``.
    """

    figsize = (7.0, 4.0)

    def __init__(
        self, depth: int = 8, activation: str = "sigmoid", init_scale: float = 1.0, seed: int = 0
    ) -> None:
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
        if activation not in ACTIVATION_COLORS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATION_COLORS)}, got {activation!r}"
            )
        self._initial = (int(depth), activation, float(init_scale))
        self.seed = int(seed)
        self.X, self.y = gradient_norm_data(seed=self.seed)
        super().__init__()

    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        depth, activation, init_scale = self._initial
        return {
            "depth": widgets.IntSlider(
                value=depth,
                min=1,
                max=MAX_DEPTH,
                description="hidden layers",
                continuous_update=False,
            ),
            "activation": widgets.Dropdown(
                options=list(ACTIVATION_COLORS), value=activation, description="activation"
            ),
            "init_scale": widgets.FloatLogSlider(
                value=init_scale,
                base=2,
                min=-3,
                max=2,
                step=0.25,
                description="init scale",
                continuous_update=False,
            ),
        }

    #: The website's alt text for the figure.
    description = "Gradient norm of each layer of a deep network at initialisation, on a log scale"

    def static_grid(self) -> dict[str, Any]:
        # 7 depths x 3 activations x 6 initial scales (powers of 2): 126 frames.
        return {
            "depth": [1, 2, 4, 6, 8, 10, 12],
            "activation": ALL,
            "init_scale": [0.125, 0.25, 0.5, 1.0, 2.0, 4.0],
        }

    def layout_states(self) -> list[dict[str, Any]]:
        # Vanishing sigmoid gradients put two-digit exponents (10^-16) on the y axis.
        return [{"depth": 7, "activation": "sigmoid", "init_scale": 0.125}]

    def norms_for(self, depth: int, activation: str, init_scale: float) -> np.ndarray:
        """Gradient norms per Linear layer for these settings (what the line shows)."""
        model = deep_network(depth, activation, width=WIDTH, init_scale=init_scale, rng=self.seed)
        return layer_gradient_norms(model, self.X, self.y, loss="bce")

    def setup(self, fig: Figure) -> None:
        self.ax = fig.subplots()
        (self.reference,) = self.ax.plot(
            [], [], color="grey", linestyle=":", marker=".", label="ReLU, He init (scale 1)"
        )
        (self.line,) = self.ax.plot([], [], marker="o", linewidth=2)
        self.ax.set_yscale("log")
        self.ax.set_xlim(0.5, MAX_DEPTH + 1.5)
        self.ax.set_xticks(range(1, MAX_DEPTH + 2))
        self.ax.set_xlabel("Linear layer $l$ (1 = next to the input)")
        self.ax.set_ylabel(r"$\|\partial L / \partial W_l\|$")
        self.ax.grid(True, which="major", alpha=0.3)
        self.ax.legend(loc="lower right", fontsize=8)

    def redraw(self, **values: Any) -> None:
        depth, activation, init_scale = (
            int(values["depth"]),
            values["activation"],
            float(values["init_scale"]),
        )
        self.model = deep_network(
            depth, activation, width=WIDTH, init_scale=init_scale, rng=self.seed
        )
        self.norms = layer_gradient_norms(self.model, self.X, self.y, loss="bce")
        self.ratio = float(self.norms[0] / self.norms[-1]) if self.norms[-1] > 0 else float("nan")
        layers = np.arange(1, depth + 2)
        # A norm of exactly 0 (every unit of a layer dead) cannot sit on a log axis; leave a gap.
        shown = np.where(self.norms > 0, self.norms, np.nan)
        self.line.set_data(layers, shown)
        self.line.set_color(ACTIVATION_COLORS[activation])
        self.line.set_label(f"{activation}, init scale {init_scale:.3g}")
        self.reference_norms = self.norms_for(depth, "relu", 1.0)
        self.reference.set_data(layers, self.reference_norms)
        both = np.concatenate([self.norms, self.reference_norms])
        both = both[both > 0]
        # At least four decades, so a flat line looks flat and a falling one clearly falls.
        low, high = both.min() / 3, both.max() * 3
        if high / low < 1e4:
            middle = np.sqrt(low * high)
            low, high = middle / 1e2, middle * 1e2
        self.ax.set_ylim(low, high)
        self.ax.legend(loc="lower right", fontsize=8)
        self.ax.set_title(
            f"{depth} hidden {activation} layers: first / last layer gradient = {self.ratio:.2e}",
            fontsize=10,
        )
