"""Every slider app keeps one layout, and that layout fits every state of its controls.

:meth:`coursekit.widgets.app.SliderApp.freeze_layout` lays a figure out once, for the initial
values and the app's ``layout_states()``, and pins titles and axis labels. These tests move each
app to those states and to seeded random ones and check, on the drawn figure, that the axes did
not move, that every title, axis label and tick label lies inside the figure and clear of the
other panels, and that a title does not run into the tick or offset labels of its own axes.
A failure names the app and the state: add a state to the app's ``layout_states()``.
"""

import importlib
import inspect
import itertools
import math
import pkgutil
import random

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.transforms import Bbox

import coursekit.widgets
from coursekit.widgets.app import SliderApp

RANDOM_STATES = 6
TOLERANCE = 0.5  # pixels: anti-aliasing rounds extents to half pixels


def slider_apps() -> list[type[SliderApp]]:
    """Every SliderApp subclass defined in a coursekit.widgets module."""
    apps = []
    for info in sorted(pkgutil.iter_modules(coursekit.widgets.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"coursekit.widgets.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            defined_here = cls.__module__ == module.__name__
            if issubclass(cls, SliderApp) and cls is not SliderApp and defined_here:
                apps.append(cls)
    return apps


def random_value(control, rng: random.Random):
    """A random value the control can take (an option, or a point of a slider's grid)."""
    options = getattr(control, "_options_values", None)
    if options is not None:
        return rng.choice(list(options))
    kind = type(control).__name__
    steps = int(math.floor((control.max - control.min) / control.step + 1e-9))
    position = control.min + control.step * rng.randint(0, steps)
    if kind == "FloatLogSlider":
        return control.base**position
    if kind == "IntSlider":
        return int(position)
    return min(position, control.max)


def states(app: SliderApp, seed: int) -> list[dict]:
    rng = random.Random(seed)
    drawn = [
        {name: random_value(control, rng) for name, control in app.controls.items()}
        for _ in range(RANDOM_STATES)
    ]
    return [dict(state) for state in app.layout_states()] + drawn


def labels_of(ax, renderer) -> dict[str, list[Bbox]]:
    """Extents of the texts around an axes: titles, axis labels, tick labels and offset texts."""
    frame = ax.get_window_extent(renderer)
    found = {"titles": [], "axis labels": [], "tick labels": []}
    if ax.title.get_visible() and ax.title.get_text():  # the apps use the centred title only
        found["titles"].append(ax.title.get_window_extent(renderer))
    for axis in (ax.xaxis, ax.yaxis):
        if not (ax.axison and axis.get_visible()):
            continue
        if axis.label.get_visible() and axis.label.get_text():
            found["axis labels"].append(axis.label.get_window_extent(renderer))
        if axis.offsetText.get_visible() and axis.offsetText.get_text():
            found["tick labels"].append(axis.offsetText.get_window_extent(renderer))
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            # only ticks inside the view are drawn
            if axis is ax.xaxis:
                x = ax.transData.transform((tick.get_loc(), 1.0))[0]
                inside = frame.x0 - 1 <= x <= frame.x1 + 1
            else:
                y = ax.transData.transform((1.0, tick.get_loc()))[1]
                inside = frame.y0 - 1 <= y <= frame.y1 + 1
            if not inside:
                continue
            for label in (tick.label1, tick.label2):
                if label.get_visible() and label.get_text():
                    found["tick labels"].append(label.get_window_extent(renderer))
    return found


def overlap(a: Bbox, b: Bbox) -> bool:
    across = min(a.x1, b.x1) - max(a.x0, b.x0)
    up = min(a.y1, b.y1) - max(a.y0, b.y0)
    return across > TOLERANCE and up > TOLERANCE


def layout_problems(app: SliderApp) -> list[str]:
    fig = app.fig
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    texts = {i: labels_of(ax, renderer) for i, ax in enumerate(fig.axes)}
    frames = {i: ax.get_window_extent(renderer) for i, ax in enumerate(fig.axes)}
    figure = fig.bbox.padded(TOLERANCE)
    for i, found in texts.items():
        for kind, boxes in found.items():
            for box in boxes:
                if not (figure.contains(box.x0, box.y0) and figure.contains(box.x1, box.y1)):
                    problems.append(
                        f"one of the {kind} of axes {i} leaves the figure: "
                        f"{np.round(box.extents, 1)}"
                    )
        pairs = (
            ("titles", "axis labels"),
            ("titles", "tick labels"),
            ("axis labels", "tick labels"),
        )
        for first, second in pairs:
            if any(overlap(a, b) for a, b in itertools.product(found[first], found[second])):
                problems.append(f"{first} and {second} of axes {i} overlap")
    for i, j in itertools.permutations(texts, 2):
        mine = [box for boxes in texts[i].values() for box in boxes]
        theirs = [frames[j]] + [box for boxes in texts[j].values() for box in boxes]
        if any(overlap(a, b) for a, b in itertools.product(mine, theirs)):
            problems.append(f"a label of axes {i} runs into axes {j}")
    return problems


@pytest.mark.parametrize("app_class", slider_apps(), ids=lambda cls: cls.__name__)
def test_one_layout_fits_every_state(app_class):
    app = app_class()
    assert app.fig.get_layout_engine() is None
    positions = np.array([ax.get_position().extents for ax in app.fig.axes])
    assert layout_problems(app) == [], f"{app_class.__name__} at its initial values"
    for state in states(app, seed=len(app_class.__name__)):
        app.set(**state)
        np.testing.assert_array_equal([ax.get_position().extents for ax in app.fig.axes], positions)
        problems = layout_problems(app)
        assert problems == [], f"{app_class.__name__} at {app.values}: {problems}"


def test_layout_states_must_name_real_controls():
    from coursekit.widgets.logodds import LogOddsApp

    class Misnamed(LogOddsApp):
        def layout_states(self):
            return [{"slope": 2.0}]

    with pytest.raises(KeyError, match=r"unknown control\(s\) \['slope'\]"):
        Misnamed()
