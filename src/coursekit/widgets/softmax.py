r"""Slider app for the softmax chapter: logits and temperature against class probabilities.

Three logit sliders and a temperature slider feed :math:`p = \operatorname{softmax}(z / T)`,
shown as a bar chart. A chosen true class :math:`y` gives the categorical cross-entropy
:math:`L = -\log p_y` and its gradient with respect to the scaled logits :math:`u = z/T`,
:math:`\partial L/\partial u = p - t` (:math:`t` the one-hot target), shown as a second bar chart.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from coursekit.activations import softmax
from coursekit.losses import cce_with_logits, cce_with_logits_grad, one_hot
from coursekit.display.plotting import CLASS_COLORS
from coursekit.widgets.app import SliderApp
from coursekit.widgets.frames import ALL

NUM_CLASSES = 3


class SoftmaxApp(SliderApp):
    """Bars of ``softmax(z / T)`` and of the loss gradient ``p - onehot(y)``.

    Controls: ``z0``, ``z1``, ``z2`` (logits), ``temperature`` (:math:`T > 0`, log scale) and
    ``true_class``.

    Attributes (updated on every redraw):
        logits: the logits :math:`z`, shape ``(3,)``.
        temperature: :math:`T`.
        true_class: :math:`y`.
        probs: :math:`p = \\operatorname{softmax}(z/T)`, the bar heights of the left panel.
        loss: :math:`-\\log p_y` (computed from the logits, so it stays finite).
        grad: :math:`p - t`, the bar heights of the right panel.
        prob_bars, grad_bars: the two ``BarContainer`` artists.
    """

    figsize = (8.0, 3.6)

    def __init__(
        self,
        logits: tuple[float, float, float] = (2.0, 1.0, 0.1),
        temperature: float = 1.0,
        true_class: int = 0,
    ) -> None:
        if len(logits) != NUM_CLASSES:
            raise ValueError(f"logits must have {NUM_CLASSES} entries, got {len(logits)}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if true_class not in range(NUM_CLASSES):
            raise ValueError(f"true_class must be one of 0..{NUM_CLASSES - 1}, got {true_class}")
        self._initial = (tuple(float(v) for v in logits), float(temperature), int(true_class))
        super().__init__()

    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        logits, temperature, true_class = self._initial
        controls: dict[str, widgets.ValueWidget] = {
            f"z{k}": widgets.FloatSlider(
                value=logits[k],
                min=-8.0,
                max=8.0,
                step=0.1,
                description=f"z{k}",
                continuous_update=False,
            )
            for k in range(NUM_CLASSES)
        }
        controls["temperature"] = widgets.FloatLogSlider(
            value=temperature,
            base=10,
            min=-2,
            max=2,
            step=0.05,
            description="T",
            continuous_update=False,
        )
        controls["true_class"] = widgets.Dropdown(
            options=[(f"class {k}", k) for k in range(NUM_CLASSES)],
            value=true_class,
            description="true y",
        )
        return controls

    def static_grid(self) -> dict[str, Any]:
        # The first logit, the temperature (half a decade apart) and the true class: 105 frames
        # and more if the initial values are off these steps; z1 and z2 stay fixed on the website.
        return {
            "z0": [-8.0, -4.0, -2.0, 0.0, 2.0, 4.0, 8.0],
            "temperature": [0.1, 0.316, 1.0, 3.16, 10.0],
            "true_class": ALL,
        }

    def setup(self, fig: Figure) -> None:
        self.ax_probs, self.ax_grad = fig.subplots(1, 2)
        positions = np.arange(NUM_CLASSES)
        names = [f"class {k}" for k in positions]
        colors = CLASS_COLORS[:NUM_CLASSES]

        self.prob_bars = self.ax_probs.bar(
            positions, np.zeros(NUM_CLASSES), color=colors, edgecolor="black", linewidth=0.5
        )
        self.ax_probs.axhline(
            1 / NUM_CLASSES, color="grey", linestyle=":", linewidth=1, label="uniform 1/3"
        )
        self.ax_probs.set_ylim(0, 1.12)
        self.ax_probs.set_xticks(positions, names)
        self.ax_probs.set_ylabel("probability $p_k$")
        self.ax_probs.legend(loc="upper right", fontsize=8, frameon=False)
        self.prob_labels = [
            self.ax_probs.text(k, 0, "", ha="center", va="bottom", fontsize=9) for k in positions
        ]

        self.grad_bars = self.ax_grad.bar(
            positions, np.zeros(NUM_CLASSES), color=colors, edgecolor="black", linewidth=0.5
        )
        self.ax_grad.axhline(0, color="black", linewidth=0.8)
        self.ax_grad.set_ylim(-1.1, 1.1)
        self.ax_grad.set_xticks(positions, names)
        self.ax_grad.set_ylabel(r"$\partial L/\partial u_k = p_k - t_k$")
        self.ax_grad.set_title("gradient wrt the scaled logits $u = z/T$", fontsize=10)

    def redraw(self, **values: Any) -> None:
        self.logits = np.array([values[f"z{k}"] for k in range(NUM_CLASSES)], dtype=np.float64)
        self.temperature = float(values["temperature"])
        self.true_class = int(values["true_class"])
        scaled = self.logits / self.temperature
        self.probs = softmax(scaled)
        self.loss = cce_with_logits(scaled, self.true_class)
        self.grad = cce_with_logits_grad(scaled, self.true_class)
        target = one_hot([self.true_class], NUM_CLASSES)[0]

        for k, (bar, label) in enumerate(zip(self.prob_bars, self.prob_labels)):
            bar.set_height(self.probs[k])
            # The true class gets a thick outline so the loss can be read off its bar.
            bar.set_linewidth(2.5 if target[k] else 0.5)
            label.set_position((k, self.probs[k] + 0.01))
            label.set_text(f"{self.probs[k]:.3f}")
        for k, bar in enumerate(self.grad_bars):
            bar.set_height(self.grad[k])
        self.ax_probs.set_title(
            f"softmax(z / T), T = {self.temperature:.3g};  loss $-\\log p_{self.true_class}$ = "
            f"{self.loss:.3f}",
            fontsize=10,
        )
