"""The hidden-layer app: width and one output weight move the XOR boundary."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit.chapters.training import accuracy
from coursekit.widgets.hidden_layer import HiddenLayerApp


@pytest.fixture(scope="module")
def app():
    return HiddenLayerApp()


def test_three_units_learn_xor_and_one_unit_cannot(app):
    app.set(hidden=3, delta=0.0)
    assert app.accuracy == 1.0
    assert "training accuracy 100.0 %" in app.accuracy_text.get_text()
    app.set(hidden=1)
    # one ReLU unit bends the boundary once: at most three of the four clouds on the right side
    assert app.accuracy <= 0.76
    assert app.accuracy == accuracy(app.model, app.X, app.y, loss="bce")


def test_one_switching_line_per_hidden_unit(app):
    for hidden in (1, 4, 6):
        app.set(hidden=hidden, delta=0.0)
        drawn = [line for line in app.unit_lines if len(line.get_xdata())]
        assert len(drawn) == hidden
        first = app.model[0]
        for j, line in enumerate(drawn):
            xs, ys = line.get_data()
            z = first.W[j] @ np.vstack([xs, ys]) + first.b[j]
            np.testing.assert_allclose(z, 0.0, atol=1e-9)  # the line is where unit j switches on


def test_the_weight_slider_changes_only_unit_1s_output_weight(app):
    app.set(hidden=3, delta=0.0)
    trained = app.trained(3)
    before = trained[2].W.copy()
    image_before = app.regions.get_array().copy()
    app.set(delta=-3.0)
    assert app.model[2].W[0, 0] == pytest.approx(app.trained_weight - 3.0)
    np.testing.assert_array_equal(app.model[2].W[0, 1:], before[0, 1:])
    np.testing.assert_array_equal(trained[2].W, before)  # the cached network is untouched
    assert (app.regions.get_array() != image_before).any()  # the boundary moved
    assert app.accuracy < 1.0
    assert (
        f"− 3.00 = {app.trained_weight - 3.0:.2f}".replace("-", "−") in app.accuracy_text.get_text()
    )
    # the regions are the sign of the network's logit
    P = np.array([[-1.0, 1.0], [1.0, 1.0]])
    app.set(delta=0.0)
    assert list((app.model(P)[:, 0] > 0).astype(int)) == [1, 0]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="hidden must be between 1 and 6"):
        HiddenLayerApp(hidden=7)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        HiddenLayerApp(X=np.zeros((4, 3)), y=np.zeros(4))
