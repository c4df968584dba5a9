"""The gradient-descent app: the drawn path and loss curve are a direct gradient-descent run."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit.chapters.surfaces import cubic_valley, cubic_valley_grad, rosenbrock, rosenbrock_grad
from coursekit.widgets.descent import STARTS, DescentApp

FUNCTIONS = {
    "cubic_valley": (cubic_valley, cubic_valley_grad),
    "rosenbrock": (rosenbrock, rosenbrock_grad),
}


def direct_run(function, lr, steps, start):
    f, grad = FUNCTIONS[function]
    p = np.array(start, dtype=float)
    path = [p]
    for _ in range(steps):
        p = p - lr * grad(p)
        path.append(p)
        if not np.linalg.norm(p) <= 1e6:
            break
    path = np.array(path)
    return path, f(path)


@pytest.fixture(scope="module")
def app():
    return DescentApp()


@pytest.mark.parametrize(
    "function, lr, steps, start",
    [
        ("cubic_valley", 3e-4, 500, "(0.5, −1)"),
        ("cubic_valley", 1e-4, 1000, "(−1, 1)"),
        ("rosenbrock", 1e-3, 800, "(−1.5, 2)"),
        ("rosenbrock", 1e-4, 50, "(0.5, −1)"),
    ],
)
def test_path_and_loss_curve_equal_a_direct_run(app, function, lr, steps, start):
    app.set(function=function, lr=lr, steps=steps, start=STARTS[start])
    path, values = direct_run(function, app.controls["lr"].value, steps, STARTS[start])
    xs, ys = app.path_line.get_data()
    np.testing.assert_allclose(np.column_stack([xs, ys]), path, rtol=1e-12)
    t, loss = app.loss_line.get_data()
    np.testing.assert_array_equal(t, np.arange(len(path)))
    np.testing.assert_allclose(loss, values, rtol=1e-12)
    np.testing.assert_allclose(app.end_marker.get_data(), [[path[-1, 0]], [path[-1, 1]]])
    assert app.contours[function].get_visible()
    assert not any(c.get_visible() for name, c in app.contours.items() if name != function)


def test_cubic_valley_run_slides_down_then_diverges_and_the_text_says_so(app):
    app.set(function="cubic_valley", lr=3e-4, steps=3000, start=STARTS["(0.5, −1)"])
    assert app.result.diverged
    assert f"DIVERGED after {app.result.steps} steps" in app.status_text.get_text()
    assert app.result.steps < 3000


def test_a_blow_up_does_not_squash_the_loss_axis(app):
    # The cubic valley run reaches f of about -4e3 before it explodes to about 1e67: the axis must
    # keep the descent visible (upper limit a few decades above it) and end at the last step.
    app.set(function="cubic_valley", lr=3e-4, steps=3000, start=STARTS["(0.5, −1)"])
    low, high = app.ax_loss.get_ylim()
    finite = app.result.values[np.isfinite(app.result.values)]
    assert low <= finite.min() < 0
    assert high < 1e8 < finite.max()
    assert app.ax_loss.get_xlim() == (0, app.result.steps)


def test_a_run_that_blows_up_at_once_fills_the_loss_panel(app):
    app.set(function="rosenbrock", lr=1e-2, steps=3000, start=STARTS["(−1.5, 2)"])
    assert app.result.diverged and app.result.steps < 20
    assert app.ax_loss.get_xlim() == (0, app.result.steps)


def test_rosenbrock_run_with_a_good_rate_approaches_the_minimum(app):
    app.set(function="rosenbrock", lr=1e-3, steps=3000, start=STARTS["(0.5, −1)"])
    assert not app.result.diverged
    assert rosenbrock(app.result.final) < 0.05
    assert app.minimum_marker.get_data()[0][0] == 1.0
    assert app.ax_loss.get_yscale() == "log"


def test_learning_rate_slider_is_logarithmic(app):
    slider = app.controls["lr"]
    assert slider.base == 10 and slider.min == -5 and slider.max == -2
