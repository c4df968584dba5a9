"""Slider apps render offline from the widget state embedded at build time: every slider of every
app is drawn with its value, and every figure the app drew is a loaded image."""

from __future__ import annotations

from pathlib import Path

import builtsite

_RENDERED_VIEWS = """() => [...document.querySelectorAll('article .cell_output > .widget-subarea')].map((view) => ({
    sliders: view.querySelectorAll('.widget-slider').length,
    readouts: [...view.querySelectorAll('.widget-slider .widget-readout')].map((r) => r.textContent.trim()),
    labels: [...view.querySelectorAll('.widget-slider .widget-label')].map((l) => l.textContent.trim()),
    images: [...view.querySelectorAll('.widget-output img')].map((img) => ({
        loaded: img.complete && img.naturalWidth > 0,
        width: img.getBoundingClientRect().width,
        height: img.getBoundingClientRect().height,
    })),
}))"""


def test_pages_with_slider_apps_embed_their_widget_state(site: Path, widget_page: str) -> None:
    """A chapter that shows a slider app stores the widgets' state in its page (else it is blank)."""
    info = builtsite.page_info(site, widget_page)
    assert info.views, f"{widget_page}: the notebook uses coursekit.widgets but the page embeds no widget view"
    assert any(view.sliders for view in info.views), f"{widget_page}: no embedded view contains a slider"


def test_every_slider_app_renders_its_sliders_and_figure(open_page, site: Path, widget_page: str) -> None:
    expected = builtsite.page_info(site, widget_page).views
    page = open_page(widget_page).page
    rendered = page.evaluate(_RENDERED_VIEWS)
    assert len(rendered) == len(expected), f"{widget_page}: {len(expected)} widget views embedded, {len(rendered)} rendered"
    for number, (want, got) in enumerate(zip(expected, rendered), start=1):
        where = f"{widget_page}, widget view {number}"
        assert got["sliders"] == want.sliders, f"{where}: {want.sliders} sliders in the state, {got['sliders']} drawn"
        assert all(got["readouts"]), f"{where}: a slider shows no value"
        assert all(got["labels"]), f"{where}: a slider has no label"
        assert len(got["images"]) == want.images, f"{where}: {want.images} figures in the state, {len(got['images'])} shown"
        for image in got["images"]:
            assert image["loaded"], f"{where}: a figure did not load"
            assert image["width"] > 100 and image["height"] > 100, f"{where}: a figure is drawn too small to read"
