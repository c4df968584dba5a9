r"""Two Gaussian classes in one dimension: the exact Bayes posterior and why it is a sigmoid.

Class :math:`k \in \{0, 1\}` has prior :math:`\pi_k` and class-conditional density
:math:`p(x \mid k) = \mathcal N(x;\, \mu_k, s^2)` with a *shared* standard deviation :math:`s`.
Bayes' rule gives the posterior

.. math:: P(y = 1 \mid x) = \frac{\pi_1\, p(x \mid 1)}{\pi_0\, p(x \mid 0) + \pi_1\, p(x \mid 1)} .

Its log-odds are linear in :math:`x` because the quadratic terms :math:`x^2/(2s^2)` cancel:

.. math:: \log\frac{\pi_1 p(x\mid 1)}{\pi_0 p(x\mid 0)}
   = \frac{(x - \mu_0)^2 - (x - \mu_1)^2}{2 s^2} + \log\frac{\pi_1}{\pi_0}
   = \underbrace{\frac{\mu_1 - \mu_0}{s^2}}_{w}\, x
   + \underbrace{\frac{\mu_0^2 - \mu_1^2}{2 s^2} + \log\frac{\pi_1}{\pi_0}}_{b},

so :math:`P(y = 1 \mid x) = \sigma(w x + b)` exactly. With unequal variances the :math:`x^2`
terms survive and the log-odds are quadratic instead.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from coursekit.validation import as_float_array


def _check(sigma: float, prior1: float) -> None:
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma (the shared standard deviation) must be positive, got {sigma!r}")
    if not 0 < prior1 < 1:
        raise ValueError(f"prior1 = P(y = 1) must lie strictly between 0 and 1, got {prior1!r}")


def normal_pdf(x: ArrayLike, mean: float, sigma: float) -> np.ndarray:
    r"""The normal density :math:`\frac{1}{\sqrt{2\pi}\, s} e^{-(x - \mu)^2 / (2 s^2)}`."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    x = as_float_array(x, "x")
    return np.exp(-((x - mean) ** 2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)


def bayes_posterior(
    x: ArrayLike, mu0: float, mu1: float, sigma: float, prior1: float = 0.5
) -> np.ndarray:
    r""":math:`P(y=1\mid x)` by Bayes' rule from the densities and priors (no sigmoid used)."""
    _check(sigma, prior1)
    joint1 = prior1 * normal_pdf(x, mu1, sigma)
    joint0 = (1 - prior1) * normal_pdf(x, mu0, sigma)
    evidence = joint0 + joint1
    if np.any(evidence == 0):
        raise ValueError(
            "both class densities underflow to 0 at some x (x is too many standard deviations from "
            "both means); use a narrower range of x or a larger sigma"
        )
    return joint1 / evidence


def logodds_parameters(
    mu0: float, mu1: float, sigma: float, prior1: float = 0.5
) -> tuple[float, float]:
    r"""Slope and intercept of the posterior log-odds: :math:`w = (\mu_1 - \mu_0)/s^2`,
    :math:`b = (\mu_0^2 - \mu_1^2)/(2 s^2) + \log(\pi_1/\pi_0)`."""
    _check(sigma, prior1)
    w = (mu1 - mu0) / sigma**2
    b = (mu0**2 - mu1**2) / (2 * sigma**2) + math.log(prior1 / (1 - prior1))
    return w, b
