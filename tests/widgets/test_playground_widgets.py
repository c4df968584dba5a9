"""The playground: regions, accuracy and loss curve equal a direct run with its settings."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from coursekit.display.plotting import bounds, grid
from coursekit.chapters.training import accuracy, predict, train
from coursekit.widgets.playground import (
    EXTENT_MARGIN,
    GRID_STEPS,
    MOMENTUM,
    PlaygroundApp,
    playground_data,
    playground_model,
)


def direct_run(dataset, hidden, lr, steps, seed):
    X, y = playground_data(dataset, seed)
    model = playground_model(int(y.max()) + 1, hidden, seed)
    history = train(model, X, y, loss="cce", lr=lr, epochs=steps, momentum=MOMENTUM)
    return X, y, model, history


class TestPlaygroundApp:
    @pytest.mark.parametrize(
        "dataset, hidden, lr, steps, seed",
        [
            ("moons", 8, 0.1, 200, 0),
            ("spirals", 16, 0.3, 150, 2),
            ("xor", 4, 0.05, 75, 1),
            ("moons", 2, 0.1, 0, 3),
        ],
    )
    def test_figure_equals_a_direct_training_run(self, dataset, hidden, lr, steps, seed):
        app = PlaygroundApp().set(dataset=dataset, hidden=hidden, lr=lr, steps=steps, seed=seed)
        # The slider snaps the learning rate to its grid; train with the value it shows.
        X, y, model, history = direct_run(dataset, hidden, app.controls["lr"].value, steps, seed)
        np.testing.assert_array_equal(app.points.get_offsets(), X)
        np.testing.assert_array_equal(app.points.get_array(), y)
        assert app.accuracy == accuracy(model, X, y) == history.accuracy[-1]
        _, _, points = grid(bounds(X, margin=EXTENT_MARGIN), GRID_STEPS)
        np.testing.assert_array_equal(
            app.image.get_array(), predict(model, points).reshape(GRID_STEPS, GRID_STEPS)
        )
        np.testing.assert_allclose(app.loss_line.get_ydata(), history.loss, rtol=1e-12)
        assert f"{app.accuracy:.1%}" in app.ax_regions.get_title()

    def test_moving_steps_back_and_forth_reuses_the_run(self):
        app = PlaygroundApp().set(dataset="moons", hidden=8, lr=0.1, steps=300)
        app.set(steps=100)
        X, y, model, history = direct_run("moons", 8, app.controls["lr"].value, 100, 0)
        assert app.accuracy == history.accuracy[-1]
        np.testing.assert_allclose(app.loss_history, history.loss, rtol=1e-12)
        app.set(steps=300)
        assert len(app.loss_history) == 301

    def test_the_network_learns_the_spirals(self):
        app = PlaygroundApp().set(dataset="spirals", hidden=32, lr=0.3, steps=400)
        assert app.accuracy > 0.95
        assert app.loss_history[-1] < app.loss_history[0] / 20

    def test_a_huge_learning_rate_kills_the_relu_units(self):
        # Every ReLU ends up off for every point, the logits become constant and the loss sits at
        # ln 2, the loss of guessing 1/2: a dead network, not an overflow.
        app = PlaygroundApp().set(dataset="moons", hidden=32, lr=10**0.5, steps=1000)
        assert app.diverged_at is None and app.steps_done == 1000
        assert app.loss_history[-1] == pytest.approx(np.log(2), abs=1e-6)
        assert app.accuracy == 0.5

    def test_a_diverging_run_shows_its_last_finite_snapshot(self, monkeypatch):
        import coursekit.widgets.playground as playground
        from coursekit.nn import mlp

        # A linear network has no units to switch off: a huge step makes its weights overflow.
        monkeypatch.setattr(
            playground,
            "playground_model",
            lambda k, h, seed: mlp([2, h, h, k], "identity", rng=seed),
        )
        app = playground.PlaygroundApp().set(dataset="moons", hidden=32, lr=10**0.5, steps=1000)
        assert app.diverged_at is not None and app.diverged_at < 1000
        assert app.steps_done <= app.diverged_at and app.steps_done % 25 == 0
        assert f"diverged at step {app.diverged_at}" in app.ax_regions.get_title()
        assert len(app.loss_history) == app.steps_done + 1
        assert all(np.all(np.isfinite(p.value)) for p in app.model.parameters())

    def test_unknown_dataset(self):
        with pytest.raises(ValueError, match="dataset"):
            PlaygroundApp(dataset="circles")
