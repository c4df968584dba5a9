"""ipywidgets slider apps, one module per chapter topic, all built on :class:`SliderApp`."""

from coursekit.widgets.app import SliderApp

__all__ = ["SliderApp"]
