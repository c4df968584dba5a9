"""The build steps of _ext/reader_pages.py, on small inputs (no build, no browser)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

from sphinx.builders.html._assets import _JavaScript

import builtsite
from coursekit.widgets.app import LIVE_APP_NOTE

_spec = importlib.util.spec_from_file_location(
    "reader_pages_under_test", builtsite.REPO / "_ext" / "reader_pages.py"
)
reader_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reader_pages)


def test_a_figure_is_described_by_its_titles_and_axis_labels() -> None:
    source = (
        'ax.set_xlabel("step"); ax.set_ylabel("mean cross-entropy"); '
        'ax.set_title("loss during training")\nax2.set_xlabel("$x_1$"); ax2.set_ylabel("$x_2$"); '
        'ax2.set_title(r"$h_\\theta(x)$")\nplt.show()'
    )
    assert reader_pages.describe_figure(source) == (
        "loss during training: mean cross-entropy against step; h_theta(x): x_2 against x_1"
    )
    assert (
        reader_pages.describe_figure("ax.set_title(name)\nplt.show()") == ""
    )  # nothing literal to say
    assert reader_pages.describe_figure("def broken(:") == ""


def test_the_static_page_disables_every_control_and_notes_how_to_get_it_live() -> None:
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_out"]}},
        "s": {"model_name": "FloatSliderModel", "state": {"value": 2.0, "disabled": False}},
        "out": {"model_name": "OutputModel", "state": {}},
        "other": {"model_name": "HTMLModel", "state": {}},
    }
    view = '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "%s"}</script>'
    body = view % "box" + view % "other"
    context = {
        "script_files": [
            _JavaScript(
                None, type=reader_pages.WIDGET_STATE_MIME, body=json.dumps({"state": state})
            )
        ],
        "body": body,
    }
    reader_pages.static_widgets(None, "page", "page.html", context, None)
    stored = json.loads(context["script_files"][0].attributes["body"])["state"]
    assert stored["s"]["state"]["disabled"] is True and stored["s"]["state"]["value"] == 2.0
    notes = re.findall(r'<p class="course-live-note" role="note">(.*?)</p>', context["body"])
    assert notes == [LIVE_APP_NOTE], "one note, under the app with the slider only"
    assert context["body"].index("course-live-note") > context["body"].index('"box"')


def test_figures_link_to_their_full_size_image_and_load_lazily() -> None:
    body = (
        '<div class="cell_output docutils container">\n'
        '<img alt="Figure: x" src="../_images/abc.png" />\n</div>'
    )
    linked = reader_pages.link_figures(body)
    assert '<a class="course-figure-link" href="../_images/abc.png"' in linked
    assert 'loading="lazy"' in linked
    assert (
        reader_pages.link_figures('<img alt="logo" src="../_static/logo.svg">')
        == '<img alt="logo" src="../_static/logo.svg">'
    )


def test_the_layout_drops_only_the_named_script() -> None:
    head = (
        '<script defer src="../_static/scripts/fontawesome.js?digest=1"></script>\n'
        '<link rel="preload" as="script" href="../_static/scripts/bootstrap.js" />'
    )
    assert str(reader_pages.without_script(head, "_static/scripts/fontawesome.js")).strip() == (
        '<link rel="preload" as="script" href="../_static/scripts/bootstrap.js" />'
    )


def test_launch_buttons_stay_only_on_notebook_pages() -> None:
    def header(source: str) -> dict:
        app = SimpleNamespace(env=SimpleNamespace(doc2path=lambda name: f"/book/{name}{source}"))
        context = {
            "header_buttons": [
                {"label": "launch-buttons", "buttons": [{"text": "Binder"}, {"text": "Colab"}]},
                {"label": "download-buttons", "buttons": [{"text": ".ipynb"}]},
            ]
        }
        reader_pages.launch_buttons_for_published_pages(
            app, "chapters/x", "page.html", context, None
        )
        return context

    assert [group["label"] for group in header(".ipynb")["header_buttons"]] == [
        "launch-buttons",
        "download-buttons",
    ]
    assert [group["label"] for group in header(".md")["header_buttons"]] == ["download-buttons"]


def test_built_figures_are_tap_to_open_links(site: Path) -> None:
    unlinked = {}
    for path in builtsite.pages(site):
        html = (site / path).read_text(encoding="utf-8")
        images = re.findall(
            r'(<a class="course-figure-link" href="[^"]+"[^>]*>)?<img '
            r'[^>]*src="([^"]*_images/[^"]+)"',
            html,
        )
        missing = [src for link, src in images if not link]
        if missing:
            unlinked[path] = missing[:2]
    assert unlinked == {}, f"figures a phone reader cannot tap open: {unlinked}"
