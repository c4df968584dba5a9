r"""Slider apps for the sigmoid-from-log-odds chapter.

* :class:`LogOddsApp`: a straight line of log-odds :math:`z = w x + b` (left) and the posterior
  :math:`\sigma(z)` it implies (right), with the point :math:`x = -b/w` where both classes are
  equally likely.
* :class:`GaussianPosteriorApp`: two Gaussian classes with a shared standard deviation; the
  exact Bayes posterior computed from the densities, overlaid with :math:`\sigma(w x + b)` for
  the slope and intercept derived from the means, the shared spread and the prior.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from coursekit.activations import sigmoid
from coursekit.chapters.bayes import bayes_posterior, logodds_parameters, normal_pdf
from coursekit.display.plotting import CLASS_COLORS
from coursekit.widgets.app import SliderApp, number_text

X_RANGE = (-6.0, 6.0)


def _slider(
    description: str, value: float, low: float, high: float, step: float = 0.1
) -> widgets.FloatSlider:
    return widgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        continuous_update=False,
        readout_format=".2f",
    )


class LogOddsApp(SliderApp):
    """Slope and intercept of the log-odds against the posterior curve.

    Attributes (updated on every redraw):
        x: the ``(200,)`` grid of inputs.
        logodds_line, posterior_line: ``Line2D`` artists with y-data :math:`w x + b` and
            :math:`\\sigma(w x + b)`.
        threshold: :math:`-b/w`, where the posterior is 1/2 (``None`` when w = 0).
        threshold_lines: the two vertical ``Line2D`` markers at the threshold.
    """

    figsize = (8.0, 3.4)

    def __init__(self, w: float = 1.0, b: float = 0.0) -> None:
        self._initial = (float(w), float(b))
        self.x = np.linspace(*X_RANGE, 200)
        super().__init__()

    def make_controls(self) -> dict[str, widgets.FloatSlider]:
        w, b = self._initial
        return {"w": _slider("slope w", w, -4.0, 4.0), "b": _slider("intercept b", b, -6.0, 6.0)}

    #: The website's alt text for the figure.
    description = (
        "The log-odds line z = w x + b and the posterior sigmoid(w x + b) it implies, "
        "with the point where both classes are equally likely"
    )

    def static_grid(self) -> dict[str, Any]:
        # The slope and the intercept in whole steps: 9 x 13 = 117 frames.
        return {
            "w": [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0],
            "b": [float(b) for b in range(-6, 7)],
        }

    def setup(self, fig: Figure) -> None:
        ax_z, ax_p = fig.subplots(1, 2)
        self.ax_logodds, self.ax_posterior = ax_z, ax_p
        ax_z.axhline(0, color="0.6", lw=0.8)
        (self.logodds_line,) = ax_z.plot(self.x, np.zeros_like(self.x), color=CLASS_COLORS[0], lw=2)
        ax_z.set_ylim(-10, 10)
        ax_z.set_xlabel("$x$")
        ax_z.set_title("log-odds $\\log\\frac{P(y=1|x)}{P(y=0|x)} = wx + b$", fontsize=10)
        ax_p.axhline(0.5, color="0.6", lw=0.8)
        (self.posterior_line,) = ax_p.plot(
            self.x, np.full_like(self.x, 0.5), color=CLASS_COLORS[1], lw=2
        )
        ax_p.set_ylim(-0.03, 1.03)
        ax_p.set_xlabel("$x$")
        ax_p.set_title("posterior $P(y=1|x) = \\sigma(wx + b)$", fontsize=10)
        self.threshold_lines = [
            ax.axvline(0.0, color="black", ls=":", lw=1.2) for ax in (ax_z, ax_p)
        ]
        self.threshold_text = ax_p.text(
            0.02,
            0.96,
            "",
            transform=ax_p.transAxes,
            va="top",
            fontsize=9,
            bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"),
        )
        for ax in (ax_z, ax_p):
            ax.set_xlim(*X_RANGE)

    def redraw(self, w: float, b: float) -> None:
        z = w * self.x + b
        self.logodds_line.set_ydata(z)
        self.posterior_line.set_ydata(sigmoid(z))
        if w == 0:
            self.threshold = None
            for line in self.threshold_lines:
                line.set_visible(False)
            self.threshold_text.set_text(
                f"$w = 0$: constant $\\sigma(b) = {float(sigmoid(b)):.3f}$"
            )
            return
        self.threshold = -b / w
        for line in self.threshold_lines:
            line.set_xdata([self.threshold, self.threshold])
            line.set_visible(True)
        # The number outside $...$: matplotlib parses every new math string afresh, some ms a line.
        self.threshold_text.set_text(
            f"$P = 1/2$ at $x = -b/w$ = {number_text(self.threshold, '.2f')}"
        )


class GaussianPosteriorApp(SliderApp):
    """Two Gaussian classes with a shared spread: exact Bayes posterior vs the derived sigmoid.

    Attributes (updated on every redraw):
        x: the ``(161,)`` grid of inputs.
        w, b: slope and intercept from :func:`coursekit.chapters.bayes.logodds_parameters`.
        bayes: the posterior by Bayes' rule on the grid; sigmoid_values: :math:`\\sigma(w x + b)`.
        max_difference: the largest absolute difference of the two.
        density_lines: ``Line2D`` of :math:`\\pi_0 p(x|0)` and :math:`\\pi_1 p(x|1)`;
        bayes_line (markers) and sigmoid_line (curve); params_text.
    """

    figsize = (6.4, 5.0)

    def __init__(
        self, mu0: float = -1.0, mu1: float = 1.5, sigma: float = 1.0, prior1: float = 0.5
    ) -> None:
        self._initial = (float(mu0), float(mu1), float(sigma), float(prior1))
        self.x = np.linspace(*X_RANGE, 161)
        super().__init__()

    def make_controls(self) -> dict[str, widgets.FloatSlider]:
        mu0, mu1, sigma, prior1 = self._initial
        return {
            "mu0": _slider("mean μ₀", mu0, -3.0, 3.0),
            "mu1": _slider("mean μ₁", mu1, -3.0, 3.0),
            "sigma": _slider("spread s", sigma, 0.4, 3.0),
            "prior1": _slider("prior P(y=1)", prior1, 0.05, 0.95, step=0.05),
        }

    #: The website's alt text for the figure.
    description = (
        "Densities of two Gaussian classes and the exact Bayes posterior, "
        "overlaid with the sigmoid derived from the means, spread and prior"
    )

    def static_grid(self) -> dict[str, Any]:
        # The second mean, the spread and the prior: 5 x 6 x 5 = 150 frames (more if the
        # initial values are off these steps). The first mean stays fixed on the website.
        return {
            "mu1": [-3.0, -1.5, 0.0, 1.5, 3.0],
            "sigma": [0.4, 0.7, 1.0, 1.5, 2.0, 3.0],
            "prior1": [0.1, 0.3, 0.5, 0.7, 0.9],
        }

    def layout_states(self) -> list[dict[str, float]]:
        # The density axis follows the tallest curve: a wide spread gives five-character tick
        # labels (0.025), a narrow peak a top tick label that sticks out above the axes.
        return [{"sigma": 1.4, "prior1": 0.5}, {"sigma": 0.4, "prior1": 0.3}]

    def setup(self, fig: Figure) -> None:
        ax_d, ax_p = fig.subplots(2, 1, sharex=True)
        self.ax_density, self.ax_posterior = ax_d, ax_p
        self.density_lines = [
            ax_d.plot(
                self.x,
                np.zeros_like(self.x),
                color=CLASS_COLORS[k],
                lw=2,
                label=f"$P(y={k})\\,p(x|y={k})$",
            )[0]
            for k in (0, 1)
        ]
        ax_d.set_ylabel("joint density")
        ax_d.legend(loc="upper right", fontsize=8)
        ax_d.set_ylim(0, 0.5)
        (self.sigmoid_line,) = ax_p.plot(
            self.x,
            np.zeros_like(self.x),
            color="black",
            lw=2,
            label="$\\sigma(wx + b)$, $w, b$ from the formulas",
        )
        (self.bayes_line,) = ax_p.plot(
            self.x[::4],
            np.zeros_like(self.x[::4]),
            "o",
            ms=4,
            color=CLASS_COLORS[1],
            label="Bayes' rule, numerically",
        )
        ax_p.set_ylim(-0.03, 1.03)
        ax_p.set_xlabel("$x$")
        ax_p.set_ylabel("$P(y=1|x)$")
        ax_p.legend(loc="lower right", fontsize=8)
        self.params_text = ax_p.text(
            0.02,
            0.96,
            "",
            transform=ax_p.transAxes,
            va="top",
            fontsize=9,
            bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"),
        )
        ax_p.set_xlim(*X_RANGE)

    def redraw(self, mu0: float, mu1: float, sigma: float, prior1: float) -> None:
        priors = (1.0 - prior1, prior1)
        for k, (mean, line) in enumerate(zip((mu0, mu1), self.density_lines)):
            line.set_ydata(priors[k] * normal_pdf(self.x, mean, sigma))
        self.ax_density.set_ylim(
            0, 1.15 * max(max(line.get_ydata().max() for line in self.density_lines), 1e-3)
        )
        self.w, self.b = logodds_parameters(mu0, mu1, sigma, prior1)
        self.bayes = bayes_posterior(self.x, mu0, mu1, sigma, prior1)
        self.sigmoid_values = sigmoid(self.w * self.x + self.b)
        self.max_difference = float(np.max(np.abs(self.bayes - self.sigmoid_values)))
        self.sigmoid_line.set_ydata(self.sigmoid_values)
        self.bayes_line.set_ydata(self.bayes[::4])
        # Numbers outside $...$: matplotlib parses every new math string afresh, some ms a line.
        self.params_text.set_text(
            f"$w = (\\mu_1 - \\mu_0)/s^2$ = {number_text(self.w, '.3f')}\n"
            f"$b$ = {number_text(self.b, '.3f')}\nmax difference: {self.max_difference:.1e}"
        )
