"""Two Gaussian classes with a shared spread: Bayes' rule gives exactly a sigmoid of a line."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.activations import sigmoid
from coursekit.chapters.bayes import bayes_posterior, logodds_parameters, normal_pdf


def test_normal_pdf_integrates_to_one_and_peaks_at_the_mean():
    x = np.linspace(-10, 12, 20001)
    density = normal_pdf(x, 1.0, 1.5)
    assert np.trapezoid(density, x) == pytest.approx(1.0, abs=1e-9)
    assert x[np.argmax(density)] == pytest.approx(1.0, abs=1e-3)


@settings(max_examples=60, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.3, 3), st.floats(0.05, 0.95))
def test_posterior_is_the_sigmoid_of_the_derived_line(mu0, mu1, sigma, prior1):
    x = np.linspace(-6, 6, 121)
    w, b = logodds_parameters(mu0, mu1, sigma, prior1)
    np.testing.assert_allclose(
        bayes_posterior(x, mu0, mu1, sigma, prior1), sigmoid(w * x + b), atol=1e-12
    )


def test_parameters_for_a_symmetric_case():
    w, b = logodds_parameters(-1.0, 1.0, 2.0, 0.5)
    assert w == pytest.approx(0.5) and b == pytest.approx(0.0)
    assert logodds_parameters(-1.0, 1.0, 2.0, 0.8)[1] == pytest.approx(math.log(4))


def test_posterior_is_one_half_midway_between_equal_prior_means():
    assert bayes_posterior(np.array([0.5]), -1.0, 2.0, 1.3)[0] == pytest.approx(0.5)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="sigma"):
        logodds_parameters(0, 1, 0.0)
    with pytest.raises(ValueError, match="prior1"):
        bayes_posterior(np.zeros(3), 0, 1, 1.0, prior1=1.0)
    with pytest.raises(ValueError, match="underflow"):
        bayes_posterior(np.array([1e3]), 0, 1, 0.5)
