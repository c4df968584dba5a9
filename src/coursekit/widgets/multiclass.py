"""Slider app for the one-vs-all / one-vs-one chapter: where are the decisions ambiguous?

Three panels over the same square of the plane and the same blobs:

1. one-vs-all with sign-based decisions (class k claims x when g_k(x) > t): points claimed by no
   class or by several classes are shaded as ambiguous;
2. one-vs-one with majority voting: points where the top vote count is shared (ties) are shaded;
3. softmax regression, argmax of the scores: never ambiguous.

The fraction of the square each kind of ambiguity covers is computed on the drawing grid and
shown in the panel titles.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Patch

from coursekit.data import blobs
from coursekit.chapters.multiclass import (
    NO_CLASS,
    SEVERAL_CLASSES,
    OneVsAll,
    OneVsOne,
    region_fractions,
)
from coursekit.display.plotting import CLASS_COLORS, grid, scatter_classes
from coursekit.chapters.softmax_regression import SoftmaxRegression
from coursekit.widgets.app import SliderApp
from coursekit.widgets.frames import ALL

NO_CLASS_COLOR = "#FFFFFF"  # nobody claims the point: left blank
SEVERAL_COLOR = "#4D4D4D"  # claimed by several classes (or a vote tie): dark grey


def region_rgba(labels: np.ndarray, num_classes: int, alpha: float = 0.3) -> np.ndarray:
    """Colour a 2-D array of decisions: light class colours, white for NO_CLASS, grey for SEVERAL.

    Args:
        labels: integer decisions in ``0 .. num_classes - 1`` or NO_CLASS / SEVERAL_CLASSES.
        num_classes: number of classes (at most ``len(CLASS_COLORS)``).
        alpha: opacity of the class colours; the ambiguous grey is drawn darker so it stands out.

    Returns:
        RGBA image of shape ``labels.shape + (4,)``, ready for ``imshow``. It is float32: the
        picture has 8 bits per channel anyway, and Agg resamples a float32 image several times
        faster than a float64 one (in the slider app that was a third of the draw).
    """
    labels = np.asarray(labels)
    if not 1 <= num_classes <= len(CLASS_COLORS):
        raise ValueError(
            f"num_classes must be between 1 and {len(CLASS_COLORS)}, got {num_classes}"
        )
    valid = (
        (labels == NO_CLASS)
        | (labels == SEVERAL_CLASSES)
        | ((labels >= 0) & (labels < num_classes))
    )
    if not np.all(valid):
        raise ValueError(
            f"labels must be classes 0..{num_classes - 1}, NO_CLASS or SEVERAL_CLASSES"
        )
    # A palette row per possible label, looked up in one indexing step: row 0 is for
    # SEVERAL_CLASSES, row 1 for NO_CLASS, row 2 + k for class k.
    palette = np.array(
        [to_rgba(SEVERAL_COLOR, min(1.0, 2 * alpha + 0.1)), to_rgba(NO_CLASS_COLOR, 1.0)]
        + [to_rgba(CLASS_COLORS[k], alpha) for k in range(num_classes)],
        dtype=np.float32,
    )
    rows = np.where(labels >= 0, labels + 2, np.where(labels == NO_CLASS, 1, 0))
    return palette[rows]


def ambiguity_legend(ax: Axes, ties: bool = False) -> Legend:
    """Add a legend for the ambiguous colours of a region map, in the lower left corner.

    Args:
        ax: the axes showing the regions.
        ties: the map shows one-vs-one votes: the grey is a vote tie, and there is no "no class"
            entry (every duel votes for one of its two classes, so some class always has votes).
            Otherwise the entries are "no class" (white) and "several classes" (grey).

    Returns:
        The legend. It is added as an artist of its own, so a later ``ax.legend(...)`` (of the
        decision lines, say) appears beside it instead of replacing it.
    """
    several = Patch(
        facecolor=to_rgba(SEVERAL_COLOR, 0.7), label="vote tie" if ties else "several classes"
    )
    handles = (
        [several]
        if ties
        else [
            Patch(facecolor=NO_CLASS_COLOR, edgecolor="black", linewidth=0.5, label="no class"),
            several,
        ]
    )
    legend = Legend(
        ax, handles, [h.get_label() for h in handles], loc="lower left", fontsize=7, framealpha=0.9
    )
    ax.add_artist(legend)
    return legend


@dataclass
class _Trained:
    """Everything that depends on K and the spread but not on the threshold."""

    X: np.ndarray
    y: np.ndarray
    ova: OneVsAll
    ovo: OneVsOne
    softmax: SoftmaxRegression
    ovo_labels: np.ndarray
    softmax_labels: np.ndarray
    accuracy: dict[str, float]  # the threshold-free ones: ova_argmax, ovo, softmax


class MulticlassApp(SliderApp):
    """One-vs-all, one-vs-one and softmax regression on ``K`` blobs, with ambiguous areas measured.

    Controls: ``classes`` (K), ``spread`` (standard deviation of every blob) and ``threshold``
    (t: one-vs-all class k claims x when its discriminant g_k(x) > t; t = 0 is the sign rule).

    Keeping a move fast: the three models and the one-vs-one and softmax decisions on the grid
    depend on K and the spread only. They are computed when a (K, spread) pair is first shown
    and kept for the last ``cache_size`` pairs, so moving the threshold, or going back to a pair
    seen before, only redoes the one-vs-all decisions and redraws what changed.

    Attributes (updated on every redraw):
        X, y: the training data.
        ova, ovo, softmax: the trained :class:`~coursekit.chapters.multiclass.OneVsAll`,
            :class:`~coursekit.chapters.multiclass.OneVsOne` and
            :class:`~coursekit.chapters.softmax_regression.SoftmaxRegression`.
        grid_points: the ``(steps**2, 2)`` grid the regions and fractions are computed on.
        ova_labels, ovo_labels, softmax_labels: decisions on the grid, shape ``(steps, steps)``.
        fractions: ``{"ova_none", "ova_several", "ova_ambiguous", "ovo_tie", "softmax_ambiguous"}``,
            each a fraction of the grid, as printed in the titles.
        accuracy: training accuracy per method, ``{"ova_sign", "ova_argmax", "ovo", "softmax"}``;
            for ``ova_sign`` an ambiguous point counts as an error.
        images: the three ``AxesImage`` artists; points: the three scatter collections.
    """

    figsize = (11.0, 4.6)
    extent = (-5.0, 5.0, -5.0, 5.0)
    steps = 200
    points_per_class = 60
    seed = 0
    cache_size = 12  # (K, spread) pairs kept; each holds two 200 x 200 label grids

    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        return {
            "classes": widgets.IntSlider(
                value=3, min=3, max=5, description="K", continuous_update=False
            ),
            "spread": widgets.FloatSlider(
                value=0.8, min=0.3, max=1.5, step=0.1, description="spread", continuous_update=False
            ),
            "threshold": widgets.FloatSlider(
                value=0.0,
                min=-4.0,
                max=4.0,
                step=0.25,
                description="OvA t",
                continuous_update=False,
            ),
        }

    def static_grid(self) -> dict[str, Any]:
        # Every K, five spreads, the threshold in whole steps: 135 frames. The three models are
        # trained once per (K, spread) pair; the threshold varies fastest, so each pair's models
        # are reused for its nine thresholds.
        return {
            "classes": ALL,
            "spread": [0.3, 0.5, 0.8, 1.1, 1.5],
            "threshold": [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0],
        }

    def setup(self, fig: Figure) -> None:
        self.axes = fig.subplots(1, 3, sharex=True, sharey=True)
        _, _, self.grid_points = grid(self.extent, self.steps)
        blank = np.zeros((self.steps, self.steps, 4), dtype=np.float32)
        self.images = [
            ax.imshow(
                blank,
                origin="lower",
                extent=self.extent,
                interpolation="nearest",
                aspect="equal",
                zorder=0,
            )
            for ax in self.axes
        ]
        self.points = []
        for ax in self.axes:
            self.points.append(
                scatter_classes(
                    ax, np.zeros((1, 2)), np.zeros(1, dtype=int), num_classes=len(CLASS_COLORS)
                )
            )
            ax.set_xlim(self.extent[:2])
            ax.set_ylim(self.extent[2:])
            ax.set_xlabel("$x_1$")
        self.axes[0].set_ylabel("$x_2$")
        ambiguity_legend(self.axes[0])
        ambiguity_legend(self.axes[1], ties=True)
        self._cache: OrderedDict[tuple[int, float], _Trained] = OrderedDict()
        self._shown: _Trained | None = None

    def _train(self, k: int, spread: float) -> _Trained:
        """Make the blobs, train the three models, decide on the grid (cached per K and spread)."""
        key = (k, round(spread, 9))  # slider values such as 0.30000000000000004
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        X, y = blobs(n=self.points_per_class * k, centers=k, std=spread, seed=self.seed)
        ova = OneVsAll().fit(X, y)
        ovo = OneVsOne().fit(X, y)
        softmax = SoftmaxRegression(2, k)
        softmax.fit(X, y, lr=0.5, epochs=300)
        shape = (self.steps, self.steps)
        trained = _Trained(
            X=X,
            y=y,
            ova=ova,
            ovo=ovo,
            softmax=softmax,
            ovo_labels=ovo.decide(self.grid_points).reshape(shape),
            softmax_labels=softmax.predict(self.grid_points).reshape(shape),
            accuracy={
                "ova_argmax": float(np.mean(ova.predict(X) == y)),
                "ovo": float(np.mean(ovo.predict(X) == y)),
                "softmax": softmax.accuracy(X, y),
            },
        )
        self._cache[key] = trained
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return trained

    def redraw(self, **values: Any) -> None:
        k, spread, threshold = (
            int(values["classes"]),
            float(values["spread"]),
            float(values["threshold"]),
        )
        trained = self._train(k, spread)
        self.X, self.y = trained.X, trained.y
        self.ova, self.ovo, self.softmax = trained.ova, trained.ovo, trained.softmax
        self.ovo_labels, self.softmax_labels = trained.ovo_labels, trained.softmax_labels
        self.threshold = threshold
        self.ova_labels = self.ova.decide(self.grid_points, threshold).reshape(
            self.steps, self.steps
        )

        ova = region_fractions(self.ova_labels)
        self.fractions = {
            "ova_none": ova["none"],
            "ova_several": ova["several"],
            "ova_ambiguous": ova["ambiguous"],
            "ovo_tie": region_fractions(self.ovo_labels)["several"],
            "softmax_ambiguous": region_fractions(self.softmax_labels)["ambiguous"],
        }
        sign_accuracy = float(np.mean(self.ova.decide(self.X, threshold) == self.y))
        self.accuracy = {"ova_sign": sign_accuracy, **trained.accuracy}
        self.images[0].set_data(region_rgba(self.ova_labels, k))
        if trained is not self._shown:  # the other two panels change with K and the spread only
            self.images[1].set_data(region_rgba(self.ovo_labels, k))
            self.images[2].set_data(region_rgba(self.softmax_labels, k))
            for points in self.points:
                points.set_offsets(self.X)
                points.set_array(self.y)
            self._shown = trained
        f, a = self.fractions, self.accuracy
        self.axes[0].set_title(
            f"one-vs-all, sign of $g_k - t$ ({k} classifiers)\nno class {f['ova_none']:.1%}, "
            f"several {f['ova_several']:.1%}; accuracy {a['ova_sign']:.1%}",
            fontsize=9,
        )
        self.axes[1].set_title(
            f"one-vs-one, majority vote ({k * (k - 1) // 2} classifiers)\nties {f['ovo_tie']:.2%}; "
            f"accuracy {a['ovo']:.1%}",
            fontsize=9,
        )
        self.axes[2].set_title(
            f"softmax regression, argmax\nambiguous {f['softmax_ambiguous']:.1%}; "
            f"accuracy {a['softmax']:.1%}",
            fontsize=9,
        )
