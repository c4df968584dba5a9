"""The one-vs-all / one-vs-one slider app: ambiguous areas equal a direct computation."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from coursekit.data import blobs
from coursekit.display.plotting import CLASS_COLORS
from coursekit.widgets.multiclass import SEVERAL_COLOR, MulticlassApp, ambiguity_legend, region_rgba


@pytest.fixture(scope="module")
def app():
    return MulticlassApp()


def direct_ova_fractions(app, threshold):
    """Count the grid points claimed by no class / several classes straight from g_k(x)."""
    xs = np.linspace(app.extent[0], app.extent[1], app.steps)
    ys = np.linspace(app.extent[2], app.extent[3], app.steps)
    x1, x2 = np.meshgrid(xs, ys)
    g = (
        app.ova.thetas[:, 0]
        + x1[..., None] * app.ova.thetas[:, 1]
        + x2[..., None] * app.ova.thetas[:, 2]
    )
    claims = (g > threshold).sum(axis=-1)
    return np.mean(claims == 0), np.mean(claims > 1)


def direct_ovo_tie_fraction(app):
    x1, x2 = np.meshgrid(
        np.linspace(*app.extent[:2], app.steps), np.linspace(*app.extent[2:], app.steps)
    )
    votes = np.zeros(x1.shape + (app.ovo.num_classes,), dtype=int)
    for (i, j), theta in zip(app.ovo.pairs, app.ovo.thetas):
        first = theta[0] + theta[1] * x1 + theta[2] * x2 > 0
        votes[..., i] += first
        votes[..., j] += ~first
    return np.mean((votes == votes.max(axis=-1, keepdims=True)).sum(axis=-1) > 1)


class TestMulticlassApp:
    @pytest.mark.parametrize("threshold", [0.0, 1.5, -2.0])
    def test_ova_ambiguous_fractions_equal_a_direct_count(self, app, threshold):
        app.set(classes=3, spread=0.8, threshold=threshold)
        none, several = direct_ova_fractions(app, threshold)
        assert app.fractions["ova_none"] == pytest.approx(none)
        assert app.fractions["ova_several"] == pytest.approx(several)
        assert app.fractions["ova_ambiguous"] == pytest.approx(none + several)
        assert f"no class {none:.1%}, several {several:.1%}" in app.axes[0].get_title()

    def test_raising_the_threshold_grows_the_no_class_area(self, app):
        low = app.set(threshold=-1.0).fractions["ova_none"]
        high = app.set(threshold=2.0).fractions["ova_none"]
        assert high > low
        app.set(threshold=0.0)

    def test_ovo_tie_fraction_equals_a_direct_count(self, app):
        app.set(classes=5, spread=1.0, threshold=0.0)
        assert app.fractions["ovo_tie"] == pytest.approx(direct_ovo_tie_fraction(app))
        assert f"ties {app.fractions['ovo_tie']:.2%}" in app.axes[1].get_title()
        assert "(10 classifiers)" in app.axes[1].get_title()

    def test_softmax_is_never_ambiguous_and_shows_k_colours(self, app):
        app.set(classes=4, spread=0.8)
        assert app.fractions["softmax_ambiguous"] == 0.0
        assert set(np.unique(app.softmax_labels)) == {0, 1, 2, 3}
        image = app.images[2].get_array()
        np.testing.assert_allclose(image[0, 0], region_rgba(app.softmax_labels[:1, :1], 4)[0, 0])

    def test_images_and_points_follow_the_controls(self, app):
        app.set(classes=4, spread=0.5, threshold=0.0)
        X, y = blobs(n=4 * app.points_per_class, centers=4, std=0.5, seed=app.seed)
        np.testing.assert_allclose(app.points[0].get_offsets(), X)
        np.testing.assert_array_equal(app.points[1].get_array(), y)
        ova_image = np.asarray(app.images[0].get_array())
        several = app.ova_labels == -2
        assert several.any()
        np.testing.assert_allclose(ova_image[several][0], to_rgba(SEVERAL_COLOR, 0.7))
        unambiguous = app.ova_labels == 1
        np.testing.assert_allclose(ova_image[unambiguous][0], to_rgba(CLASS_COLORS[1], 0.3))

    def test_accuracies_are_recomputed(self, app):
        app.set(classes=3, spread=1.5, threshold=0.0)
        assert app.accuracy["softmax"] == pytest.approx(
            np.mean(app.softmax.predict(app.X) == app.y)
        )
        # a point claimed by exactly one class has that class as its argmax, so argmax is never
        # worse
        assert app.accuracy["ova_sign"] <= app.accuracy["ova_argmax"]
        assert app.accuracy["ova_sign"] == pytest.approx(np.mean(app.ova.decide(app.X) == app.y))


def legend_labels(legend):
    return [text.get_text() for text in legend.get_texts()]


def test_ambiguity_legend_names_what_each_map_can_show():
    app = MulticlassApp()
    ova_panel, ovo_panel, _ = app.axes
    ova_legends = [a for a in ova_panel.artists if isinstance(a, Legend)]
    ovo_legends = [a for a in ovo_panel.artists if isinstance(a, Legend)]
    assert [legend_labels(l) for l in ova_legends] == [["no class", "several classes"]]
    # every duel votes for one of its classes, so a one-vs-one map has ties but never "no class"
    assert [legend_labels(l) for l in ovo_legends] == [["vote tie"]]


def test_ambiguity_legend_survives_a_second_legend():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="g_0 = 0")
    first = ambiguity_legend(ax)
    ax.legend(loc="upper right")
    drawn = [a for a in ax.get_children() if isinstance(a, Legend)]
    assert first in drawn and ax.get_legend() in drawn and len(drawn) == 2
    assert legend_labels(ax.get_legend()) == ["g_0 = 0"]
