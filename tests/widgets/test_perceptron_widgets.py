"""The perceptron slider app: boundary, normal, regions and error count follow the sliders."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit.chapters.discriminant import count_errors, discriminant
from coursekit.widgets.perceptron import PerceptronApp

SETTINGS = [
    (0.0, 1.0, -0.5),
    (0.0, -1.0, -1.0),
    (1.5, -0.3, 2.0),
    (-2.0, 0.0, 1.0),
    (0.5, 2.0, 0.0),
]


@pytest.fixture(scope="module")
def app():
    return PerceptronApp()


@pytest.mark.parametrize("theta", SETTINGS)
def test_misclassified_count_and_rings_match_a_direct_computation(app, theta):
    app.set(theta0=theta[0], theta1=theta[1], theta2=theta[2])
    expected = count_errors(theta, app.X, app.y)
    assert app.misclassified == expected
    assert app.count_text.get_text().startswith(f"misclassified: {expected} of {len(app.y)}")
    rings = app.ring_artist.get_offsets()
    wrong = app.X[(discriminant(theta, app.X) > 0).astype(int) != app.y]
    np.testing.assert_allclose(np.asarray(rings).reshape(-1, 2), wrong)


@pytest.mark.parametrize("theta", SETTINGS)
def test_boundary_end_points_satisfy_g_equals_zero(app, theta):
    app.set(theta0=theta[0], theta1=theta[1], theta2=theta[2])
    xs, ys = app.boundary_line.get_data()
    assert len(xs) == 2
    np.testing.assert_allclose(discriminant(theta, np.column_stack([xs, ys])), 0.0, atol=1e-9)


@pytest.mark.parametrize("theta", SETTINGS)
def test_normal_arrow_is_the_unit_weight_vector_anchored_on_the_boundary(app, theta):
    app.set(theta0=theta[0], theta1=theta[1], theta2=theta[2])
    w = np.array(theta[1:])
    np.testing.assert_allclose(
        [app.normal_arrow.U[0], app.normal_arrow.V[0]], w / np.linalg.norm(w)
    )
    anchor = app.normal_arrow.get_offsets()[0]
    assert discriminant(theta, anchor) == pytest.approx(0.0, abs=1e-9)
    assert app.normal_arrow.get_visible()


def test_regions_image_shows_class_one_where_g_is_positive(app):
    app.set(theta0=0.0, theta1=1.0, theta2=0.0)  # class 1 right of x1 = 0
    image = np.asarray(app.regions.get_array())
    assert image[:, 0].max() == 0 and image[:, -1].min() == 1


def test_the_best_setting_found_by_hand_makes_no_mistakes(app):
    app.set(theta0=0.0, theta1=-1.0, theta2=-1.0)  # the blobs sit on either side of x1 + x2 = 0
    assert app.misclassified == 0


def test_zero_weights_hide_the_boundary_and_say_why(app):
    app.set(theta0=1.0, theta1=0.0, theta2=0.0)
    assert len(app.boundary_line.get_data()[0]) == 0
    assert not app.normal_arrow.get_visible()
    assert "no boundary" in app.count_text.get_text()
    assert app.misclassified == int(np.sum(app.y == 0))  # g = 1 > 0: everything is called class 1


def test_custom_data_and_shape_errors():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    custom = PerceptronApp(X, np.array([0, 1]), theta=(-1.0, 1.0, 1.0))
    assert custom.misclassified == 0
    with pytest.raises(ValueError, match=r"\(m, 2\)"):
        PerceptronApp(np.zeros((3, 3)), np.zeros(3))
