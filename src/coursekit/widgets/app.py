"""The slider-app pattern shared by every chapter.

A :class:`SliderApp` owns one matplotlib figure and a few ipywidgets controls. Subclasses create
their artists once in :meth:`SliderApp.setup` and only *update* them in :meth:`SliderApp.redraw`
(``set_data``, ``set_text``, ...), which keeps a redraw cheap and makes the app testable without
a browser: a test sets the controls with :meth:`SliderApp.set` and inspects the artists.

How it shows up:

* In Jupyter or Binder, moving a slider calls :meth:`redraw` and re-renders the figure into an
  ``Output`` widget, so the picture follows the slider live.
* On the static website there is no kernel. When the book is built, the app draws its figure
  for every point of the grid it declares in :meth:`SliderApp.static_grid` (the same
  :meth:`redraw`), and the page plays those frames back with plain HTML controls; controls left
  out of the grid are shown disabled, with :data:`LIVE_APP_NOTE`. See
  :mod:`coursekit.widgets.frames`.

Keeping a move fast (one move, in a kernel: ``redraw`` plus ``png``, which renders the whole
figure with Agg and encodes it):

* the figure is laid out once, when the app is built, and that layout is kept
  (:meth:`SliderApp.freeze_layout`): the axes positions, the axis labels and the titles no
  longer move. Matplotlib's constrained-layout solver and its automatic label and title
  placement measure every tick label on every draw; that was about half of a simple app's
  draw, and it made the panels shift whenever a tick label grew by a digit. An app whose labels
  change size with the controls names, in :meth:`SliderApp.layout_states`, the states that need
  the most room, so that the one layout fits them all;
* the figure keeps one Agg canvas, whose renderer caches the sizes of texts from draw to draw;
* :meth:`SliderApp.png` compresses less (see there).

``tests/widgets/test_widgets_layout.py`` checks every app's layout against its layout states and
random ones.
"""

from __future__ import annotations

import inspect
import io
import os
import re
from typing import Any

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.transforms import Bbox


#: The one sentence every page of the website shows under a slider app it cannot play back,
#: saying how to get the app live. The website's build (``_ext/reader_pages.py``) and anything
#: else that shows it use this constant, so the wording is the same on every page.
LIVE_APP_NOTE = (
    "On this website the greyed-out controls stay at the values the figure was drawn for. To move "
    "them, open this chapter in Binder or Colab (the rocket button at the top of the page) or run "
    "the notebook on your own computer."
)


def label_controls(controls: dict[str, widgets.ValueWidget]) -> None:
    """Give every control a label that is shown in full and that screen readers announce.

    ipywidgets cuts a description to a fixed width ("learning r..."), with no tooltip. With
    ``description_width="initial"`` the label takes the room it needs; the tooltip repeats it
    (a hover shows the whole label even where the page is narrow). The description is the
    control's accessible name; a control without one is named after its key in ``controls``.
    """
    for name, control in controls.items():
        if not control.description:
            control.description = name
        if "description_width" in control.style.keys:
            control.style.description_width = "initial"
        if not control.tooltip:
            control.tooltip = control.description


def number_text(value: float, spec: str) -> str:
    """``value`` formatted with ``spec`` and a real minus sign, as tick labels and math text show
    it.

    The apps print changing numbers outside ``$...$``: matplotlib parses a math text anew for
    every new string, and for a number that is most of the text's cost.
    """
    return format(value, spec).replace("-", "\N{MINUS SIGN}")


def _axis_label_coords(fig: Figure) -> list[tuple[Axis, np.ndarray]]:
    """Each shown axis label of the figure's axes, with its position in its axes' coordinates."""
    found = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label
            if axis.get_visible() and label.get_visible() and label.get_text():
                display = label.get_transform().transform(label.get_position())
                found.append((axis, ax.transAxes.inverted().transform(display)))
    return found


def _in_kernel() -> bool:
    """True inside a running IPython kernel (Jupyter, Binder, the book build)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class SliderApp:
    """A figure driven by named controls.

    Subclasses implement :meth:`make_controls`, :meth:`setup` and :meth:`redraw`.

    Attributes:
        fig: the matplotlib figure (a plain ``Figure``, so it is never shown twice by pyplot).
        controls: name -> ipywidgets control, in display order.
    """

    figsize: tuple[float, float] = (6.4, 4.4)
    dpi: int = 100

    #: What the figure shows, in a sentence: the website's ``alt`` text (see figure_description).
    description: str = ""

    #: How many apps of each kind this process has shown on the website (their element ids).
    _shown: dict[str, int] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> "SliderApp":
        # The constructor arguments are part of the frame cache's key: an app built with other
        # data draws other frames.
        self = super().__new__(cls)
        self.init_arguments = (args, kwargs)
        return self

    def __init__(self) -> None:
        self.fig = Figure(figsize=self.figsize, layout="constrained")
        # A canvas of its own, so that every picture of this figure is rendered by the same Agg
        # renderer, which keeps its caches of text sizes; a plain Figure would get a new canvas
        # and renderer for each savefig, and measure all of its texts anew (about a third more
        # time per move).
        FigureCanvasAgg(self.fig)
        self.controls: dict[str, widgets.ValueWidget] = self.make_controls()
        label_controls(self.controls)
        self._output = widgets.Output()
        # Titles at a fixed height (y = 1 plus the usual pad) rather than the automatic position:
        # to place a title automatically, matplotlib measures the axes' tick labels on every draw
        # (to lift the title over ticks at the top or an offset text), a sixth of a simple app's
        # draw. The apps' x ticks are at the bottom, where the automatic title sits at y = 1 too.
        with matplotlib.rc_context({"axes.titley": 1.0}):
            self.setup(self.fig)
        self._batch = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.freeze_layout()
        self.refresh()

    # --- to implement --------------------------------------------------------------------------
    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        """Return the controls, name -> widget (``continuous_update=False`` keeps Binder snappy)."""
        raise NotImplementedError(f"{type(self).__name__} must define make_controls()")

    def setup(self, fig: Figure) -> None:
        """Create axes and artists once, at their initial (empty or default) state."""
        raise NotImplementedError(f"{type(self).__name__} must define setup()")

    def redraw(self, **values: Any) -> None:
        """Update the existing artists for the given control values (no new figure)."""
        raise NotImplementedError(f"{type(self).__name__} must define redraw()")

    def static_grid(self) -> dict[str, Any]:
        """The grid of control values the website plays back, control name -> steps.

        Each entry is :data:`coursekit.widgets.frames.ALL` (every option of a dropdown, every
        position of a slider), a number of steps (spread evenly over a slider's positions, in
        log for a log slider) or a list of values. The initial value is always added. Controls
        left out keep their initial value on the website and are shown disabled with
        :data:`LIVE_APP_NOTE`. The default, an empty grid, is a figure that cannot move there.
        The grid's size (the product of the steps) is limited by
        :data:`coursekit.widgets.frames.FRAME_BUDGET`.
        """
        return {}

    def figure_description(self) -> str:
        """What the figure shows, in a sentence (the website's ``alt`` text for it).

        :attr:`description` if the app sets it, else the first line of the class docstring
        without reStructuredText markup.
        """
        if self.description:
            return self.description
        doc = inspect.getdoc(type(self)) or type(self).__name__
        first = doc.strip().splitlines()[0]
        first = re.sub(r":[a-z]+:`~?([^`]*)`", lambda m: m.group(1).split(".")[-1], first)
        return first.replace("``", "").rstrip(".")

    def layout_states(self) -> list[dict[str, Any]]:
        """Control values (besides the initial ones) whose labels need the most room.

        The layout computed by :meth:`freeze_layout` fits the initial values and every state
        listed here. An app whose tick labels or titles change size with the controls lists the
        states that make them largest; each is a dict of some control names to values, the other
        controls keep their initial values. The default, no extra state, suits a figure whose
        labels do not depend on the controls.
        """
        return []

    # --- machinery -----------------------------------------------------------------------------
    def freeze_layout(self) -> None:
        """Lay the figure out once, so that it fits every state, and keep that layout.

        Two things matplotlib would otherwise recompute on every draw are fixed here:

        * the axes positions. For the initial values and each of :meth:`layout_states` the
          artists are redrawn and the constrained-layout solver places the axes; each axes keeps
          the intersection of the boxes it was given, i.e. on every side the widest margin any of
          those states needed. The figure is then left without a layout engine.
        * the axis labels' positions. Matplotlib places an axis label just clear of the tick
          labels, which it measures on every draw; each label is pinned where it sat in the state
          whose tick labels reached furthest out.

        Together they were about half of a simple app's draw, and they made the panels and labels
        shift whenever a tick label grew by a digit. A figure without constrained layout (an app
        that placed its axes itself) keeps its axes where they are.

        Raises:
            KeyError: if :meth:`layout_states` names a control the app does not have.
        """
        initial = self.values
        states = [{}, *self.layout_states()]
        unknown = {name for state in states for name in state} - set(initial)
        if unknown:
            raise KeyError(
                f"layout_states() names unknown control(s) {sorted(unknown)}; "
                f"this app has {list(initial)}"
            )

        if isinstance(self.fig.get_layout_engine(), ConstrainedLayoutEngine):
            boxes = None
            for state in states:
                self.redraw(**{**initial, **state})
                self.fig.draw_without_rendering()  # runs the solver
                extents = np.array([ax.get_position(original=True).extents for ax in self.fig.axes])
                if boxes is None:
                    boxes = extents
                else:  # lower left corner as far up and right, upper right as far down and left
                    lower_left = np.maximum(boxes[:, :2], extents[:, :2])
                    upper_right = np.minimum(boxes[:, 2:], extents[:, 2:])
                    boxes = np.concatenate([lower_left, upper_right], axis=1)
            for ax, box in zip(self.fig.axes, boxes):
                ax.set_position(Bbox.from_extents(*box))
        # None rather than "none": "none" leaves a placeholder engine behind, and savefig runs an
        # extra (non-rendering) draw for any figure that has an engine. The rc values would
        # otherwise let `None` bring a default engine back.
        no_default_engine = {"figure.autolayout": False, "figure.constrained_layout.use": False}
        with matplotlib.rc_context(no_default_engine):
            self.fig.set_layout_engine(None)

        outermost: dict[Axis, np.ndarray] = {}
        for state in states:
            self.redraw(**{**initial, **state})
            self.fig.draw_without_rendering()  # places the labels for this state's tick labels
            for axis, xy in _axis_label_coords(self.fig):
                if axis in outermost:
                    # the coordinate across the axis: further from the axes (x < 0 for a
                    # y label on the left, y > 1 for an x label on top, ...)
                    k = 1 if axis.axis_name == "x" else 0
                    pick = min if xy[k] < 0.5 else max
                    xy[k] = pick(xy[k], outermost[axis][k])
                outermost[axis] = xy
        for axis, xy in outermost.items():
            axis.set_label_coords(*xy)

    @property
    def values(self) -> dict[str, Any]:
        """Current control values, name -> value."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values: Any) -> "SliderApp":
        """Set several controls at once and redraw once (what a test or a notebook cell uses).

        Raises:
            KeyError: for a name that is not one of this app's controls.
        """
        self._assign(values)
        self.refresh()
        return self

    def show_state(self, values: dict[str, Any]) -> None:
        """Set the controls and redraw the figure, without showing it (a website frame)."""
        self._assign(values)
        self.redraw(**self.values)

    def _assign(self, values: dict[str, Any]) -> None:
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(
                f"unknown control(s) {sorted(unknown)}; this app has {list(self.controls)}"
            )
        self._batch = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._batch = False

    def refresh(self) -> None:
        """Redraw with the current values and, inside a kernel, show the new picture."""
        self.redraw(**self.values)
        if _in_kernel():
            from IPython.display import Image, clear_output, display

            with self._output:
                clear_output(wait=True)
                # A PNG rather than the figure object: it renders the same whatever matplotlib
                # backend the kernel uses, and it is what gets embedded in the static page.
                display(Image(data=self.png(), format="png"))

    def png(self) -> bytes:
        """The figure as PNG bytes, as the notebook shows it."""
        buffer = io.BytesIO()
        # zlib level 3 instead of Pillow's default 6: the encoding takes about a third less
        # time (a sixth of a move as shown in Jupyter) for files 2 to 5 % larger.
        self.fig.savefig(buffer, format="png", dpi=self.dpi, pil_kwargs={"compress_level": 3})
        return buffer.getvalue()

    def _on_change(self, _change: dict[str, Any]) -> None:
        if not self._batch:
            self.refresh()

    @property
    def widget(self) -> widgets.Widget:
        """The controls above the figure, ready to display."""
        return widgets.VBox(
            [
                widgets.HBox(
                    list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
                ),
                self._output,
            ]
        )

    def static_player(self) -> str:
        """The app as the website shows it (HTML), its frames drawn into the frame cache.

        Raises:
            GridError: the declared grid is malformed or exceeds the frame budget.
            RuntimeError: no frame cache is set (only the book build sets one).
        """
        from pathlib import Path

        from coursekit.widgets import frames

        cache = os.environ.get(frames.FRAMES_ENV)
        if not cache:
            raise RuntimeError(
                f"no frame cache: ${frames.FRAMES_ENV} is set by the book build only"
            )
        axes = frames.grid_axes(self)
        key, manifest = frames.cached_render(self, axes, Path(cache))
        base = re.sub(r"app$", "", type(self).__name__.lower()) or "app"
        count = SliderApp._shown[base] = SliderApp._shown.get(base, 0) + 1
        player_id = base if count == 1 else f"{base}{count}"
        return frames.player_html(self, player_id, axes, key, manifest)

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        from coursekit.widgets.frames import FRAMES_ENV

        if os.environ.get(FRAMES_ENV):  # the book build: the website plays frames, no kernel
            display(HTML(self.static_player()))
        else:
            display(self.widget)
