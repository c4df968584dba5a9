"""The gradient-norm slider app: the plotted norms are those of a direct backward pass."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit import data, losses
from coursekit.chapters.gradient_flow import deep_network, linear_layers
from coursekit.widgets.gradients import GradientNormApp


def direct_norms(depth, activation, init_scale):
    X, y = data.moons(n=200, noise=0.1, seed=0)
    model = deep_network(depth, activation, width=32, init_scale=init_scale, rng=0)
    model.backward(losses.bce_with_logits_grad(model(X), y[:, None].astype(float)))
    return np.array([np.linalg.norm(layer.dW) for layer in linear_layers(model)])


class TestGradientNormApp:
    @pytest.mark.parametrize(
        "depth, activation, init_scale",
        [(8, "sigmoid", 1.0), (3, "relu", 0.5), (12, "tanh", 2.0), (1, "sigmoid", 4.0)],
    )
    def test_line_shows_the_norms_of_a_direct_backward_pass(self, depth, activation, init_scale):
        app = GradientNormApp().set(depth=depth, activation=activation, init_scale=init_scale)
        x, y = app.line.get_data()
        np.testing.assert_array_equal(x, np.arange(1, depth + 2))
        np.testing.assert_allclose(y, direct_norms(depth, activation, init_scale), rtol=1e-12)
        np.testing.assert_allclose(
            app.reference.get_ydata(), direct_norms(depth, "relu", 1.0), rtol=1e-12
        )
        assert app.ratio == pytest.approx(y[0] / y[-1])
        assert f"{app.ratio:.2e}" in app.ax.get_title()

    def test_sigmoid_line_falls_towards_the_input_and_relu_line_does_not(self):
        app = GradientNormApp().set(depth=10, activation="sigmoid", init_scale=1.0)
        assert np.all(np.diff(app.line.get_ydata()) > 0)
        assert app.ratio < 1e-4
        app.set(activation="relu")
        assert 0.1 < app.ratio < 10

    def test_both_lines_are_inside_the_axis_limits(self):
        app = GradientNormApp().set(depth=12, activation="relu", init_scale=0.125)
        low, high = app.ax.get_ylim()
        for line in (app.line, app.reference):
            values = np.asarray(line.get_ydata(), dtype=float)
            values = values[np.isfinite(values)]
            assert np.all((values > low) & (values < high))

    def test_dragging_one_slider_redraws(self):
        app = GradientNormApp()
        app.controls["depth"].value = 4
        assert len(app.line.get_xdata()) == 5
        np.testing.assert_allclose(app.norms, direct_norms(4, "sigmoid", 1.0), rtol=1e-12)

    def test_bad_settings(self):
        with pytest.raises(ValueError, match="depth"):
            GradientNormApp(depth=0)
        with pytest.raises(ValueError, match="activation"):
            GradientNormApp(activation="elu")
