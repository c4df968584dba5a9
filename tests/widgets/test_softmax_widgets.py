"""The softmax slider app: bars equal softmax(z/T), the loss and gradient follow the true class."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit.activations import softmax
from coursekit.losses import cce_with_logits
from coursekit.widgets.softmax import SoftmaxApp


def bar_heights(bars):
    return np.array([bar.get_height() for bar in bars])


class TestSoftmaxApp:
    def test_default_bars_are_the_softmax_of_the_default_logits(self):
        app = SoftmaxApp()
        np.testing.assert_allclose(bar_heights(app.prob_bars), softmax([2.0, 1.0, 0.1]))
        assert [label.get_text() for label in app.prob_labels] == [
            f"{p:.3f}" for p in softmax([2.0, 1.0, 0.1])
        ]

    @pytest.mark.parametrize(
        "z, T",
        [
            ((3.0, -1.0, 0.5), 1.0),
            ((3.0, -1.0, 0.5), 0.1),
            ((3.0, -1.0, 0.5), 50.0),
            ((-8.0, 8.0, 8.0), 0.01),
        ],
    )
    def test_bars_equal_softmax_of_logits_over_temperature(self, z, T):
        app = SoftmaxApp().set(z0=z[0], z1=z[1], z2=z[2], temperature=T)
        expected = softmax(np.array(z) / T)
        np.testing.assert_allclose(bar_heights(app.prob_bars), expected)
        np.testing.assert_allclose(app.probs, expected)
        assert np.all(np.isfinite(bar_heights(app.prob_bars)))
        assert f"T = {T:.3g}" in app.ax_probs.get_title()

    def test_low_temperature_is_nearly_one_hot_and_high_nearly_uniform(self):
        app = SoftmaxApp().set(z0=1.0, z1=2.0, z2=1.5, temperature=0.01)
        assert bar_heights(app.prob_bars)[1] > 1 - 1e-15
        app.set(temperature=100.0)
        np.testing.assert_allclose(bar_heights(app.prob_bars), 1 / 3, atol=0.01)

    @pytest.mark.parametrize("true_class", [0, 1, 2])
    def test_loss_and_gradient_follow_the_true_class(self, true_class):
        app = SoftmaxApp().set(z0=0.5, z1=-1.0, z2=2.0, temperature=2.0, true_class=true_class)
        u = np.array([0.5, -1.0, 2.0]) / 2.0
        p = softmax(u)
        assert app.loss == pytest.approx(-np.log(p[true_class]))
        assert app.loss == pytest.approx(cce_with_logits(u, true_class))
        target = np.eye(3)[true_class]
        np.testing.assert_allclose(bar_heights(app.grad_bars), p - target)
        assert f"{app.loss:.3f}" in app.ax_probs.get_title()
        widths = [bar.get_linewidth() for bar in app.prob_bars]
        assert widths.index(max(widths)) == true_class

    def test_sliders_move_the_bars_one_control_at_a_time(self):
        app = SoftmaxApp()
        before = bar_heights(app.prob_bars)
        app.controls["z2"].value = 5.0  # what dragging a slider does
        after = bar_heights(app.prob_bars)
        assert after[2] > before[2]
        np.testing.assert_allclose(after, softmax([2.0, 1.0, 5.0]))

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="temperature must be > 0"):
            SoftmaxApp(temperature=0.0)
        with pytest.raises(ValueError, match="logits must have 3 entries"):
            SoftmaxApp(logits=(1.0, 2.0))
        with pytest.raises(KeyError, match="unknown control"):
            SoftmaxApp().set(z3=1.0)
