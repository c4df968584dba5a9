"""The slider-app pattern shared by every chapter.

A :class:`SliderApp` owns one matplotlib figure and a few ipywidgets controls. Subclasses create
their artists once in :meth:`SliderApp.setup` and only *update* them in :meth:`SliderApp.redraw`
(``set_data``, ``set_text``, ...), which keeps a redraw cheap and makes the app testable without
a browser: a test sets the controls with :meth:`SliderApp.set` and inspects the artists.

How it shows up:

* In Jupyter or Binder, moving a slider calls :meth:`redraw` and re-renders the figure into an
  ``Output`` widget, so the picture follows the slider live.
* On the static website the notebook was executed at build time; the widget state, including
  the figure drawn at the default values, is embedded in the page, so the sliders and the first
  figure render without a kernel (they cannot change it without one).
"""

from __future__ import annotations

import io
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure


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

    def __init__(self) -> None:
        self.fig = Figure(figsize=self.figsize, layout="constrained")
        self.controls: dict[str, widgets.ValueWidget] = self.make_controls()
        self._output = widgets.Output()
        self.setup(self.fig)
        self._batch = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
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

    # --- machinery -----------------------------------------------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        """Current control values, name -> value."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values: Any) -> "SliderApp":
        """Set several controls at once and redraw once (what a test or a notebook cell uses).

        Raises:
            KeyError: for a name that is not one of this app's controls.
        """
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(f"unknown control(s) {sorted(unknown)}; this app has {list(self.controls)}")
        self._batch = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._batch = False
        self.refresh()
        return self

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
        self.fig.savefig(buffer, format="png", dpi=self.dpi)
        return buffer.getvalue()

    def _on_change(self, _change: dict[str, Any]) -> None:
        if not self._batch:
            self.refresh()

    @property
    def widget(self) -> widgets.Widget:
        """The controls above the figure, ready to display."""
        return widgets.VBox([widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")), self._output])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
