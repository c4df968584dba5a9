"""The class legend of region plots: one entry per class, in the colours the points use."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from coursekit.display.plotting import class_legend, scatter_classes


def test_class_legend_names_each_class_in_its_point_colour():
    fig, ax = plt.subplots()
    points = scatter_classes(
        ax, np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]), np.array([0, 1, 2])
    )
    legend = class_legend(ax, 3)
    assert [text.get_text() for text in legend.get_texts()] == ["class 0", "class 1", "class 2"]
    marker_colours = [to_rgba(handle.get_markerfacecolor()) for handle in legend.legend_handles]
    point_colours = [tuple(c) for c in points.to_rgba(points.get_array())]
    assert marker_colours == point_colours
    plt.close(fig)


def test_class_legend_takes_names_and_rejects_a_wrong_count():
    fig, ax = plt.subplots()
    legend = class_legend(ax, 2, labels=["inner", "outer"])
    assert [text.get_text() for text in legend.get_texts()] == ["inner", "outer"]
    with pytest.raises(ValueError, match="labels must name 3 classes, got 2"):
        class_legend(ax, 3, labels=["a", "b"])
    plt.close(fig)
