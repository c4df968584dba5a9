"""The learning-rate slider app: the marked loss after the step is coursekit's value for that lr."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit.chapters.worked_examples import (
    NET_2331,
    RELU_231,
    linearised_lr_limit,
    loss_after_step,
    sgd_step,
)
from coursekit.widgets.worked_step import LearningRateStepApp

EXAMPLES = {"2-3-1": RELU_231, "2-3-3-1": NET_2331}


class TestLearningRateStepApp:
    @pytest.mark.parametrize("name", list(EXAMPLES))
    @pytest.mark.parametrize("lr", [1e-4, 3e-3, 0.1, 1.0])
    def test_marker_is_the_loss_after_one_step(self, name, lr):
        app = LearningRateStepApp().set(example=name, lr=lr)
        x, y = app.marker.get_data()
        assert x[0] == pytest.approx(lr)
        assert y[0] == pytest.approx(loss_after_step(EXAMPLES[name], lr), rel=1e-12)
        assert app.before_line.get_ydata()[0] == pytest.approx(sgd_step(EXAMPLES[name]).loss)
        assert app.limit_line.get_xdata()[0] == pytest.approx(linearised_lr_limit(EXAMPLES[name]))
        verdict = "down" if y[0] < app.loss_before else "UP"
        assert verdict in app.ax_loss.get_title()

    @pytest.mark.parametrize("name", list(EXAMPLES))
    def test_bars_are_the_parameter_changes(self, name):
        lr = 0.01
        app = LearningRateStepApp().set(example=name, lr=lr)
        step = sgd_step(EXAMPLES[name], lr)
        expected = np.concatenate(
            [-lr * step.gradients[k].ravel() for k in EXAMPLES[name].parameter_names]
        )
        visible = [bar for bar in app.bars if bar.get_visible()]
        assert len(visible) == expected.size
        np.testing.assert_allclose([bar.get_height() for bar in visible], expected, atol=1e-15)
        assert [t.get_text() for t in app.ax_delta.get_xticklabels()] == app.labels
        assert all(bar.get_height() == 0 for bar in app.bars if not bar.get_visible())

    def test_curve_passes_through_coursekit_values(self):
        app = LearningRateStepApp().set(example="2-3-3-1")
        lrs, losses = app.curve.get_data()
        for i in (0, 100, 200, 320):
            assert losses[i] == pytest.approx(loss_after_step(NET_2331, lrs[i]), rel=1e-12)

    def test_switching_examples_changes_the_number_of_bars(self):
        app = LearningRateStepApp().set(example="2-3-3-1")
        assert sum(bar.get_visible() for bar in app.bars) == 6 + 3 + 9 + 3 + 3  # W1 b1 W2 b2 W3
        app.controls["example"].value = "2-3-1"
        assert sum(bar.get_visible() for bar in app.bars) == 6 + 3 + 3 + 1  # W1 b1 W2 b2

    def test_unknown_example(self):
        with pytest.raises(ValueError, match="example"):
            LearningRateStepApp(example="2-2-1")
