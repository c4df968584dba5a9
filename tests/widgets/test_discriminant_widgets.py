"""The discriminant geometry app: boundary, foot of the perpendicular, normal and distance."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit.chapters.discriminant import discriminant
from coursekit.widgets.discriminant import DiscriminantApp

SETTINGS = [(1.0, 2.0, 3.0), (-2.0, 1.0, -1.0), (3.0, 0.0, 1.5), (0.0, -2.5, 0.4), (-1.0, 0.5, 0.5)]


@pytest.fixture(scope="module")
def app():
    return DiscriminantApp()


def test_default_is_the_worked_example_with_distance_one_over_root_13():
    app = DiscriminantApp()
    assert app.distance == pytest.approx(1 / np.sqrt(13))
    np.testing.assert_allclose(app.foot, [-2 / 13, -3 / 13])
    assert f"{1 / np.sqrt(13):.3f}" in app.distance_text.get_text()


@pytest.mark.parametrize("theta", SETTINGS)
def test_distance_value_and_text_equal_abs_theta0_over_norm_w(app, theta):
    app.set(theta0=theta[0], theta1=theta[1], theta2=theta[2])
    expected = abs(theta[0]) / np.hypot(theta[1], theta[2])
    assert app.distance == pytest.approx(expected)
    assert f"distance $|\\theta_0| / \\|w\\|$ = {expected:.3f}\n" in app.distance_text.get_text()


@pytest.mark.parametrize("theta", SETTINGS)
def test_foot_is_on_the_boundary_and_the_perpendicular_runs_along_w(app, theta):
    app.set(theta0=theta[0], theta1=theta[1], theta2=theta[2])
    foot = np.array([d[0] for d in app.foot_marker.get_data()])
    assert discriminant(theta, foot) == pytest.approx(0.0, abs=1e-12)
    xs, ys = app.perpendicular_line.get_data()
    segment = np.array([xs[1] - xs[0], ys[1] - ys[0]])
    assert (xs[0], ys[0]) == (0.0, 0.0)
    assert segment[0] * theta[2] - segment[1] * theta[1] == pytest.approx(
        0.0, abs=1e-12
    )  # parallel to w
    assert np.linalg.norm(segment) == pytest.approx(app.distance)


@pytest.mark.parametrize("theta", SETTINGS)
def test_boundary_and_normal_arrow(app, theta):
    app.set(theta0=theta[0], theta1=theta[1], theta2=theta[2])
    xs, ys = app.boundary_line.get_data()
    np.testing.assert_allclose(discriminant(theta, np.column_stack([xs, ys])), 0.0, atol=1e-9)
    w = np.array(theta[1:])
    np.testing.assert_allclose(
        [app.normal_arrow.U[0], app.normal_arrow.V[0]], w / np.linalg.norm(w)
    )
    np.testing.assert_allclose(app.normal_arrow.get_offsets()[0], app.foot)
    tip = app.foot + w / np.linalg.norm(w)
    assert discriminant(theta, tip) > 0  # the arrow points into g > 0


def test_regions_follow_the_sign_of_g(app):
    app.set(theta0=-1.0, theta1=1.0, theta2=0.0)  # g > 0 for x1 > 1
    image = np.asarray(app.regions.get_array())
    columns = np.linspace(-4, 4, image.shape[1])
    np.testing.assert_array_equal(image[0], (columns > 1).astype(int))


def test_zero_normal_means_no_boundary(app):
    app.set(theta0=2.0, theta1=0.0, theta2=0.0)
    assert app.distance is None and app.foot is None
    assert len(app.boundary_line.get_data()[0]) == 0 and not app.normal_arrow.get_visible()
    assert "no boundary" in app.distance_text.get_text()
