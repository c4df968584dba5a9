r"""Slider app for the worked-examples chapter: one SGD step with a learning rate of your choice.

Top panel: the loss after one step, :math:`L(\theta - \eta \nabla L)`, against the learning rate
:math:`\eta` on log axes, with the loss before the step (horizontal line), the linearised limit
:math:`2/\lVert\nabla_\theta \hat y\rVert^2` (vertical line) and a marker at the chosen
:math:`\eta`. Bottom panel: the change of every parameter,
:math:`\Delta\theta = -\eta\,\partial L/\partial\theta`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from coursekit.chapters.worked_examples import (
    NET_2331,
    RELU_231,
    WorkedExample,
    linearised_lr_limit,
    loss_after_steps,
    sgd_step,
)
from coursekit.widgets.app import SliderApp
from coursekit.widgets.frames import ALL

EXAMPLES: dict[str, WorkedExample] = {"2-3-1": RELU_231, "2-3-3-1": NET_2331}
LR_EXPONENTS = (-4.0, 0.0)  # the slider and the curve cover 1e-4 .. 1


@lru_cache(maxsize=None)
def _sweep(name: str) -> tuple[np.ndarray, np.ndarray]:
    lrs = np.logspace(*LR_EXPONENTS, 321)
    return lrs, loss_after_steps(EXAMPLES[name], lrs)


class LearningRateStepApp(SliderApp):
    """Loss after one SGD step and the parameter changes, for a chosen example and learning rate.

    Controls: ``example`` (``"2-3-1"`` or ``"2-3-3-1"``) and ``lr`` (log scale, 1e-4 to 1).

    Attributes (updated on every redraw):
        step: the :class:`coursekit.chapters.worked_examples.StepResult` for the chosen settings.
        loss_before, loss_after: the loss before and after the step (``loss_after`` is the
            y-position of ``marker``).
        deltas: :math:`\\Delta\\theta` for every parameter entry in the order of
            ``StepResult.parameter_rows()``: the heights of the visible bars.
        labels: the names of those entries (the bar tick labels).
        limit: the linearised limit :math:`2/\\lVert\\nabla_\\theta \\hat y\\rVert^2` (x of
        ``limit_line``).
        curve: the line of the loss after one step over the learning-rate grid.
    """

    # One panel above the other: on a phone each is then as wide as the screen (side by side,
    # each would get under half of it and its labels would be too small to read).
    figsize = (5.2, 6.6)

    def __init__(self, example: str = "2-3-3-1", lr: float = 1e-3) -> None:
        if example not in EXAMPLES:
            raise ValueError(f"example must be one of {list(EXAMPLES)}, got {example!r}")
        self._initial = (example, float(lr))
        super().__init__()

    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        example, lr = self._initial
        return {
            "example": widgets.Dropdown(
                options=list(EXAMPLES), value=example, description="network"
            ),
            "lr": widgets.FloatLogSlider(
                value=lr,
                base=10,
                min=LR_EXPONENTS[0],
                max=LR_EXPONENTS[1],
                step=0.05,
                description="learning rate",
                readout_format=".2e",
                continuous_update=False,
            ),
        }

    def static_grid(self) -> dict[str, Any]:
        # Both networks, a learning rate every fifth of a decade: 42 frames.
        return {"example": ALL, "lr": 21}

    def layout_states(self) -> list[dict[str, Any]]:
        # The other network's parameter names under the bars, and changes of about 1e-3, whose
        # tick labels (-0.00125) are the widest before matplotlib switches to an offset.
        return [{"example": "2-3-1", "lr": 10**-3.35}]

    def setup(self, fig: Figure) -> None:
        self.ax_loss, self.ax_delta = fig.subplots(2, 1, height_ratios=[1, 1.1])
        (self.curve,) = self.ax_loss.plot([], [], color="#0072B2", label="loss after one step")
        self.before_line = self.ax_loss.axhline(
            1.0, color="black", linestyle="--", linewidth=1, label="loss before"
        )
        self.limit_line = self.ax_loss.axvline(
            1.0, color="#D55E00", linestyle=":", label=r"$2/\|\nabla_\theta \hat y\|^2$"
        )
        (self.marker,) = self.ax_loss.plot([], [], "o", color="#CC79A7", markersize=8, zorder=5)
        self.ax_loss.set_xscale("log")
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_xlim(10 ** LR_EXPONENTS[0], 10 ** LR_EXPONENTS[1])
        self.ax_loss.set_xlabel(r"learning rate $\eta$")
        self.ax_loss.set_ylabel("loss")
        self.ax_loss.legend(loc="upper left", fontsize=7)
        most = max(sum(v.size for v in ex.parameters.values()) for ex in EXAMPLES.values())
        self.bars = self.ax_delta.bar(np.arange(most), np.zeros(most), color="#0072B2")
        self.ax_delta.axhline(0, color="black", linewidth=0.8)
        self.ax_delta.set_ylabel(r"$\Delta\theta = -\eta\, \partial L/\partial\theta$")

    def redraw(self, **values: Any) -> None:
        name, lr = values["example"], float(values["lr"])
        example = EXAMPLES[name]
        self.step = sgd_step(example, lr)
        self.loss_before, self.loss_after = self.step.loss, self.step.loss_after
        rows = self.step.parameter_rows()
        self.labels = [r[0] for r in rows]
        self.deltas = np.array([r[3] - r[1] for r in rows])
        self.limit = linearised_lr_limit(example)

        lrs, after = _sweep(name)
        self.curve.set_data(lrs, after)
        self.before_line.set_ydata([self.loss_before, self.loss_before])
        self.limit_line.set_xdata([self.limit, self.limit])
        self.marker.set_data([lr], [self.loss_after])
        low = min(after.min(), self.loss_after)
        high = max(after.max(), self.loss_after)
        self.ax_loss.set_ylim(low / 3, high * 3)
        verdict = "down" if self.loss_after < self.loss_before else "UP"
        self.ax_loss.set_title(
            f"{name}: loss {self.loss_before:.4g} -> {self.loss_after:.4g} ({verdict})", fontsize=10
        )

        for i, bar in enumerate(self.bars):
            visible = i < len(self.deltas)
            bar.set_visible(visible)
            bar.set_height(self.deltas[i] if visible else 0.0)
            bar.set_color("#0072B2" if visible and self.deltas[i] >= 0 else "#D55E00")
        self.ax_delta.set_xticks(np.arange(len(self.labels)), self.labels, rotation=90, fontsize=7)
        self.ax_delta.set_xlim(-0.7, len(self.labels) - 0.3)
        span = max(float(np.abs(self.deltas).max()), 1e-12)
        self.ax_delta.set_ylim(-1.15 * span, 1.15 * span)
        self.ax_delta.set_title(f"parameter changes for $\\eta$ = {lr:.3g}", fontsize=10)
