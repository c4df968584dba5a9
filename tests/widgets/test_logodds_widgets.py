"""The log-odds apps: the curves are w x + b and sigmoid(w x + b); Bayes' rule matches."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit.activations import sigmoid
from coursekit.chapters.bayes import bayes_posterior, normal_pdf
from coursekit.widgets.logodds import GaussianPosteriorApp, LogOddsApp


@pytest.mark.parametrize("w, b", [(1.0, 0.0), (2.5, -1.0), (-0.7, 3.0), (4.0, 6.0)])
def test_logodds_and_posterior_curves(w, b):
    app = LogOddsApp().set(w=w, b=b)
    x = app.logodds_line.get_xdata()
    np.testing.assert_allclose(app.logodds_line.get_ydata(), w * x + b)
    np.testing.assert_allclose(app.posterior_line.get_ydata(), sigmoid(w * x + b))
    assert app.threshold == pytest.approx(-b / w)
    for line in app.threshold_lines:
        np.testing.assert_allclose(line.get_xdata(), -b / w)
    assert sigmoid(w * app.threshold + b) == pytest.approx(0.5)


def test_zero_slope_gives_a_constant_posterior_and_no_threshold():
    app = LogOddsApp().set(w=0.0, b=1.0)
    np.testing.assert_allclose(app.posterior_line.get_ydata(), sigmoid(1.0))
    assert app.threshold is None and not any(line.get_visible() for line in app.threshold_lines)


@pytest.mark.parametrize(
    "mu0, mu1, sigma, prior1",
    [(-1.0, 1.5, 1.0, 0.5), (2.0, -1.0, 0.4, 0.2), (0.0, 0.5, 3.0, 0.9), (-3.0, 3.0, 0.4, 0.05)],
)
def test_bayes_posterior_equals_the_derived_sigmoid(mu0, mu1, sigma, prior1):
    app = GaussianPosteriorApp().set(mu0=mu0, mu1=mu1, sigma=sigma, prior1=prior1)
    x = app.x
    w = (mu1 - mu0) / sigma**2
    b = (mu0**2 - mu1**2) / (2 * sigma**2) + np.log(prior1 / (1 - prior1))
    assert (app.w, app.b) == pytest.approx((w, b))
    np.testing.assert_allclose(app.sigmoid_line.get_ydata(), sigmoid(w * x + b))
    np.testing.assert_allclose(
        app.bayes_line.get_ydata(), bayes_posterior(x, mu0, mu1, sigma, prior1)[::4]
    )
    assert app.max_difference < 1e-12
    np.testing.assert_allclose(app.density_lines[1].get_ydata(), prior1 * normal_pdf(x, mu1, sigma))
    np.testing.assert_allclose(
        app.density_lines[0].get_ydata(), (1 - prior1) * normal_pdf(x, mu0, sigma)
    )
    # printed with a real minus sign, as math text shows one
    assert f"= {w:.3f}\n".replace("-", "\N{MINUS SIGN}") in app.params_text.get_text()
