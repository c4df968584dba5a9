"""The website's frames are the live app's pictures, and the grid declarations are checked.

For every slider app, the frame the build draws for a grid point is, pixel for pixel, the PNG
the live app shows in Jupyter after its controls are set to that point; the stored WebP file
differs from it only by compression. A grid beyond the frame budget, or naming a control the
app lacks, stops the build with a message naming the app.
"""

import random

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets
import numpy as np
import pytest

from coursekit.widgets import frames
from coursekit.widgets.app import LIVE_APP_NOTE, SliderApp

from test_widgets_layout import slider_apps

APPS = slider_apps()


def _non_default_point(axes: list[frames.Axis], rng: random.Random) -> dict:
    """A grid point where every varying control is away from its initial value."""
    point = {}
    for axis in axes:
        choices = [i for i in range(len(axis.values)) if i != axis.default] or [axis.default]
        point[axis.name] = axis.values[rng.choice(choices)]
    return point


@pytest.mark.parametrize("cls", APPS, ids=lambda cls: cls.__name__)
def test_a_frame_is_what_the_live_app_draws_for_those_values(cls):
    app = cls()
    axes = frames.grid_axes(app)
    point = _non_default_point(axes, random.Random(cls.__name__))
    frame = frames.frame_rgb(app, point)

    live = cls().set(**point)  # a fresh app, moved as a reader moves the sliders
    np.testing.assert_array_equal(
        frame, frames.decode(live.png()), err_msg=f"{cls.__name__} at {point}"
    )

    shown = frames.decode(frames.encode(frame)).astype(float)
    psnr = 10 * np.log10(255.0**2 / np.mean((shown - frame) ** 2))
    assert psnr > 30, (
        f"{cls.__name__}: the stored frame is too far from the drawing ({psnr:.1f} dB)"
    )


@pytest.mark.parametrize("cls", APPS, ids=lambda cls: cls.__name__)
def test_every_grid_fits_the_budget_and_starts_at_the_initial_values(cls):
    app = cls()
    axes = frames.grid_axes(app)
    assert frames.frame_count(axes) <= frames.FRAME_BUDGET
    for axis in axes:
        assert frames._same(axis.values[axis.default], app.controls[axis.name].value)
        assert len(set(axis.keys)) == len(axis.keys), (
            f"{cls.__name__}.{axis.name}: two values share a URL key"
        )


class _TwoSliders(SliderApp):
    """A test app: a dot at (a, b)."""

    figsize = (2.0, 2.0)
    grid: dict = {}

    def make_controls(self):
        return {
            "a": widgets.FloatSlider(value=0.0, min=-1.0, max=1.0, step=0.1, description="a"),
            "b": widgets.FloatLogSlider(
                value=1e-3,
                base=10,
                min=-4,
                max=-1,
                step=0.5,
                description="rate",
                readout_format=".1e",
            ),
            "kind": widgets.Dropdown(
                options=[("round", "o"), ("square", "s")], value="o", description="marker"
            ),
        }

    def static_grid(self):
        return self.grid

    def setup(self, fig):
        ax = fig.add_subplot()
        (self.dot,) = ax.plot([0], [0], "o")
        ax.set_xlim(-1, 1)
        ax.set_ylim(-4, -1)

    def redraw(self, a, b, kind):
        self.dot.set_data([a], [np.log10(b)])
        self.dot.set_marker(kind)


def test_a_grid_beyond_the_budget_fails_naming_the_app_the_grid_and_the_budget(monkeypatch):
    monkeypatch.setattr(_TwoSliders, "grid", {"a": frames.ALL, "b": frames.ALL, "kind": frames.ALL})
    monkeypatch.setattr(frames, "FRAME_BUDGET", 100)
    with pytest.raises(frames.GridError) as error:
        frames.grid_axes(_TwoSliders())
    message = str(error.value)
    assert "_TwoSliders" in message and "294 frames" in message and "21 a x 7 b x 2 kind" in message
    assert "budget of 100" in message


@pytest.mark.parametrize(
    "grid, complaint",
    [
        ({"c": 3}, "unknown control(s) ['c']"),
        ({"a": 1}, "at least 2 steps"),
        ({"a": [0.5, 7.0]}, "cannot take: [7.0]"),
        ({"kind": ["x"]}, "cannot take: ['x']"),
    ],
)
def test_a_malformed_grid_is_refused_with_the_reason(monkeypatch, grid, complaint):
    monkeypatch.setattr(_TwoSliders, "grid", grid)
    with pytest.raises(frames.GridError, match="_TwoSliders") as error:
        frames.grid_axes(_TwoSliders())
    assert complaint in str(error.value)


def test_steps_spread_over_the_slider_and_the_initial_value_is_always_on_the_grid(monkeypatch):
    monkeypatch.setattr(_TwoSliders, "grid", {"a": 5, "b": frames.ALL})
    axes = {axis.name: axis for axis in frames.grid_axes(_TwoSliders())}
    assert axes["a"].values == (-1.0, -0.5, 0.0, 0.5, 1.0) and axes["a"].default == 2
    assert axes["b"].texts == (
        "1.0e\u22124",
        "3.2e\u22124",
        "1.0e\u22123",
        "3.2e\u22123",
        "1.0e\u22122",
        "3.2e\u22122",
        "1.0e\u22121",
    )
    assert axes["kind"].fixed and axes["kind"].values == ("o",)

    monkeypatch.setattr(_TwoSliders, "grid", {"a": [0.5, 1.0]})
    axis = frames.grid_axes(_TwoSliders())[0]
    assert axis.values == (0.0, 0.5, 1.0) and axis.default == 0


def test_frames_are_cached_by_key_and_an_unchanged_app_is_not_drawn_again(monkeypatch, tmp_path):
    monkeypatch.setattr(_TwoSliders, "grid", {"a": 3, "kind": frames.ALL})
    app = _TwoSliders()
    axes = frames.grid_axes(app)
    key, manifest = frames.cached_render(app, axes, tmp_path)
    assert manifest["frames"] == 6 and len(list((tmp_path / key).glob("*.webp"))) == 6
    assert manifest["readouts"][frames.frame_number([a for a in axes if not a.fixed], [2, 1])] == [
        "1.00",
        "square",
    ]

    def no_drawing(*args, **kwargs):
        raise AssertionError("an unchanged app was drawn again")

    monkeypatch.setattr(frames, "render", no_drawing)
    assert frames.cached_render(_TwoSliders(), frames.grid_axes(_TwoSliders()), tmp_path) == (
        key,
        manifest,
    )

    monkeypatch.setattr(_TwoSliders, "grid", {"a": 5, "kind": frames.ALL})
    assert frames.cache_key(_TwoSliders(), frames.grid_axes(_TwoSliders())) != key


def test_the_player_labels_every_control_and_notes_the_fixed_ones(monkeypatch, tmp_path):
    monkeypatch.setattr(_TwoSliders, "grid", {"a": 3})
    app = _TwoSliders()
    axes = frames.grid_axes(app)
    key, manifest = frames.cached_render(app, axes, tmp_path)
    page = frames.player_html(app, "two", axes, key, manifest)
    for name in ("a", "b", "kind"):
        assert f'<label for="ck-two-{name}">' in page and f'id="ck-two-{name}"' in page
    assert 'data-axis="0"' in page and page.count("data-axis") == 1  # only "a" is played back
    assert LIVE_APP_NOTE in page
    assert f'src="{frames.FRAMES_URL}/{key}/1.webp"' in page  # the initial value, a = 0, is frame 1
