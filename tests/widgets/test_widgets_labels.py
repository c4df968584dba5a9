"""Every control of every slider app has a label shown in full, also as its tooltip.

The label is what a screen reader announces for the control and what the website's static
player shows beside it, so an empty or cut label leaves a reader guessing which slider is which.
"""

import pytest

from coursekit.widgets.app import LIVE_APP_NOTE, label_controls
from test_widgets_layout import slider_apps

import ipywidgets as widgets


@pytest.mark.parametrize("app_class", slider_apps(), ids=lambda cls: cls.__name__)
def test_every_control_is_labelled_in_full(app_class) -> None:
    app = app_class()
    assert app.controls, f"{app_class.__name__} has no controls"
    for name, control in app.controls.items():
        assert control.description.strip(), f"{app_class.__name__}.{name} has no label"
        assert control.style.description_width == "initial", (
            f"{app_class.__name__}.{name}: the label is cut to a fixed width"
        )
        assert control.tooltip == control.description, (
            f"{app_class.__name__}.{name}: no tooltip with the full label"
        )


def test_a_control_without_a_description_is_named_after_its_key() -> None:
    controls = {
        "learning rate": widgets.FloatSlider(),
        "steps": widgets.IntSlider(description="steps", tooltip="number of steps"),
    }
    label_controls(controls)
    assert controls["learning rate"].description == "learning rate"
    assert controls["learning rate"].tooltip == "learning rate"
    assert controls["steps"].tooltip == "number of steps"  # a tooltip the app wrote is kept


def test_the_live_app_note_names_every_way_to_run_the_app() -> None:
    for way in ("Binder", "Colab", "your own computer"):
        assert way in LIVE_APP_NOTE
    assert "\n" not in LIVE_APP_NOTE
